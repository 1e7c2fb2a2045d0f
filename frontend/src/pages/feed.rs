//! The change feed, for support and the other teams a rollout touches: every change that is
//! live, ramping or changed recently, what changed, who it is for, and its latest notice, with
//! a way to acknowledge it. "What was live at…" switches to the same view at a past instant.
//! Above it, "Look up a user" ([`UserLookup`]) answers which variant one user got.
//! Filters live in the URL query so a view can be linked to. Notices shown here count as read.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_read::{event_form, value_in};
use crate::components::load::{Loaded, teams_loader};
use crate::components::notice_tags::{ack_buttons, ack_chips, ack_teams, kind_tag};
use crate::components::skeleton::LinesSkeleton;
use crate::components::tags::{KindTag, StateBadge};
use crate::coord::FeedQuery;
use crate::pages::user_lookup::UserLookup;
use crate::{format, session};
use shared::feed::{Feed, FeedItem};
use shared::notices::Notice;
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
    // The filters are drawn from the URL and read back from the form when submitted.
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
        current.with(|c| filter_fields(c, &teams))
    };

    // The user's unread notices, and those a team of theirs has still to acknowledge, are
    // listed above the feed, then marked read: they have been shown. The list keeps what was
    // loaded, so they stay on screen until the next visit; one still waiting for the team's
    // acknowledgement comes back on every visit until a member acknowledges it.
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
    let acknowledge = Callback::new(move |(notice, team): (String, String)| {
        if busy.get_untracked() {
            return;
        }
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
    });
    let historical = move || !current.with(|c| c.at.trim().is_empty());

    view! {
        <div class="page feed-page">
            <div class="page-head">
                <div>
                    <h1>"Change feed"</h1>
                    <p class="page-lede">"What is live or ramping for which audience, what users may notice, and the notice each team was sent. Notices shown here count as read."</p>
                </div>
            </div>
            <UserLookup />
            <form class="card feed-filters" on:submit=on_submit on:change=on_change>{filters}</form>
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
                unread.with(|u| {
                    let Some(Ok(items)) = u else { return None };
                    // Read is not acknowledged: what a team of the user has still to
                    // acknowledge is listed apart, and the server keeps it until then.
                    let (waiting, news): (Vec<&Notice>, Vec<&Notice>) =
                        items.iter().partition(|n| !ack_teams(n, &mine).is_empty());
                    Some(view! {
                        {unread_list("Needs your acknowledgement", "needs-ack", &waiting, &mine, acknowledge)}
                        {unread_list("New for your teams", "feed-unread", &news, &mine, acknowledge)}
                    })
                })
            }}
            {mentions()}
            {data.view(|| view! { <LinesSkeleton /> }.into_any(), move |feed: Feed| {
                let mine = my_teams.get();
                let past = historical();
                if feed.items.is_empty() {
                    return view! {
                        <div class="card empty-state empty-inline" data-test="feed-empty">
                            <h2>"Nothing to show"</h2>
                            <p class="subtle">"No change is live, ramping or changed recently for these filters."</p>
                        </div>
                    }
                    .into_any();
                }
                view! {
                    <ul class="feed">
                        {feed.items.iter().map(|i| feed_item(i, &mine, past, acknowledge)).collect_view()}
                    </ul>
                }
                .into_any()
            })}
        </div>
    }
}

/// The filter form's fields, showing `f`.
fn filter_fields(f: &FeedQuery, teams: &[Team]) -> impl IntoView + use<> {
    let option = |value: &str, label: &str, current: &str| {
        view! { <option value=value.to_string() selected=value == current>{label.to_string()}</option> }
    };
    let mut audiences = vec![option("", "Every team", &f.audience)];
    audiences.extend(teams.iter().map(|t| option(&t.id, &t.name, &f.audience)));
    let days: Vec<_> = DAYS
        .iter()
        .map(|(v, label)| option(v, label, &f.days))
        .collect();
    view! {
        <label class="field feed-search">
            <span class="field-label">"Search"</span>
            <input type="search" name="q" data-test="feed-search" placeholder="Title, setting, behaviour…" value=f.q.clone() />
        </label>
        <label class="field">
            <span class="field-label">"Product area"</span>
            <input type="text" name="area" data-test="feed-area" placeholder="e.g. billing" value=f.area.clone() />
        </label>
        <label class="field">
            <span class="field-label">"Audience"</span>
            <select name="audience" data-test="feed-audience">{audiences}</select>
        </label>
        <label class="field">
            <span class="field-label">"Also changed in"</span>
            <select name="days" data-test="feed-days">{days}</select>
        </label>
        <label class="field">
            <span class="field-label">"What was live at…"</span>
            <input type="datetime-local" name="at" data-test="feed-at" value=f.at.clone() />
        </label>
        <div class="feed-filter-actions">
            <button type="submit" class="btn btn-primary" data-test="feed-apply">"Apply"</button>
            <a class="btn btn-ghost" href="/feed">"Clear"</a>
        </div>
    }
}

/// A titled paragraph of text, or nothing when the text is blank.
fn text_block(title: &'static str, text: &str) -> Option<impl IntoView + use<>> {
    let text = text.trim();
    (!text.is_empty()).then(|| {
        view! {
            <div class="feed-block"><h3>{title}</h3><p class="prose">{text.to_string()}</p></div>
        }
    })
}

/// One change in the feed: where it stands, for whom, and its latest notice.
fn feed_item(
    i: &FeedItem,
    mine: &[Team],
    past: bool,
    acknowledge: Callback<(String, String)>,
) -> impl IntoView + use<> {
    let area = i
        .product_area
        .clone()
        .filter(|a| !a.is_empty())
        .map(|a| view! { <span class="tag" data-test="feed-area-tag">{a}</span> });
    let audiences = if i.audiences.is_empty() {
        view! { <span class="subtle">"No team addressed"</span> }.into_any()
    } else {
        i.audiences
            .iter()
            .map(|a| view! { <span class="tag">{a.team_name.clone()}</span> })
            .collect_view()
            .into_any()
    };
    let notice = match &i.latest_notice {
        Some(n) => feed_notice(n, mine, past, acknowledge).into_any(),
        None => {
            view! { <p class="subtle feed-no-notice">"No notice was sent for this change."</p> }
                .into_any()
        }
    };
    view! {
        <li class="card feed-item" data-test="feed-item" data-change-id=i.change_id.clone() data-state=i.state.name()>
            <div class="feed-head">
                <div>
                    <a class="feed-title" href=format!("/changes/{}", i.change_id)>{i.title.clone()}</a>
                    <div class="feed-meta">
                        <KindTag kind=i.kind />
                        <StateBadge state=i.state label=i.state_label.clone() />
                        {area}
                        <span class="subtle" title=format::date_time(&i.since) data-test="feed-since">
                            {format!("since {}", format::relative_time(&i.since))}
                        </span>
                    </div>
                </div>
                <div class="feed-traffic">
                    <span class="callout-label">"Traffic"</span>
                    <strong data-test="feed-traffic">{format::percent(i.traffic_percent)}</strong>
                </div>
            </div>
            {text_block("What users may notice", &i.expected_changes)}
            <div class="feed-audiences"><span class="subtle">"Audiences "</span>{audiences}</div>
            {notice}
        </li>
    }
}

/// A titled list of the user's notices, each with its change and Acknowledge; nothing when
/// there are none.
fn unread_list(
    title: &'static str,
    hook: &'static str,
    items: &[&Notice],
    mine: &[Team],
    acknowledge: Callback<(String, String)>,
) -> Option<impl IntoView + use<>> {
    (!items.is_empty()).then(|| {
        view! {
            <section class="feed-unread" data-test=hook>
                <h2 class="section-title">{format!("{title} · {}", items.len())}</h2>
                <ul class="feed">
                    {items.iter().map(|n| view! {
                        <li class="card feed-item feed-unread-item" data-test="unread-notice" data-notice=n.id.clone()>
                            <a class="feed-title" href=format!("/changes/{}", n.change_id)>{n.change_title.clone()}</a>
                            {feed_notice(n, mine, false, acknowledge)}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

/// The latest notice of a change in the feed, with Acknowledge for each of the user's teams
/// it is addressed to and that has not acknowledged yet (not in the historical view).
fn feed_notice(
    n: &Notice,
    mine: &[Team],
    past: bool,
    acknowledge: Callback<(String, String)>,
) -> impl IntoView + use<> {
    let planned = n
        .planned_at
        .as_deref()
        .map(|p| format!(" · planned {}", format::date_time(p)))
        .unwrap_or_default();
    let published = n
        .published_at
        .as_deref()
        .map(|p| format!("Published {}", format::relative_time(p)))
        .unwrap_or_else(|| "Not published".into());
    let points = n.talking_points.trim();
    let points = (!points.is_empty()).then(|| {
        view! {
            <p class="prose"><span class="subtle">"Talking points: "</span>{points.to_string()}</p>
        }
    });
    let buttons = (!past).then(|| ack_buttons(n, mine, acknowledge));
    view! {
        <div class="feed-notice" data-test="feed-notice" data-kind=n.kind.as_str() data-status=n.status.as_str()>
            <div class="notice-line">{kind_tag(n.kind)}<span class="subtle">{published}{planned}</span></div>
            <p class="prose">{n.expected_changes.trim().to_string()}</p>
            {points}
            <div class="ack-row">{ack_chips(n)}{buttons}</div>
        </div>
    }
}

/// The comments of the last 14 days that mention a team of the user, newest first, each with
/// its change; nothing when there are none.
fn mentions() -> impl IntoView {
    let items = RwSignal::new(Vec::new());
    spawn_local(async move {
        if let Ok(v) = api::mentions().await {
            items.try_set(v);
        }
    });
    move || {
        let v = items.get();
        (!v.is_empty()).then(|| {
            view! {
                <section class="feed-unread" data-test="mentions">
                    <h2 class="section-title">{format!("Mentions of your teams · {}", v.len())}</h2>
                    <ul class="feed">
                        {v.into_iter().map(|c| {
                            let href = format!("/changes/{}", c.change_id);
                            let title = c.change_title.clone();
                            view! {
                                <li class="card feed-item" data-test="mention">
                                    <a class="feed-title" href=href>{title}</a>
                                    <ul class="comment-list">{crate::pages::change_page::comments::comment(c)}</ul>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
        })
    }
}
