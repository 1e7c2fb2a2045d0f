//! A change's health (`shared::health`) as a chip: Pass, Breach, Held… in the comparison's
//! verdict colours, with its reason on hover or written beside it.

use leptos::prelude::*;
use shared::health::ChangeHealth;

#[component]
pub fn HealthChip(
    health: ChangeHealth,
    /// Writes the reason beside the chip (else it is the chip's tooltip only).
    #[prop(optional)]
    reason: bool,
) -> impl IntoView {
    let kind = health.kind.as_str();
    let chip = view! {
        <span class=format!("verdict verdict-{kind}") data-test="health" data-health=kind title=health.reason.clone()>
            {health.kind.label()}
        </span>
    };
    view! {
        {chip}
        {reason.then(|| view! { <span class="subtle" data-test="health-reason">{format!(" {}", health.reason)}</span> })}
    }
}
