//! What one user got: the variant every live change served a targeting key at a moment.

use gloo_net::http::Method;
use shared::api::UserAssignments;
use shared::paths;

use super::{ApiResult, query, send};

/// `GET /assignments?targeting_key=…&at=…&context=…`. `at` (RFC 3339) is left out when blank,
/// which the server reads as now; `context`, the user's attributes as a JSON object, when blank.
pub async fn assignments(
    targeting_key: &str,
    at: &str,
    context: &str,
) -> ApiResult<UserAssignments> {
    let mut params = vec![("targeting_key", targeting_key.to_string())];
    for (name, value) in [("at", at), ("context", context)] {
        if !value.trim().is_empty() {
            params.push((name, value.trim().to_string()));
        }
    }
    let path = format!("{}{}", paths::ASSIGNMENTS, query(&params));
    send(Method::GET, &path, None::<&()>).await
}
