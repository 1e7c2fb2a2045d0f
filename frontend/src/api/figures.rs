//! Delivery figures. The console reads them as the Markdown document the server exports
//! (`GET /api/v1/figures.md`): the page shows that document and draws its charts from the
//! document's table of weeks, so it carries no decoder of its own.

use gloo_net::http::Method;
use shared::paths;

use super::{ApiResult, exchange, query};

/// The figures from `from` (RFC 3339) to now, as Markdown.
pub async fn figures_markdown(from: &str) -> ApiResult<String> {
    let path = format!(
        "{}{}",
        paths::FIGURES_MARKDOWN,
        query(&[("from", from.to_owned())])
    );
    exchange(Method::GET, &path, None).await
}
