//! The admin page's team coordination sections: teams (members, webhook, signing secret, Atom
//! feed token) and the outgoing webhook deliveries, with a way to send one again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::auth::User;
use shared::notices::{Delivery, DeliveryStatus};
use shared::teams::{Team, TeamInput, validate_team};

use crate::api::{self, ApiError};
use crate::components::copy_button::CopyButton;
use crate::components::error_banner::{ErrorBanner, Problem};
use crate::components::form_read::{checked_values, event_form, value_in};
use crate::components::load::{Loaded, teams_loader};
use crate::components::skeleton::LinesSkeleton;
use crate::format;

/// A value the server shows once: a new signing secret or feed URL.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    what: String,
    value: String,
}

#[component]
pub fn TeamsSection() -> impl IntoView {
    let teams = teams_loader();
    let users = Loaded::new(|| (), |_| api::users());
    let editing = RwSignal::new(None::<Team>);
    let shown = RwSignal::new(None::<Shown>);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // Rotating the signing secret (`true`) or issuing a new feed URL (`false`).
    let issue = Callback::new(move |(team, secret): (Team, bool)| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        shown.set(None);
        spawn_local(async move {
            let r = if secret {
                api::rotate_team_secret(&team.id)
                    .await
                    .map(|s| s.webhook_secret)
            } else {
                api::create_feed_token(&team.id)
                    .await
                    .map(|f| feed_url(&f.feed_path))
            };
            match r {
                Ok(v) => {
                    shown.set(Some(Shown {
                        what: if secret {
                            format!("New webhook signing secret of {}", team.name)
                        } else {
                            format!("Atom feed URL of {}", team.name)
                        },
                        value: v,
                    }));
                    teams.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    });
    let edit = Callback::new(move |team: Team| editing.set(Some(team)));
    let new_team = move |_| {
        editing.set(Some(Team {
            id: String::new(),
            name: String::new(),
            members: Vec::new(),
            webhook_url: None,
            has_feed_token: false,
            created_at: String::new(),
            updated_at: String::new(),
        }))
    };
    view! {
        <section class="card" id="teams" data-test="teams">
            <div class="card-head">
                <div>
                    <h2>"Teams"</h2>
                    <p class="card-sub">"The teams notices go to. Members acknowledge for their team; the webhook posts each notice to the team's chat, signed with the team's secret; the Atom feed lets a team follow notices in a reader."</p>
                </div>
                <button type="button" class="btn" data-test="new-team" on:click=new_team>"Add a team"</button>
            </div>
            {move || shown.get().map(|s| view! {
                <div class="secret-box" data-test="team-secret-box" role="status">
                    <div class="secret-warn">
                        <strong>{format!("{}.", s.what)}</strong>
                        " Copy it now: it is not stored in a readable form and will not be shown again."
                    </div>
                    <div class="copy-box">
                        <pre class="code" data-test="team-secret">{s.value.clone()}</pre>
                        <CopyButton text=s.value.clone() />
                    </div>
                    <button type="button" class="btn btn-small" on:click=move |_| shown.set(None)>"I have stored it"</button>
                </div>
            })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            {teams.view(|| view! { <LinesSkeleton /> }.into_any(), move |list: Vec<Team>| {
                if list.is_empty() {
                    return view! {
                        <p class="subtle" data-test="teams-empty">"No teams yet. Add Support first: the gate asks for its notice before the canary and its acknowledgement before a ramp passes 25%."</p>
                    }
                    .into_any();
                }
                view! {
                    <div class="table-scroll">
                        <table class="table table-compact team-table">
                            <thead><tr><th>"Team"</th><th>"Members"</th><th>"Webhook"</th><th>"Feed"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>{list.into_iter().map(|t| team_row(t, edit, issue)).collect_view()}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            })}
            {move || editing.get().map(|t| view! { <TeamEditor team=t users=users editing=editing teams=teams shown=shown /> })}
        </section>
    }
}

/// The feed's absolute URL, to paste in a feed reader.
fn feed_url(path: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{origin}{path}")
    }
}

fn team_row(t: Team, edit: Callback<Team>, issue: Callback<(Team, bool)>) -> impl IntoView {
    let members = if t.members.is_empty() {
        view! { <span class="subtle">"Nobody"</span> }.into_any()
    } else {
        t.members
            .iter()
            .map(|m| view! { <span class="tag" title=m.email.clone()>{m.name.clone()}</span> })
            .collect_view()
            .into_any()
    };
    let hook = match t.webhook_url.clone().filter(|u| !u.is_empty()) {
        Some(u) => {
            let title = u.clone();
            view! { <span class="mono small hook-url" title=title>{u}</span> }.into_any()
        }
        None => view! { <span class="subtle">"None"</span> }.into_any(),
    };
    let feed = if t.has_feed_token {
        view! { <span class="tag tag-ok">"Token issued"</span> }
    } else {
        view! { <span class="subtle">"No token"</span> }
    };
    let feed_label = if t.has_feed_token {
        "New feed URL"
    } else {
        "Create feed URL"
    };
    let team = StoredValue::new(t.clone());
    view! {
        <tr data-test="team-row" data-team=t.name.clone()>
            <td><strong>{t.name.clone()}</strong></td>
            <td><div class="role-tags">{members}</div></td>
            <td>{hook}</td>
            <td>{feed}</td>
            <td class="token-actions">
                <button type="button" class="btn btn-small" data-test="edit-team" on:click=move |_| edit.run(team.get_value())>"Edit"</button>
                <button type="button" class="btn btn-small" data-test="rotate-secret" on:click=move |_| issue.run((team.get_value(), true))>"Rotate secret"</button>
                <button type="button" class="btn btn-small" data-test="feed-token" on:click=move |_| issue.run((team.get_value(), false))>{feed_label}</button>
            </td>
        </tr>
    }
}

/// Creating a team (`team.id` empty) or editing one: name, webhook URL, members. The fields
/// are drawn once and read back from the form on submit.
#[component]
fn TeamEditor(
    team: Team,
    users: Loaded<Vec<User>>,
    editing: RwSignal<Option<Team>>,
    teams: Loaded<Vec<Team>>,
    shown: RwSignal<Option<Shown>>,
) -> impl IntoView {
    let new = team.id.is_empty();
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let invalid = RwSignal::new(None::<String>);
    let id = StoredValue::new(team.id.clone());
    let title = if new {
        "Add a team".to_string()
    } else {
        format!("Edit {}", team.name)
    };
    let team = StoredValue::new(team);
    let fields = move || {
        let users = users.get();
        team.with_value(|t| team_fields(t, users))
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = event_form(&ev) else { return };
        let hook = value_in(&form, "[name=webhook_url]").trim().to_string();
        let checked = checked_values(&form, "team-member");
        let members = users
            .get_untracked()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.id)
            .filter(|id| checked.contains(id))
            .collect();
        let body = TeamInput {
            name: value_in(&form, "[name=team-name]").trim().to_string(),
            members,
            webhook_url: (!hook.is_empty()).then_some(hook),
        };
        // The server's rules, for an instant answer.
        if let Err(e) = validate_team(&body) {
            invalid.set(Some(format!("{}.", format::capitalise(&e.message))));
            return;
        }
        invalid.set(None);
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            let id = id.get_value();
            let r = if id.is_empty() {
                // A new team's signing secret comes with it, shown this once.
                api::create_team(&body).await.map(|c| {
                    shown.set(Some(Shown {
                        what: format!("Webhook signing secret of {}", c.team.name),
                        value: c.webhook_secret,
                    }));
                })
            } else {
                api::update_team(&id, &body).await.map(|_| ())
            };
            match r {
                Ok(()) => {
                    editing.set(None);
                    teams.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    view! {
        <form class="user-editor" data-test="team-editor" on:submit=save>
            <h3>{title}</h3>
            <div class="team-fields">{fields}</div>
            {move || invalid.get().map(|m| view! { <ErrorBanner error=Problem::new("Check the team", m) /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            <div class="policy-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button>
                <button type="submit" class="btn btn-primary" data-test="save-team" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else if new { "Add team" } else { "Save" }}
                </button>
            </div>
        </form>
    }
}

fn team_fields(t: &Team, users: Option<Result<Vec<User>, ApiError>>) -> impl IntoView + use<> {
    let people = match users {
        None => view! { <span class="subtle">"Loading people…"</span> }.into_any(),
        Some(Err(e)) => view! { <span class="field-error">{e.message()}</span> }.into_any(),
        Some(Ok(us)) => us
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| {
                let checked = t.members.iter().any(|m| m.user_id == u.id);
                view! {
                    <label class="check-label" title=u.email.clone()>
                        <input type="checkbox" name="team-member" value=u.id data-test=format!("team-member-{}", u.email) checked=checked />
                        {u.name}
                    </label>
                }
            })
            .collect_view()
            .into_any(),
    };
    view! {
        <div class="user-form">
            <label class="field">
                <span class="field-label">"Name"</span>
                <input type="text" name="team-name" data-test="team-name" placeholder="e.g. Support" value=t.name.clone() />
            </label>
            <label class="field team-hook">
                <span class="field-label">"Webhook URL"</span>
                <input type="url" name="webhook_url" data-test="team-webhook" placeholder="https://hooks.slack.com/services/…" value=t.webhook_url.clone().unwrap_or_default() />
                <span class="field-hint">"Notices are posted here in the format chat tools accept. Leave empty for none."</span>
            </label>
        </div>
        <div class="field">
            <span class="field-label">"Members"</span>
            <div class="role-picker" role="group" aria-label="Members">{people}</div>
        </div>
    }
}

#[component]
pub fn DeliveriesSection() -> impl IntoView {
    let list = Loaded::new(|| (), |_| api::deliveries());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let resend = Callback::new(move |id: String| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::resend_delivery(&id).await {
                Ok(()) => list.refetch(),
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    });
    let body = move |ds: Vec<Delivery>| {
        if ds.is_empty() {
            return view! { <p class="subtle" data-test="deliveries-empty">"No webhook has been called yet."</p> }
                .into_any();
        }
        view! {
            <div class="table-scroll">
                <table class="table table-compact delivery-table">
                    <thead><tr><th>"Team"</th><th>"Status"</th><th class="num">"Attempts"</th><th>"Last error"</th><th>"Queued"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{ds.into_iter().map(|d| delivery_row(d, resend)).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" id="deliveries" data-test="deliveries">
            <div class="card-head">
                <div>
                    <h2>"Webhook deliveries"</h2>
                    <p class="card-sub">"Each notice posted to a team's webhook. Failed deliveries are retried with a growing delay; send one again once its endpoint is fixed."</p>
                </div>
                <button type="button" class="btn btn-small" data-test="refresh-deliveries" on:click=move |_| list.refetch()>"Refresh"</button>
            </div>
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            {list.view(|| view! { <LinesSkeleton /> }.into_any(), body)}
        </section>
    }
}

fn delivery_row(d: Delivery, resend: Callback<String>) -> impl IntoView {
    let tag = match d.status {
        DeliveryStatus::Delivered => "tag-ok",
        DeliveryStatus::Failed => "tag-danger",
        DeliveryStatus::Pending => "tag-missing",
    };
    // Pending: when the next attempt is due; delivered: when it arrived.
    let when = match (d.status, d.delivered_at.as_deref()) {
        (DeliveryStatus::Delivered, Some(at)) => format!("delivered {}", format::relative_time(at)),
        (DeliveryStatus::Pending, _) => {
            format!("next try {}", format::date_time(&d.next_attempt_at))
        }
        _ => String::new(),
    };
    let team = if d.team_name.is_empty() {
        d.team_id.clone()
    } else {
        d.team_name.clone()
    };
    let id = d.id.clone();
    view! {
        <tr data-test="delivery-row" data-status=d.status.as_str()>
            <td><strong>{team}</strong><div class="subtle mono small delivery-url" title=d.url.clone()>{d.url.clone()}</div></td>
            <td><span class=format!("tag {tag}")>{d.status.as_str()}</span><div class="subtle small">{when}</div></td>
            <td class="num">{d.attempts}</td>
            <td class="small delivery-error">{d.last_error.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="subtle nowrap" title=format::date_time(&d.created_at)>{format::relative_time(&d.created_at)}</td>
            <td class="token-actions">
                <button type="button" class="btn btn-small" data-test="resend" on:click=move |_| resend.run(id.clone())>"Resend"</button>
            </td>
        </tr>
    }
}
