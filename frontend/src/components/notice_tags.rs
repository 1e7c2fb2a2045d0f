//! Small pieces of a notice shared by the change page's notices panel and the change feed: its
//! kind, each team's acknowledgement, and the Acknowledge buttons.

use leptos::prelude::*;
use shared::notices::{Notice, NoticeKind, NoticeStatus};
use shared::teams::Team;

use crate::coord::ack_of;
use crate::format;

/// "Notice", "Rollback", … as a tag.
pub fn kind_tag(kind: NoticeKind) -> impl IntoView {
    let label = match kind {
        NoticeKind::Rollback => "Rollback",
        NoticeKind::Full => "Full traffic",
        NoticeKind::Skipped => "Stage skipped",
        NoticeKind::Manual => "Notice",
    };
    view! { <span class=format!("tag notice-kind kind-{}", kind.as_str())>{label}</span> }
}

/// Every audience team's acknowledgement of `n`: who and when, or still waiting.
pub fn ack_chips(n: &Notice) -> impl IntoView + use<> {
    n.audience
        .iter()
        .map(|a| match ack_of(n, &a.team_id) {
            Some(ack) => view! {
                <span class="ack ack-done" data-test="ack" data-team=a.team_name.clone() data-acked="true" title=format::date_time(&ack.at)>
                    {format!("✓ {} · {} · {}", a.team_name, ack.user_name, format::relative_time(&ack.at))}
                </span>
            }
            .into_any(),
            None => view! {
                <span class="ack" data-test="ack" data-team=a.team_name.clone() data-acked="false">
                    {format!("{} · not acknowledged", a.team_name)}
                </span>
            }
            .into_any(),
        })
        .collect_view()
}

/// The user's teams that `n` is addressed to and that have not acknowledged it, if it can be
/// acknowledged (only published notices can).
pub fn ack_teams<'a>(n: &Notice, mine: &'a [Team]) -> Vec<&'a Team> {
    if n.status != NoticeStatus::Published {
        return Vec::new();
    }
    mine.iter()
        .filter(|t| n.audience.iter().any(|a| a.team_id == t.id) && ack_of(n, &t.id).is_none())
        .collect()
}

/// "Acknowledge for Support", one per team of [`ack_teams`]. A click runs
/// `acknowledge` with (notice id, team id).
pub fn ack_buttons(
    n: &Notice,
    mine: &[Team],
    acknowledge: Callback<(String, String)>,
) -> impl IntoView + use<> {
    ack_teams(n, mine)
        .into_iter()
        .map(|t| {
            let ids = (n.id.clone(), t.id.clone());
            view! {
                <button type="button" class="btn btn-small btn-primary" data-test="acknowledge"
                    on:click=move |_| acknowledge.run(ids.clone())>
                    {format!("Acknowledge for {}", t.name)}
                </button>
            }
        })
        .collect_view()
}
