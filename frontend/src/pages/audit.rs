//! The audit log: who did what to which object, filtered and paged, with each row's before and
//! after, and the same filters exported as CSV or JSON. Filters live in the URL query.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::Value;
use shared::audit::{AuditEntry, AuditPage as Page};

use crate::api::{self, AuditQuery};
use crate::components::load::Loaded;
use crate::components::skeleton::TableSkeleton;
use crate::format;

const PER_PAGE: u32 = 50;

/// Filters as typed: dates are `YYYY-MM-DD` in the viewer's time zone.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    actor: String,
    action: String,
    object_id: String,
    from: String,
    to: String,
    page: u32,
}

impl Filters {
    fn href(&self) -> String {
        let mut parts: Vec<String> = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object_id", &self.object_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::api::encode(v.trim())))
        .collect();
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            "/audit".into()
        } else {
            format!("/audit?{}", parts.join("&"))
        }
    }

    /// The API's query: the dates become RFC 3339 instants, the "to" day included whole.
    fn query(&self) -> AuditQuery {
        AuditQuery {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_id: self.object_id.clone(),
            from: format::day_start_utc(&self.from, 0),
            to: format::day_start_utc(&self.to, 1),
            page: self.page,
        }
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        Filters {
            actor: get("actor"),
            action: get("action"),
            object_id: get("object_id"),
            from: get("from"),
            to: get("to"),
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    });
    let data = Loaded::new(
        move || current.get().query(),
        |q| async move { api::audit(&q, PER_PAGE).await },
    );
    let navigate = use_navigate();

    // The form edits a draft; applying it puts it in the URL, which loads the page.
    let draft = RwSignal::new(current.get_untracked());
    Effect::new(move |_| draft.set(current.get()));
    let field = move |name: &'static str| {
        move || {
            draft.with(|d| match name {
                "actor" => d.actor.clone(),
                "action" => d.action.clone(),
                "object_id" => d.object_id.clone(),
                "from" => d.from.clone(),
                _ => d.to.clone(),
            })
        }
    };
    let set = move |name: &'static str, v: String| {
        draft.update(|d| match name {
            "actor" => d.actor = v,
            "action" => d.action = v,
            "object_id" => d.object_id = v,
            "from" => d.from = v,
            _ => d.to = v,
        })
    };
    let apply = {
        let navigate = navigate.clone();
        move || {
            let mut f = draft.get_untracked();
            f.page = 1;
            navigate(&f.href(), NavigateOptions::default());
        }
    };
    let clear = move |_| navigate("/audit", NavigateOptions::default());
    let input = move |name: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      ph: &'static str| {
        view! {
            <label class="field audit-filter">
                <span class="field-label">{label}</span>
                <input type=kind name=name data-test=format!("audit-{}", name.replace('_', "-")) placeholder=ph
                    prop:value=field(name) on:input=move |e| set(name, event_target_value(&e)) />
            </label>
        }
    };

    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>"Audit log"</h1>
                    <p class="page-lede">"Every sign-in, edit, transition, approval and administration step, newest first. Nothing in it can be edited or deleted."</p>
                </div>
                <div class="export-links">
                    <a class="btn" data-test="export-csv" href=move || current.get().query().export_href("csv") download="rollgate-audit.csv">"Export CSV"</a>
                    <a class="btn" data-test="export-json" href=move || current.get().query().export_href("json") download="rollgate-audit.json">"Export JSON"</a>
                </div>
            </div>
            <form class="card audit-filters" role="search" on:submit=move |e| { e.prevent_default(); apply(); }>
                {input("actor", "Actor", "text", "e-mail or user id")}
                {input("action", "Action", "text", "e.g. change.update")}
                {input("object_id", "Object id", "text", "change, user or token id")}
                {input("from", "From", "date", "")}
                {input("to", "To", "date", "")}
                <div class="audit-filter-actions">
                    <button type="button" class="btn btn-ghost" on:click=clear>"Clear"</button>
                    <button type="submit" class="btn btn-primary" data-test="audit-apply">"Filter"</button>
                </div>
            </form>
            {data.view(
                || view! { <TableSkeleton /> }.into_any(),
                move |page| view! { <AuditTable page=page filters=current.get_untracked() /> },
            )}
        </div>
    }
}

#[component]
fn AuditTable(page: Page, filters: Filters) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <div class="card empty-state" data-test="empty">
                <h2>"No entries"</h2>
                <p class="subtle">"Nothing in the log matches these filters."</p>
            </div>
        }
        .into_any();
    }
    let per_page = page.per_page.max(1);
    let pages = ((page.total.max(0) as u64).div_ceil(per_page as u64)).max(1) as u32;
    let link = |p: u32| {
        Filters {
            page: p,
            ..filters.clone()
        }
        .href()
    };
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < pages).then(|| link(page.page + 1));
    view! {
        <div class="card table-card">
            <div class="table-scroll">
                <table class="table audit-table">
                    <thead><tr><th>"Time"</th><th>"Actor"</th><th>"Action"</th><th>"Object"</th><th>"Change"</th></tr></thead>
                    <tbody>{page.items.into_iter().map(|e| view! { <AuditRow entry=e /> }).collect_view()}</tbody>
                </table>
            </div>
            <div class="table-foot">
                <span class="subtle" data-test="count">{format!("{} entr{}", page.total, if page.total == 1 { "y" } else { "ies" })}</span>
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

/// One entry of the log, with the fields it changed behind "Before / after".
#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let e = entry;
    let object = match (e.object_id.clone(), e.object_type.clone()) {
        (Some(id), t) if t == "change" => view! {
            <span class="subtle">"change "</span><a class="mono" href=format!("/changes/{id}")>{id.clone()}</a>
        }
        .into_any(),
        (Some(id), t) => view! {
            <span class="subtle">{format!("{t} ")}</span><span class="mono">{id}</span>
        }
        .into_any(),
        (None, t) => view! { <span class="subtle">{t}</span> }.into_any(),
    };
    let diff = (e.before.is_some() || e.after.is_some()).then(|| {
        view! {
            <details class="audit-diff" data-test="audit-diff">
                <summary>"Before / after"</summary>
                {diff_table(e.before.as_ref(), e.after.as_ref())}
            </details>
        }
    });
    let danger = e.action.ends_with("failure") || e.action.contains("reject");
    let address = e
        .address
        .clone()
        .map(|a| view! { <div class="subtle small">{a}</div> });
    view! {
        <tr data-test="audit-row" data-action=e.action.clone()>
            <td class="nowrap" title=e.at.clone()>{format::date_time(&e.at)}</td>
            <td>{e.actor.clone()}{address}</td>
            <td><span class=if danger { "tag tag-danger" } else { "tag" }>{e.action.clone()}</span></td>
            <td>{object}</td>
            <td class="audit-diff-cell">{diff}</td>
        </tr>
    }
}

/// The keys that differ between `before` and `after`, each with both values; a value that is
/// not an object is shown whole.
fn diff_table(before: Option<&Value>, after: Option<&Value>) -> AnyView {
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => format::pretty_json(v),
    };
    let rows: Vec<(String, String, String)> = match (before, after) {
        (b @ (None | Some(Value::Object(_))), a @ (None | Some(Value::Object(_)))) => {
            let (b, a) = (b.and_then(Value::as_object), a.and_then(Value::as_object));
            let mut keys: Vec<&String> = b.iter().chain(a.iter()).flat_map(|m| m.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter_map(|k| {
                    let (x, y) = (b.and_then(|m| m.get(k)), a.and_then(|m| m.get(k)));
                    (x != y).then(|| (k.clone(), show(x), show(y)))
                })
                .collect()
        }
        (b, a) => vec![(String::new(), show(b), show(a))],
    };
    if rows.is_empty() {
        return view! { <p class="subtle">"No field changed."</p> }.into_any();
    }
    view! {
        <table class="table table-compact diff-table">
            <thead><tr><th>"Field"</th><th>"Before"</th><th>"After"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|(k, b, a)| view! {
                    <tr>
                        <td class="mono">{k}</td>
                        <td><pre class="diff-old">{b}</pre></td>
                        <td><pre class="diff-new">{a}</pre></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
