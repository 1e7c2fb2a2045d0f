//! Administration, for admins: users and their roles, the workspace's service tokens, and the
//! approval policies (which roles sign which gate, per risk tier).

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::approvals::{
    ApprovalPolicies, GateKind, MAX_COUNT, MAX_LEAD_HOURS, Requirement, TierPolicy,
};
use shared::auth::{NewUser, Role, User, UserUpdate, validate_new_user, validate_user_update};
use shared::change::RiskTier;

use crate::api::{self, ApiError};
use crate::components::error_banner::{ErrorBanner, MessageBanner};
use crate::components::html::{action_target, esc};
use crate::components::load::Loaded;
use crate::components::skeleton::{SkeletonLine, TableSkeleton};
use crate::pages::admin_teams::{DeliveriesSection, TeamsSection};
use crate::pages::change_tokens::TokensPanel;
use crate::{format, session};

#[component]
pub fn AdminPage() -> impl IntoView {
    if !session::has_any(&[Role::Admin]) {
        return view! {
            <div class="page">
                <div class="empty-state" data-test="error">
                    <div class="empty-code">"403"</div>
                    <h1>"Admins only"</h1>
                    <p class="subtle">"Users, service tokens and approval policies are managed by an admin."</p>
                </div>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="page admin-page">
            <div class="page-head">
                <div>
                    <h1>"Admin"</h1>
                    <p class="page-lede">"Who may sign in and with which roles, the tokens production apps send metrics with, and who must sign each gate."</p>
                </div>
                <nav class="admin-jump" aria-label="Sections">
                    <a href="#users">"Users"</a>
                    <a href="#tokens">"Service tokens"</a>
                    <a href="#policies">"Approval policies"</a>
                    <a href="#teams">"Teams"</a>
                    <a href="#deliveries">"Deliveries"</a>
                </nav>
            </div>
            <div class="admin-sections">
                <UsersSection />
                <TokensPanel />
                <PoliciesSection />
                <TeamsSection />
                <DeliveriesSection />
            </div>
        </div>
    }
    .into_any()
}

/// Role checkboxes bound to a list.
fn role_picker(roles: RwSignal<Vec<Role>>, prefix: &'static str) -> impl IntoView {
    view! {
        <div class="role-picker" role="group" aria-label="Roles">
            {Role::ALL.into_iter().map(|r| view! {
                <label class="check-label" title=r.label()>
                    <input type="checkbox" name=format!("{prefix}-role") value=r.as_str() data-test=format!("{prefix}-role-{}", r.as_str())
                        prop:checked=move || roles.with(|rs| rs.contains(&r))
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            roles.update(|rs| {
                                rs.retain(|x| *x != r);
                                if on { rs.push(r); rs.sort(); }
                            });
                        } />
                    {r.as_str()}
                </label>
            }).collect_view()}
        </div>
    }
}

#[component]
fn UsersSection() -> impl IntoView {
    let list = Loaded::new(|| (), |_| api::users());
    let reload = Callback::new(move |_| list.refetch());
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new(vec![Role::Engineer]);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let invalid = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);

    let create = move || {
        let body = NewUser {
            email: email.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            roles: roles.get_untracked(),
            password: password.get_untracked(),
        };
        if let Err(e) = validate_new_user(&body) {
            invalid.set(Some(format::field_error(&e)));
            return;
        }
        invalid.set(None);
        error.set(None);
        created.set(None);
        pending.set(true);
        spawn_local(async move {
            match api::create_user(&body).await {
                Ok(u) => {
                    created.set(Some(format!("{} can now sign in as {}.", u.name, u.email)));
                    email.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    list.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card" id="users" data-test="users">
            <div class="card-head">
                <div>
                    <h2>"Users"</h2>
                    <p class="card-sub">"Roles decide what someone may do: engineers run rollouts, PMs and approvers sign gates and read the audit log, admins manage this page."</p>
                </div>
            </div>
            {list.view(
                || view! { <TableSkeleton rows=4 /> }.into_any(),
                move |users| view! { <UserTable users=users reload=reload /> },
            )}
            <h3 class="section-title">"Add a user"</h3>
            <form class="user-form" on:submit=move |e| { e.prevent_default(); create(); }>
                <label class="field">
                    <span class="field-label">"E-mail"</span>
                    <input type="email" name="new-email" data-test="new-user-email" autocomplete="off" bind:value=email />
                </label>
                <label class="field">
                    <span class="field-label">"Name"</span>
                    <input type="text" name="new-name" data-test="new-user-name" autocomplete="off" bind:value=name />
                </label>
                <label class="field">
                    <span class="field-label">"Initial password"</span>
                    <input type="password" name="new-password" data-test="new-user-password" autocomplete="new-password" bind:value=password />
                    <span class="field-hint">{format!("At least {} characters. Give it to them in person.", shared::auth::MIN_PASSWORD)}</span>
                </label>
                <div class="field">
                    <span class="field-label">"Roles"</span>
                    {role_picker(roles, "new-user")}
                </div>
                <div class="user-form-actions">
                    <button type="submit" class="btn btn-primary" data-test="create-user" disabled=move || pending.get()>
                        {move || if pending.get() { "Adding…" } else { "Add user" }}
                    </button>
                    <span class="saved-note" role="status">{move || created.get()}</span>
                </div>
            </form>
            {move || invalid.get().map(|m| view! { <MessageBanner title="Check the form" message=m /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        </section>
    }
}

/// The users as HTML text (see `components::html` for why text); "Edit" opens the editor
/// below the table through one delegated click handler.
#[component]
fn UserTable(users: Vec<User>, reload: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(None::<User>);
    let me = session::user().map(|u| u.id).unwrap_or_default();
    let rows: String = users
        .iter()
        .map(|u| {
            let roles: String = u
                .roles
                .iter()
                .map(|r| format!(r#"<span class="tag">{}</span>"#, r.as_str()))
                .collect();
            format!(
                r#"<tr data-test="user-row" data-email="{email}"{revoked}><td><strong>{name}</strong>{you}<div class="subtle mono small">{email}</div></td><td><div class="role-tags">{roles}</div></td><td>{status}</td><td class="subtle" title="{at}">{date}</td><td class="token-actions"><button type="button" class="btn btn-small" data-action="edit-user" data-test="edit-user" data-id="{id}">Edit</button></td></tr>"#,
                email = esc(&u.email),
                revoked = if u.disabled { r#" class="is-revoked""# } else { "" },
                name = esc(&u.name),
                you = if u.id == me { r#"<span class="subtle"> (you)</span>"# } else { "" },
                status = if u.disabled {
                    r#"<span class="tag tag-danger">Disabled</span>"#
                } else {
                    r#"<span class="tag tag-ok">Active</span>"#
                },
                at = esc(&format::date_time(&u.created_at)),
                date = esc(&format::date(&u.created_at)),
                id = esc(&u.id),
            )
        })
        .collect();
    let users = StoredValue::new(users);
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(id) = action_target(&ev).and_then(|el| el.get_attribute("data-id")) else {
            return;
        };
        editing.set(users.with_value(|us| us.iter().find(|u| u.id == id).cloned()));
    };
    view! {
        <div class="table-scroll" on:click=on_click>
            <table class="table table-compact user-table">
                <thead><tr><th>"User"</th><th>"Roles"</th><th>"Status"</th><th>"Added"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody inner_html=rows></tbody>
            </table>
        </div>
        {move || editing.get().map(|u| view! { <UserEditor user=u editing=editing reload=reload /> })}
    }
}

/// A user's row while it is edited: name, roles, and whether they may sign in.
#[component]
fn UserEditor(user: User, editing: RwSignal<Option<User>>, reload: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(user.name.clone());
    let roles = RwSignal::new(user.roles.clone());
    let disabled = RwSignal::new(user.disabled);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let invalid = RwSignal::new(None::<String>);
    let id = StoredValue::new(user.id.clone());
    let save = move |_| {
        let body = UserUpdate {
            name: name.get_untracked().trim().to_string(),
            roles: roles.get_untracked(),
            disabled: disabled.get_untracked(),
        };
        if let Err(e) = validate_user_update(&body) {
            invalid.set(Some(format::field_error(&e)));
            return;
        }
        invalid.set(None);
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            match api::update_user(&id.get_value(), &body).await {
                Ok(_) => {
                    editing.set(None);
                    reload.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    view! {
        <div class="user-editor" data-test="user-editor" data-email=user.email.clone()>
            <h3>{format!("Edit {}", user.email)}</h3>
            <div class="user-form">
                <label class="field">
                    <span class="field-label">"Name"</span>
                    <input type="text" name="edit-name" data-test="edit-user-name" bind:value=name />
                </label>
                <div class="field">
                    <span class="field-label">"Roles"</span>
                    {role_picker(roles, "edit-user")}
                </div>
                <label class="check-label">
                    <input type="checkbox" data-test="edit-user-disabled" bind:checked=disabled />
                    "Disabled: cannot sign in, and their sessions end"
                </label>
            </div>
            {move || invalid.get().map(|m| view! { <MessageBanner title="Check the user" message=m /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            <div class="policy-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button>
                <button type="button" class="btn btn-primary" data-test="save-user" disabled=move || pending.get() on:click=save>
                    {move || if pending.get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </div>
    }
}

const GATES: [(GateKind, &str); 3] = [
    (GateKind::Canary, "Canary"),
    (GateKind::Ramp, "Each ramp step"),
    (GateKind::FullTraffic, "Full traffic"),
];
const TIERS: [RiskTier; 3] = [RiskTier::Low, RiskTier::Standard, RiskTier::High];

fn tier_mut(p: &mut ApprovalPolicies, t: RiskTier) -> &mut TierPolicy {
    match t {
        RiskTier::Low => &mut p.low,
        RiskTier::Standard => &mut p.standard,
        RiskTier::High => &mut p.high,
    }
}

fn gate_mut(p: &mut TierPolicy, g: GateKind) -> &mut Vec<Requirement> {
    match g {
        GateKind::Canary => &mut p.canary,
        GateKind::Ramp => &mut p.ramp,
        GateKind::FullTraffic => &mut p.full_traffic,
    }
}

#[component]
fn PoliciesSection() -> impl IntoView {
    let loaded = Loaded::new(|| (), |_| api::policies());
    view! {
        <section class="card" id="policies" data-test="policies">
            <div class="card-head">
                <div>
                    <h2>"Approval policies"</h2>
                    <p class="card-sub">"How many people of each role must sign before a rollout enters a stage, per risk tier. 0 means the role is not asked. Full traffic comes on top of the ramp step that reaches 100%. The author of a change never counts. The notice lead time is how long before the canary a notice to Support must be published; Support must also acknowledge it before the ramp passes 25%."</p>
                </div>
            </div>
            {loaded.view(
                || view! { <SkeletonLine width="80%" /><SkeletonLine width="60%" /> }.into_any(),
                |p| view! { <PolicyGrid initial=p /> },
            )}
        </section>
    }
}

/// The grid of role counts, tiers down and gates across.
fn grid_html(p: &ApprovalPolicies) -> String {
    let mut out = String::from(r#"<table class="table policy-grid"><thead><tr><th>Risk tier</th>"#);
    for (_, label) in GATES {
        out += &format!("<th>{label}</th>");
    }
    out += r#"<th title="Hours before the canary a notice to Support must be published (standard and high risk)">Notice lead time</th>"#;
    out += "</tr></thead><tbody>";
    for t in TIERS {
        out += &format!(
            r#"<tr><th scope="row"><span class="risk risk-{0}"><span class="risk-dot"></span>{1}</span></th>"#,
            t.as_str(),
            t.label()
        );
        for (g, _) in GATES {
            out += r#"<td><div class="policy-cell">"#;
            for role in Role::ALL {
                let n = p
                    .tier(t)
                    .gate(g)
                    .iter()
                    .find(|r| r.role == role)
                    .map_or(0, |r| r.count);
                out += &format!(
                    r#"<label class="policy-role{zero}"><span>{r}</span><input type="number" min="0" max="{MAX_COUNT}" step="1" value="{n}" data-action="policy" data-tier="{t}" data-gate="{g}" data-role="{r}" data-test="policy-{t}-{g}-{r}"></label>"#,
                    zero = if n == 0 { " zero" } else { "" },
                    r = role.as_str(),
                    t = t.as_str(),
                    g = g.as_str(),
                );
            }
            out += "</div></td>";
        }
        let lead = p.tier(t).notice_lead_hours.unwrap_or(0);
        out += &format!(
            r#"<td><label class="policy-role policy-lead{zero}"><span>hours</span><input type="number" min="0" max="{MAX_LEAD_HOURS}" step="1" value="{lead}" data-action="policy" data-tier="{t}" data-gate="notice_lead" data-test="policy-{t}-notice-lead"></label></td>"#,
            zero = if lead == 0 { " zero" } else { "" },
            t = t.as_str(),
        );
        out += "</tr>";
    }
    out + "</tbody></table>"
}

#[component]
fn PolicyGrid(initial: ApprovalPolicies) -> impl IntoView {
    let policies = RwSignal::new(initial.clone());
    let saved = RwSignal::new(initial);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let note = RwSignal::new(None::<&'static str>);
    let dirty = move || policies.with(|p| saved.with(|s| p != s));
    let save = move |_| {
        let body = policies.get_untracked();
        pending.set(true);
        error.set(None);
        note.set(None);
        spawn_local(async move {
            match api::save_policies(&body).await {
                Ok(p) => {
                    policies.set(p.clone());
                    saved.set(p);
                    note.set(Some(
                        "Saved. Gates ahead of every change follow the new policy.",
                    ));
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    // The grid is HTML text (see `components::html`), drawn from the saved policy: the inputs
    // keep what is typed, and one delegated handler copies each change into `policies`.
    // "Discard" redraws it.
    let drawn = RwSignal::new(0_u32);
    let grid = move || {
        drawn.track();
        policies.with_untracked(grid_html)
    };
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) =
            action_target(&ev).and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let attr = |n: &str| input.get_attribute(n).unwrap_or_default();
        let tier = TIERS.into_iter().find(|t| t.as_str() == attr("data-tier"));
        if let Some(tier) = tier.filter(|_| attr("data-gate") == "notice_lead") {
            let h = input
                .value()
                .trim()
                .parse::<u32>()
                .unwrap_or(0)
                .min(MAX_LEAD_HOURS);
            policies.update(|p| tier_mut(p, tier).notice_lead_hours = Some(h));
            if let Some(l) = input.parent_element() {
                let _ = l.class_list().toggle_with_force("zero", h == 0);
            }
            return;
        }
        let gate = GATES
            .iter()
            .map(|g| g.0)
            .find(|g| g.as_str() == attr("data-gate"));
        let (Some(tier), Some(gate), Some(role)) = (tier, gate, Role::parse(&attr("data-role")))
        else {
            return;
        };
        let n = input
            .value()
            .trim()
            .parse::<u32>()
            .unwrap_or(0)
            .min(MAX_COUNT);
        policies.update(|p| {
            let reqs = gate_mut(tier_mut(p, tier), gate);
            reqs.retain(|r| r.role != role);
            if n > 0 {
                reqs.push(Requirement { role, count: n });
                reqs.sort_by_key(|r| r.role);
            }
        });
        let label = input.parent_element();
        if let Some(l) = label {
            let _ = l.class_list().toggle_with_force("zero", n == 0);
        }
    };
    view! {
        <div class="table-scroll" on:change=on_change inner_html=grid></div>
        {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        <div class="policy-actions">
            <span class="saved-note" role="status">{move || note.get()}</span>
            <button type="button" class="btn btn-ghost" disabled=move || !dirty() || pending.get()
                on:click=move |_| { policies.set(saved.get_untracked()); drawn.update(|d| *d += 1); }>"Discard changes"</button>
            <button type="button" class="btn btn-primary" data-test="save-policies" disabled=move || !dirty() || pending.get() on:click=save>
                {move || if pending.get() { "Saving…" } else { "Save policies" }}
            </button>
        </div>
    }
}
