//! The admin page's team coordination sections: teams (members, webhook, signing secret, Atom
//! feed token) and the outgoing webhook deliveries, with a way to send one again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::auth::User;
use shared::notices::{Delivery, DeliveryStatus};
use shared::teams::{Team, TeamInput, validate_team};

use crate::api::{self, ApiError};
use crate::components::copy_button::CopyButton;
use crate::components::error_banner::{ErrorBanner, MessageBanner};
use crate::components::html::{action_target, checked_in, esc, event_form, loaded_html, value_in};
use crate::components::load::{Loaded, teams_loader};
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
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = action_target(&ev) else { return };
        let attr = |n: &str| el.get_attribute(n).unwrap_or_default();
        if attr("data-action") == "retry" {
            teams.refetch();
            return;
        }
        let id = attr("data-id");
        let list = teams
            .get_untracked()
            .and_then(Result::ok)
            .unwrap_or_default();
        let Some(team) = list.into_iter().find(|t| t.id == id) else {
            return;
        };
        match attr("data-action").as_str() {
            "edit-team" => editing.set(Some(team)),
            action @ ("rotate-secret" | "feed-token") if !pending.get_untracked() => {
                let secret = action == "rotate-secret";
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
            }
            _ => {}
        }
    };
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
            <div on:click=on_click inner_html=move || loaded_html(teams.get(), |list: Vec<Team>| {
                if list.is_empty() {
                    return r#"<p class="subtle" data-test="teams-empty">No teams yet. Add Support first: the gate asks for its notice before the canary and its acknowledgement before a ramp passes 25%.</p>"#.into();
                }
                let rows: String = list.iter().map(team_row).collect();
                format!(r#"<div class="table-scroll"><table class="table table-compact team-table"><thead><tr><th>Team</th><th>Members</th><th>Webhook</th><th>Feed</th><th><span class="sr-only">Actions</span></th></tr></thead><tbody>{rows}</tbody></table></div>"#)
            })></div>
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

fn team_row(t: &Team) -> String {
    let members: String = if t.members.is_empty() {
        r#"<span class="subtle">Nobody</span>"#.into()
    } else {
        t.members
            .iter()
            .map(|m| {
                format!(
                    r#"<span class="tag" title="{}">{}</span>"#,
                    esc(&m.email),
                    esc(&m.name)
                )
            })
            .collect()
    };
    let hook = match t.webhook_url.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => format!(
            r#"<span class="mono small hook-url" title="{0}">{0}</span>"#,
            esc(u)
        ),
        None => r#"<span class="subtle">None</span>"#.into(),
    };
    format!(
        r#"<tr data-test="team-row" data-team="{name}"><td><strong>{name}</strong></td><td><div class="role-tags">{members}</div></td><td>{hook}</td><td>{feed}</td><td class="token-actions"><button type="button" class="btn btn-small" data-action="edit-team" data-test="edit-team" data-id="{id}">Edit</button><button type="button" class="btn btn-small" data-action="rotate-secret" data-test="rotate-secret" data-id="{id}">Rotate secret</button><button type="button" class="btn btn-small" data-action="feed-token" data-test="feed-token" data-id="{id}">{feed_label}</button></td></tr>"#,
        name = esc(&t.name),
        id = esc(&t.id),
        feed = if t.has_feed_token {
            r#"<span class="tag tag-ok">Token issued</span>"#
        } else {
            r#"<span class="subtle">No token</span>"#
        },
        feed_label = if t.has_feed_token {
            "New feed URL"
        } else {
            "Create feed URL"
        },
    )
}

/// Creating a team (`team.id` empty) or editing one: name, webhook URL, members. The fields
/// are HTML text (see `components::html`), read back on submit.
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
        team.with_value(|t| team_fields_html(t, users))
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = event_form(&ev) else { return };
        let hook = value_in(&form, "[name=webhook_url]").trim().to_string();
        let members = users
            .get_untracked()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.id)
            .filter(|id| {
                checked_in(
                    &form,
                    &format!(r#"[name=team-member][value="{}"]"#, esc(id)),
                )
            })
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
            <div class="team-fields" inner_html=fields></div>
            {move || invalid.get().map(|m| view! { <MessageBanner title="Check the team" message=m /> })}
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

fn team_fields_html(t: &Team, users: Option<Result<Vec<User>, ApiError>>) -> String {
    let people = match users {
        None => r#"<span class="subtle">Loading people…</span>"#.to_string(),
        Some(Err(e)) => format!(r#"<span class="field-error">{}</span>"#, esc(&e.message())),
        Some(Ok(us)) => us
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| {
                format!(
                    r#"<label class="check-label" title="{email}"><input type="checkbox" name="team-member" value="{id}" data-test="team-member-{email}"{checked}>{name}</label>"#,
                    email = esc(&u.email),
                    id = esc(&u.id),
                    checked = if t.members.iter().any(|m| m.user_id == u.id) { " checked" } else { "" },
                    name = esc(&u.name),
                )
            })
            .collect(),
    };
    format!(
        r#"<div class="user-form"><label class="field"><span class="field-label">Name</span><input type="text" name="team-name" data-test="team-name" placeholder="e.g. Support" value="{name}"></label><label class="field team-hook"><span class="field-label">Webhook URL</span><input type="url" name="webhook_url" data-test="team-webhook" placeholder="https://hooks.slack.com/services/…" value="{hook}"><span class="field-hint">Notices are posted here in the format chat tools accept. Leave empty for none.</span></label></div><div class="field"><span class="field-label">Members</span><div class="role-picker" role="group" aria-label="Members">{people}</div></div>"#,
        name = esc(&t.name),
        hook = esc(t.webhook_url.as_deref().unwrap_or_default()),
    )
}

#[component]
pub fn DeliveriesSection() -> impl IntoView {
    let list = Loaded::new(|| (), |_| api::deliveries());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = action_target(&ev) else { return };
        if el.get_attribute("data-action").as_deref() == Some("retry") {
            list.refetch();
            return;
        }
        let id = el.get_attribute("data-id").unwrap_or_default();
        if pending.get_untracked() || id.is_empty() {
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
    };
    // Loading, failure, empty and the table are all HTML text (see `components::html`).
    let body = move || {
        let err = error
            .get()
            .map(|e| loaded_html::<()>(Some(Err(e)), |_| String::new()));
        err.unwrap_or_default()
            + &loaded_html(list.get(), |ds: Vec<Delivery>| {
                if ds.is_empty() {
                    return r#"<p class="subtle" data-test="deliveries-empty">No webhook has been called yet.</p>"#.into();
                }
                let rows: String = ds.iter().map(delivery_row).collect();
                format!(
                    r#"<div class="table-scroll"><table class="table table-compact delivery-table"><thead><tr><th>Team</th><th>Status</th><th class="num">Attempts</th><th>Last error</th><th>Queued</th><th><span class="sr-only">Actions</span></th></tr></thead><tbody>{rows}</tbody></table></div>"#
                )
            })
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
            <div on:click=on_click inner_html=body></div>
        </section>
    }
}

fn delivery_row(d: &Delivery) -> String {
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
    format!(
        r#"<tr data-test="delivery-row" data-status="{status}"><td><strong>{team}</strong><div class="subtle mono small delivery-url" title="{url}">{url}</div></td><td><span class="tag {tag}">{status}</span><div class="subtle small">{when}</div></td><td class="num">{attempts}</td><td class="small delivery-error">{error}</td><td class="subtle nowrap" title="{at}">{ago}</td><td class="token-actions"><button type="button" class="btn btn-small" data-action="resend" data-test="resend" data-id="{id}">Resend</button></td></tr>"#,
        status = d.status.as_str(),
        team = esc(if d.team_name.is_empty() {
            &d.team_id
        } else {
            &d.team_name
        }),
        url = esc(&d.url),
        attempts = d.attempts,
        when = esc(&when),
        error = esc(d.last_error.as_deref().unwrap_or("—")),
        at = esc(&format::date_time(&d.created_at)),
        ago = esc(&format::relative_time(&d.created_at)),
        id = esc(&d.id),
    )
}
