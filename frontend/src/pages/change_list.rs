//! The change list: every AI change, where its rollout stands and its health, filtered by
//! state and kind, searched by title, flag key or product area, sorted by date, title or
//! health. Filters, search, sort and page live in the URL query so a view can be shared and
//! reloaded; the server searches, sorts and pages.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::api::ChangePage;
use shared::change::ChangeKind;
use shared::rollout::{RolloutState, STATE_NAMES};

use crate::api::{self, ListQuery};
use crate::components::health::HealthChip;
use crate::components::load::Loaded;
use crate::components::skeleton::TableSkeleton;
use crate::components::tags::{KindTag, RiskTag, StateBadge, TrafficBar};
use crate::{format, session};

const PER_PAGE: u32 = 20;

/// The list's orders: the query's `sort` and its label; newest first when absent.
const SORTS: [(&str, &str); 3] = [
    ("", "Newest first"),
    ("health", "Health, worst first"),
    ("title", "Title, A to Z"),
];

fn state_filter_label(name: &str) -> &'static str {
    match name {
        "draft" => "Draft",
        "eval" => "Eval gate",
        "canary" => "Canary",
        "ramp" => "Ramp",
        "full" => "Full",
        "reviewed" => "Reviewed",
        "rolled_back" => "Rolled back",
        _ => "Unknown",
    }
}

/// The list's URL for a query, with defaults left out.
fn href(q: &ListQuery) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &q.state {
        parts.push(format!("state={s}"));
    }
    if let Some(k) = &q.kind {
        parts.push(format!("kind={k}"));
    }
    if let Some(w) = &q.q {
        parts.push(format!("q={}", api::encode(w)));
    }
    if let Some(s) = &q.sort {
        parts.push(format!("sort={s}"));
    }
    if q.page > 1 {
        parts.push(format!("page={}", q.page));
    }
    if parts.is_empty() {
        "/".into()
    } else {
        format!("/?{}", parts.join("&"))
    }
}

#[component]
pub fn ChangeList() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        let q = query.read();
        ListQuery {
            state: q.get("state").filter(|s| STATE_NAMES.contains(&s.as_str())),
            kind: q.get("kind").filter(|k| ChangeKind::parse(k).is_some()),
            q: q.get("q").filter(|w| !w.trim().is_empty()),
            sort: q
                .get("sort")
                .filter(|s| SORTS[1..].iter().any(|(k, _)| *k == s.as_str())),
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
            per_page: PER_PAGE,
        }
    });
    let data = Loaded::new(
        move || current.get(),
        |q| async move { api::list_changes(&q).await },
    );
    let navigate = use_navigate();
    let set_filter = move |key: &'static str, value: String| {
        let mut q = current.get_untracked();
        let value = (!value.is_empty()).then_some(value);
        match key {
            "state" => q.state = value,
            "q" => q.q = value,
            "sort" => q.sort = value,
            _ => q.kind = value,
        }
        q.page = 1;
        navigate(&href(&q), NavigateOptions::default());
    };
    let set_state = set_filter.clone();
    let set_search = set_filter.clone();
    let set_sort = set_filter.clone();
    let set_kind = set_filter;
    let filtered = move || {
        let q = current.get();
        q.state.is_some() || q.kind.is_some() || q.q.is_some()
    };

    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>"AI changes"</h1>
                    <p class="page-lede">"Every prompt, model, tool and routing change, and where its rollout stands."</p>
                </div>
                // Shown only to those who may create a change: `style/90-access.css` hides it
                // by the roles the top bar carries, which costs the first screen no code.
                <a class="btn btn-primary" href="/changes/new" data-test="new-change">
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 3v10M3 8h10" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path></svg>
                    "New change"
                </a>
            </div>

            <div class="toolbar" role="search">
                <label class="select-label list-search">
                    <span>"Search"</span>
                    <input type="search" name="q" data-test="search" placeholder="Title, flag key or area"
                        prop:value=move || current.get().q.unwrap_or_default()
                        on:change=move |e| set_search("q", event_target_value(&e).trim().to_string()) />
                </label>
                <label class="select-label">
                    <span>"State"</span>
                    <select name="state" data-test="filter-state" on:change=move |e| set_state("state", event_target_value(&e))>
                        <option value="" selected=move || current.get().state.is_none()>"All states"</option>
                        {STATE_NAMES
                            .into_iter()
                            .map(|s| view! {
                                <option value=s selected=move || current.get().state.as_deref() == Some(s)>{state_filter_label(s)}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="select-label">
                    <span>"Kind"</span>
                    <select name="kind" data-test="filter-kind" on:change=move |e| set_kind("kind", event_target_value(&e))>
                        <option value="" selected=move || current.get().kind.is_none()>"All kinds"</option>
                        {ChangeKind::ALL
                            .into_iter()
                            .map(|k| view! {
                                <option value=k.as_str() selected=move || current.get().kind.as_deref() == Some(k.as_str())>{k.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="select-label">
                    <span>"Sort"</span>
                    <select name="sort" data-test="sort" on:change=move |e| set_sort("sort", event_target_value(&e))>
                        {SORTS
                            .into_iter()
                            .map(|(k, label)| view! {
                                <option value=k selected=move || current.get().sort.as_deref().unwrap_or("") == k>{label}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=filtered>
                    <a class="btn btn-ghost btn-small" href="/">"Clear filters"</a>
                </Show>
            </div>

            <div class="list-body" class:is-loading=move || data.busy() aria-busy=move || data.busy().to_string()>
                {data.view(
                    || view! { <TableSkeleton /> }.into_any(),
                    move |page| view! { <ChangeTable page=page query=current.get_untracked() /> },
                )}
            </div>
        </div>
    }
}

#[component]
fn ChangeTable(page: ChangePage, query: ListQuery) -> impl IntoView {
    let filtered = query.state.is_some() || query.kind.is_some() || query.q.is_some();
    if page.items.is_empty() && page.total == 0 {
        return if filtered {
            view! {
                <div class="card empty-state" data-test="empty">
                    <h2>"No changes match these filters"</h2>
                    <p class="subtle">"Try another state, kind or search, or clear the filters to see every change."</p>
                    <a class="btn" href="/">"Clear filters"</a>
                </div>
            }
            .into_any()
        } else {
            // Only those who may create a change are offered to (`shared::access::EDITORS`).
            let editor = session::has_any(shared::access::EDITORS);
            view! {
                <div class="card empty-state" data-test="empty">
                    <svg class="empty-art" viewBox="0 0 64 64" aria-hidden="true">
                        <rect x="6" y="14" width="52" height="36" rx="8" fill="none" stroke="currentColor" stroke-width="2"></rect>
                        <path d="M16 40 L26 30 L34 36 L48 22" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"></path>
                    </svg>
                    <h2>"No AI changes yet"</h2>
                    {if editor {
                        view! {
                            <p class="subtle">
                                "Register your first change: a new prompt, model, tool or routing rule. "
                                "Pick a plan template, write down what users may notice and which metrics would make you roll back. "
                                "Rollgate then walks it through the eval gate, a canary and a staged ramp."
                            </p>
                            <a class="btn btn-primary" href="/changes/new" data-test="register-change">"Register a change"</a>
                        }.into_any()
                    } else {
                        view! {
                            <p class="subtle">"Changes show here once an engineer or a PM registers one: a new prompt, model, tool or routing rule, and where its rollout stands."</p>
                        }.into_any()
                    }}
                </div>
            }
            .into_any()
        };
    }

    let per_page = page.per_page.max(1);
    let pages = ((page.total.max(0) as u64).div_ceil(per_page as u64)).max(1) as u32;
    let first = (page.page.saturating_sub(1) * per_page) as i64 + 1;
    let last = (first + page.items.len() as i64 - 1).max(first);
    let prev = (page.page > 1).then(|| {
        href(&ListQuery {
            page: page.page - 1,
            ..query.clone()
        })
    });
    let next = (page.page < pages).then(|| {
        href(&ListQuery {
            page: page.page + 1,
            ..query.clone()
        })
    });

    // The Health header sorts by health, or back to newest first.
    let by_health = query.sort.as_deref() == Some("health");
    let health_sort = href(&ListQuery {
        sort: (!by_health).then(|| "health".to_string()),
        page: 1,
        ..query.clone()
    });
    let rows = page
        .items
        .into_iter()
        .map(|c| {
            let link = format!("/changes/{}", c.id);
            let rolled_back = c.state == RolloutState::RolledBack;
            view! {
                <tr data-test="change-row" data-id=c.id.clone()>
                    <td class="col-title">
                        <a class="row-link" href=link>{c.title}</a>
                    </td>
                    <td><KindTag kind=c.kind /></td>
                    <td><RiskTag risk=c.risk short=true /></td>
                    <td><StateBadge state=c.state label=c.state_label /></td>
                    <td class="col-health"><HealthChip health=c.health /></td>
                    <td class="col-traffic"><TrafficBar percent=c.traffic_percent rolled_back=rolled_back /></td>
                    <td class="col-owner">{c.owner}</td>
                    <td class="col-updated" title=format::date_time(&c.updated_at)>{format::relative_time(&c.updated_at)}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="card table-card">
            <div class="table-scroll">
                <table class="table changes-table">
                    <thead>
                        <tr>
                            <th scope="col">"Change"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Risk"</th>
                            <th scope="col">"State"</th>
                            <th scope="col" aria-sort=by_health.then_some("ascending")>
                                <a href=health_sort data-test="sort-health" title="Sort by health, worst first">"Health"</a>
                            </th>
                            <th scope="col">"Traffic"</th>
                            <th scope="col" class="col-owner">"Owner"</th>
                            <th scope="col">"Updated"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div class="table-foot">
                <span class="subtle" data-test="count">
                    {if page.total > 0 {
                        format!("{first}–{last} of {} change{}", page.total, if page.total == 1 { "" } else { "s" })
                    } else {
                        "No changes on this page".into()
                    }}
                </span>
                <nav class="pager" aria-label="Pages">
                    {match prev {
                        Some(h) => view! { <a class="btn btn-small" href=h data-test="prev-page" rel="prev">"← Previous"</a> }.into_any(),
                        None => view! { <span class="btn btn-small disabled" aria-disabled="true">"← Previous"</span> }.into_any(),
                    }}
                    <span class="pager-pos">{format!("Page {} of {pages}", page.page.max(1))}</span>
                    {match next {
                        Some(h) => view! { <a class="btn btn-small" href=h data-test="next-page" rel="next">"Next →"</a> }.into_any(),
                        None => view! { <span class="btn btn-small disabled" aria-disabled="true">"Next →"</span> }.into_any(),
                    }}
                </nav>
            </div>
        </div>
    }
    .into_any()
}
