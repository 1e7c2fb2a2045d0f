//! The change feed, for support and the other teams a rollout touches: every change that is
//! live, ramping or changed recently, what changed, who it is for, and its latest notice, with
//! a way to acknowledge it. "What was live at…" switches to the same view at a past instant.
//! Filters live in the URL query so a view can be linked to. Notices shown here count as read.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::html::{action_target, esc, event_form, loaded_html, value_in};
use crate::components::load::{Loaded, teams_loader};
use crate::coord::{FeedQuery, ack_of};
use crate::{format, session};
use shared::feed::{Feed, FeedItem};
use shared::notices::{Notice, NoticeKind, NoticeStatus};
use shared::teams::Team;

/// Look-back of the changes that are not live any more; empty is the server's default (14 days).
const DAYS: [(&str, &str); 6] = [
    ("1", "Last 24 hours"),
    ("7", "Last 7 days"),
    ("", "Last 14 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last year"),
];

/// Filters as typed; `at` is a `datetime-local` value in the viewer's time zone.
fn from_query(get: impl Fn(&str) -> String) -> FeedQuery {
    FeedQuery {
        q: get("q"),
        area: get("area"),
        audience: get("audience"),
        days: get("days"),
        at: get("at"),
    }
}

fn href(f: &FeedQuery) -> String {
    let parts: Vec<String> = f
        .params()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", crate::api::encode(&v)))
        .collect();
    if parts.is_empty() {
        "/feed".into()
    } else {
        format!("/feed?{}", parts.join("&"))
    }
}

#[component]
pub fn FeedPage() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        let q = query.read();
        from_query(|k| q.get(k).unwrap_or_default())
    });
    let data = Loaded::new(
        move || {
            let mut q = current.get();
            q.at = format::local_to_utc(&q.at);
            q
        },
        |q| async move { api::feed(&q).await },
    );
    let teams = teams_loader();
    let me = session::user().map(|u| u.id).unwrap_or_default();
    // The teams the user acknowledges for.
    let my_teams = Memo::new(move |_| {
        teams
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.members.iter().any(|m| m.user_id == me))
            .collect::<Vec<Team>>()
    });
    let navigate = use_navigate();
    // The filters are HTML text (see `components::html`), drawn from the URL and read back
    // when submitted.
    let apply = move |form: web_sys::Element| {
        let v = |name: &str| value_in(&form, &format!("[name={name}]"));
        let f = FeedQuery {
            q: v("q"),
            area: v("area"),
            audience: v("audience"),
            days: v("days"),
            at: v("at"),
        };
        navigate(&href(&f), NavigateOptions::default());
    };
    let on_submit = {
        let apply = apply.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if let Some(form) = event_form(&ev) {
                apply(form);
            }
        }
    };
    // Picking a time, an audience or a span applies at once; text waits for Enter or Apply.
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let typed = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                el.get_attribute("type").as_deref() == Some("search")
                    || el.get_attribute("name").as_deref() == Some("area")
            });
        if !typed && let Some(form) = event_form(&ev) {
            apply(form);
        }
    };
    let filters = move || {
        let teams = teams.get().and_then(Result::ok).unwrap_or_default();
        current.with(|c| filters_html(c, &teams))
    };

    // The user's unread notices are listed above the feed, then marked read: they have been
    // shown. The list keeps what was loaded, so they stay on screen until the next visit.
    let unread = RwSignal::new(None::<Result<Vec<Notice>, ApiError>>);
    spawn_local(async move {
        let r = api::unread().await.map(|u| u.items);
        let ids: Vec<String> = match &r {
            Ok(items) => items.iter().map(|n| n.id.clone()).collect(),
            Err(_) => Vec::new(),
        };
        unread.try_set(Some(r));
        let mut marked = false;
        for id in ids {
            marked |= api::mark_read(&id).await.is_ok();
        }
        if marked {
            session::inbox_changed();
        }
    });

    let busy = RwSignal::new(false);
    let action_error = RwSignal::new(None::<ApiError>);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = action_target(&ev) else { return };
        let attr = |n: &str| el.get_attribute(n).unwrap_or_default();
        if attr("data-action") == "retry" {
            data.refetch();
            return;
        }
        if attr("data-action") != "acknowledge" || busy.get_untracked() {
            return;
        }
        let (notice, team) = (attr("data-notice"), attr("data-team-id"));
        busy.set(true);
        action_error.set(None);
        spawn_local(async move {
            match api::acknowledge(&notice, &team).await {
                Ok(n) => {
                    unread.update(|u| {
                        if let Some(Ok(items)) = u
                            && let Some(x) = items.iter_mut().find(|x| x.id == n.id)
                        {
                            *x = n;
                        }
                    });
                    data.refetch();
                    session::inbox_changed();
                }
                Err(e) => action_error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let historical = move || !current.with(|c| c.at.trim().is_empty());

    view! {
        <div class="page feed-page">
            <div class="page-head">
                <div>
                    <h1>"Change feed"</h1>
                    <p class="page-lede">"What is live or ramping for which audience, what users may notice, and the notice each team was sent. Notices shown here count as read."</p>
                </div>
            </div>
            <form class="card feed-filters" on:submit=on_submit on:change=on_change inner_html=filters></form>
            {move || historical().then(|| view! {
                <div class="banner banner-history" role="status" data-test="feed-historical">
                    <strong>{format!("What was live at {}", format::date_time(&format::local_to_utc(&current.with(|c| c.at.clone()))))}</strong>
                    <span class="subtle">" · traffic shares and notices as they stood then. "</span>
                    <a href=move || href(&FeedQuery { at: String::new(), ..current.get() })>"Back to now"</a>
                </div>
            })}
            {move || action_error.get().map(|e| view! { <ErrorBanner error=e /> })}
            {move || {
                let mine = my_teams.get();
                unread.with(|u| match u {
                    Some(Ok(items)) if !items.is_empty() => Some(unread_html(items, &mine)),
                    _ => None,
                })
                .map(|html| view! { <section class="feed-unread" data-test="feed-unread" on:click=on_click inner_html=html></section> })
            }}
            // Loading, failure, empty and the feed are HTML text (see `components::html`).
            <div on:click=on_click inner_html=move || {
                let mine = my_teams.get();
                let past = historical();
                loaded_html(data.get(), |feed: Feed| {
                    if feed.items.is_empty() {
                        return r#"<div class="card empty-state empty-inline" data-test="feed-empty"><h2>Nothing to show</h2><p class="subtle">No change is live, ramping or changed recently for these filters.</p></div>"#.into();
                    }
                    let items: String = feed.items.iter().map(|i| item_html(i, &mine, past)).collect();
                    format!(r#"<ul class="feed">{items}</ul>"#)
                })
            }></div>
        </div>
    }
}

/// The filter form as HTML text, showing `f`.
fn filters_html(f: &FeedQuery, teams: &[Team]) -> String {
    let option = |value: &str, label: &str, current: &str| {
        format!(
            r#"<option value="{}"{}>{}</option>"#,
            esc(value),
            if value == current { " selected" } else { "" },
            esc(label)
        )
    };
    let mut audiences = option("", "Every team", &f.audience);
    for t in teams {
        audiences += &option(&t.id, &t.name, &f.audience);
    }
    let days: String = DAYS
        .iter()
        .map(|(v, label)| option(v, label, &f.days))
        .collect();
    format!(
        r#"<label class="field feed-search"><span class="field-label">Search</span><input type="search" name="q" data-test="feed-search" placeholder="Title, setting, behaviour…" value="{q}"></label><label class="field"><span class="field-label">Product area</span><input type="text" name="area" data-test="feed-area" placeholder="e.g. billing" value="{area}"></label><label class="field"><span class="field-label">Audience</span><select name="audience" data-test="feed-audience">{audiences}</select></label><label class="field"><span class="field-label">Also changed in</span><select name="days" data-test="feed-days">{days}</select></label><label class="field"><span class="field-label">What was live at…</span><input type="datetime-local" name="at" data-test="feed-at" value="{at}"></label><div class="feed-filter-actions"><button type="submit" class="btn btn-primary" data-test="feed-apply">Apply</button><a class="btn btn-ghost" href="/feed">Clear</a></div>"#,
        q = esc(&f.q),
        area = esc(&f.area),
        at = esc(&f.at),
    )
}

/// One change as HTML text (see `components::html` for why text); every value is escaped.
fn item_html(i: &FeedItem, mine: &[Team], past: bool) -> String {
    let since = format!(
        r#"<span class="subtle" title="{}" data-test="feed-since">since {}</span>"#,
        esc(&format::date_time(&i.since)),
        esc(&format::relative_time(&i.since))
    );
    let area = i
        .product_area
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|a| {
            format!(
                r#"<span class="tag" data-test="feed-area-tag">{}</span>"#,
                esc(a)
            )
        })
        .unwrap_or_default();
    let audiences = if i.audiences.is_empty() {
        r#"<span class="subtle">No team addressed</span>"#.to_string()
    } else {
        i.audiences
            .iter()
            .map(|a| format!(r#"<span class="tag">{}</span>"#, esc(&a.team_name)))
            .collect()
    };
    let block = |title: &str, text: &str| {
        if text.trim().is_empty() {
            String::new()
        } else {
            format!(
                r#"<div class="feed-block"><h3>{title}</h3><p class="prose">{}</p></div>"#,
                esc(text.trim())
            )
        }
    };
    let notice = match &i.latest_notice {
        Some(n) => notice_summary(n, mine, past),
        None => {
            r#"<p class="subtle feed-no-notice">No notice was sent for this change.</p>"#.into()
        }
    };
    format!(
        r#"<li class="card feed-item" data-test="feed-item" data-change-id="{id}" data-state="{state}"><div class="feed-head"><div><a class="feed-title" href="/changes/{id}">{title}</a><div class="feed-meta"><span class="tag kind-{kind}">{kind_label}</span><span class="badge state-{state}" data-test="state-badge" data-state="{state}"><span class="badge-dot" aria-hidden="true"></span>{label}</span>{area}{since}</div></div><div class="feed-traffic"><span class="callout-label">Traffic</span><strong data-test="feed-traffic">{traffic}</strong></div></div>{expected}<div class="feed-audiences"><span class="subtle">Audiences </span>{audiences}</div>{notice}</li>"#,
        id = esc(&i.change_id),
        state = i.state.name(),
        kind = i.kind.as_str(),
        kind_label = i.kind.label(),
        title = esc(&i.title),
        label = esc(&i.state_label),
        traffic = esc(&format::percent(i.traffic_percent)),
        expected = block("What users may notice", &i.expected_changes),
    )
}

/// The user's unread notices, each with its change and Acknowledge, as HTML text.
fn unread_html(items: &[Notice], mine: &[Team]) -> String {
    let mut out = format!(
        r#"<h2 class="section-title">New for your teams · {}</h2><ul class="feed">"#,
        items.len()
    );
    for n in items {
        out += &format!(
            r#"<li class="card feed-item feed-unread-item" data-test="unread-notice" data-notice="{id}"><a class="feed-title" href="/changes/{change}">{title}</a>{notice}</li>"#,
            id = esc(&n.id),
            change = esc(&n.change_id),
            title = esc(&n.change_title),
            notice = notice_summary(n, mine, false),
        );
    }
    out + "</ul>"
}

/// The latest notice of a change in the feed, with Acknowledge for each of the user's teams
/// it is addressed to and that has not acknowledged yet (not in the historical view).
fn notice_summary(n: &Notice, mine: &[Team], past: bool) -> String {
    let planned = n
        .planned_at
        .as_deref()
        .map(|p| format!(" · planned {}", esc(&format::date_time(p))))
        .unwrap_or_default();
    let acks: String = n
        .audience
        .iter()
        .map(|a| ack_chip(n, &a.team_id, &a.team_name))
        .collect();
    let buttons = if past {
        String::new()
    } else {
        ack_buttons(n, mine)
    };
    let points = if n.talking_points.trim().is_empty() {
        String::new()
    } else {
        format!(
            r#"<p class="prose"><span class="subtle">Talking points: </span>{}</p>"#,
            esc(n.talking_points.trim())
        )
    };
    let published = n
        .published_at
        .as_deref()
        .map(|p| format!("Published {}", esc(&format::relative_time(p))))
        .unwrap_or_else(|| "Not published".into());
    format!(
        r#"<div class="feed-notice" data-test="feed-notice" data-kind="{kind}" data-status="{status}"><div class="notice-line">{kind_tag}<span class="subtle">{published}{planned}</span></div><p class="prose">{text}</p>{points}<div class="ack-row">{acks}{buttons}</div></div>"#,
        kind = n.kind.as_str(),
        status = n.status.as_str(),
        kind_tag = kind_tag(n.kind),
        text = esc(n.expected_changes.trim()),
    )
}

/// "Acknowledge for Support", one per team of the user's that `n` is addressed to and that
/// has not acknowledged it; only published notices can be acknowledged.
pub fn ack_buttons(n: &Notice, mine: &[Team]) -> String {
    if n.status != NoticeStatus::Published {
        return String::new();
    }
    mine.iter()
        .filter(|t| n.audience.iter().any(|a| a.team_id == t.id) && ack_of(n, &t.id).is_none())
        .map(|t| {
            format!(
                r#"<button type="button" class="btn btn-small btn-primary" data-action="acknowledge" data-test="acknowledge" data-notice="{}" data-team-id="{}">Acknowledge for {}</button>"#,
                esc(&n.id),
                esc(&t.id),
                esc(&t.name)
            )
        })
        .collect()
}

/// "Notice", "Rollback", … as a tag.
pub fn kind_tag(kind: NoticeKind) -> String {
    let label = match kind {
        NoticeKind::Rollback => "Rollback",
        NoticeKind::Full => "Full traffic",
        NoticeKind::Skipped => "Stage skipped",
        NoticeKind::Manual => "Notice",
    };
    format!(
        r#"<span class="tag notice-kind kind-{}">{label}</span>"#,
        kind.as_str()
    )
}

/// One audience team's acknowledgement: who and when, or still waiting.
pub fn ack_chip(n: &Notice, team_id: &str, team_name: &str) -> String {
    match ack_of(n, team_id) {
        Some(a) => format!(
            r#"<span class="ack ack-done" data-test="ack" data-team="{team}" data-acked="true" title="{when}">✓ {team} · {who} · {ago}</span>"#,
            team = esc(team_name),
            who = esc(&a.user_name),
            when = esc(&format::date_time(&a.at)),
            ago = esc(&format::relative_time(&a.at)),
        ),
        None => format!(
            r#"<span class="ack" data-test="ack" data-team="{0}" data-acked="false">{0} · not acknowledged</span>"#,
            esc(team_name)
        ),
    }
}
