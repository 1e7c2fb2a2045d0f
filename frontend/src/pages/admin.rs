//! Administration, for admins: users and their roles, the workspace's service tokens, and the
//! approval policies (which roles sign which gate, per risk tier).

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::access::ADMINS;
use shared::approvals::{
    ApprovalPolicies, GateKind, MAX_COUNT, MAX_LEAD_HOURS, Requirement, TierPolicy,
};
use shared::auth::{NewUser, Role, User, UserUpdate, validate_new_user, validate_user_update};
use shared::change::RiskTier;

use crate::api::{self, ApiError};
use crate::components::error_banner::{ErrorBanner, Problem};
use crate::components::load::Loaded;
use crate::components::skeleton::{SkeletonLine, TableSkeleton};
use crate::pages::admin_teams::{DeliveriesSection, TeamsSection};
use crate::pages::change_tokens::TokensPanel;
use crate::{format, session};

#[component]
pub fn AdminPage() -> impl IntoView {
    if !session::has_any(ADMINS) {
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
            {move || invalid.get().map(|m| view! { <ErrorBanner error=Problem::new("Check the form", m) /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        </section>
    }
}

/// The users; "Edit" opens the editor below the table.
#[component]
fn UserTable(users: Vec<User>, reload: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(None::<User>);
    let me = session::user().map(|u| u.id).unwrap_or_default();
    let rows = users
        .into_iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|r| view! { <span class="tag">{r.as_str()}</span> })
                .collect_view();
            let you = (u.id == me).then(|| view! { <span class="subtle">" (you)"</span> });
            let status = if u.disabled {
                view! { <span class="tag tag-danger">"Disabled"</span> }
            } else {
                view! { <span class="tag tag-ok">"Active"</span> }
            };
            let (email, email_attr, name) = (u.email.clone(), u.email.clone(), u.name.clone());
            let (at, date) = (format::date_time(&u.created_at), format::date(&u.created_at));
            let revoked = u.disabled.then_some("is-revoked");
            view! {
                <tr data-test="user-row" data-email=email_attr class=revoked>
                    <td><strong>{name}</strong>{you}<div class="subtle mono small">{email}</div></td>
                    <td><div class="role-tags">{roles}</div></td>
                    <td>{status}</td>
                    <td class="subtle" title=at>{date}</td>
                    <td class="token-actions">
                        <button type="button" class="btn btn-small" data-test="edit-user" on:click=move |_| editing.set(Some(u.clone()))>"Edit"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="table table-compact user-table">
                <thead><tr><th>"User"</th><th>"Roles"</th><th>"Status"</th><th>"Added"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
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
            {move || invalid.get().map(|m| view! { <ErrorBanner error=Problem::new("Check the user", m) /> })}
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

/// The grid of role counts, tiers down and gates across, drawn from `p`. The inputs keep what
/// is typed; each change is copied into `policies`.
fn policy_table(
    p: &ApprovalPolicies,
    policies: RwSignal<ApprovalPolicies>,
) -> impl IntoView + use<> {
    // A count as typed: anything that is not a whole number counts as 0.
    let typed = |ev: &leptos::ev::Event, max: u32| {
        event_target_value(ev)
            .trim()
            .parse::<u32>()
            .unwrap_or(0)
            .min(max)
    };
    let rows = TIERS
        .into_iter()
        .map(|t| {
            let cells = GATES
                .into_iter()
                .map(|(g, _)| {
                    let roles = Role::ALL
                        .iter()
                        .copied()
                        .map(|role| {
                            let n = p
                                .tier(t)
                                .gate(g)
                                .iter()
                                .find(|r| r.role == role)
                                .map_or(0, |r| r.count);
                            let zero = RwSignal::new(n == 0);
                            let set = move |ev: leptos::ev::Event| {
                                let n = typed(&ev, MAX_COUNT);
                                zero.set(n == 0);
                                policies.update(|p| {
                                    let reqs = gate_mut(tier_mut(p, t), g);
                                    reqs.retain(|r| r.role != role);
                                    if n > 0 {
                                        reqs.push(Requirement { role, count: n });
                                        reqs.sort_by_key(|r| r.role);
                                    }
                                });
                            };
                            view! {
                                <label class="policy-role" class:zero=move || zero.get()>
                                    <span>{role.as_str()}</span>
                                    <input type="number" min="0" max=MAX_COUNT.to_string() step="1" value=n.to_string()
                                        data-test=format!("policy-{}-{}-{}", t.as_str(), g.as_str(), role.as_str()) on:change=set />
                                </label>
                            }
                        })
                        .collect_view();
                    view! { <td><div class="policy-cell">{roles}</div></td> }
                })
                .collect_view();
            let lead = p.tier(t).notice_lead_hours.unwrap_or(0);
            let zero = RwSignal::new(lead == 0);
            let set_lead = move |ev: leptos::ev::Event| {
                let h = typed(&ev, MAX_LEAD_HOURS);
                zero.set(h == 0);
                policies.update(|p| tier_mut(p, t).notice_lead_hours = Some(h));
            };
            view! {
                <tr>
                    <th scope="row"><span class=format!("risk risk-{}", t.as_str())><span class="risk-dot"></span>{t.label()}</span></th>
                    {cells}
                    <td>
                        <label class="policy-role policy-lead" class:zero=move || zero.get()>
                            <span>"hours"</span>
                            <input type="number" min="0" max=MAX_LEAD_HOURS.to_string() step="1" value=lead.to_string()
                                data-test=format!("policy-{}-notice-lead", t.as_str()) on:change=set_lead />
                        </label>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table policy-grid">
            <thead>
                <tr>
                    <th>"Risk tier"</th>
                    {GATES.into_iter().map(|(_, label)| view! { <th>{label}</th> }).collect_view()}
                    <th title="Hours before the canary a notice to Support must be published (standard and high risk)">"Notice lead time"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
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
    // The grid is drawn from the saved policy; "Discard" redraws it.
    let drawn = RwSignal::new(0_u32);
    let grid = move || {
        drawn.track();
        policies.with_untracked(|p| policy_table(p, policies))
    };
    view! {
        <div class="table-scroll">{grid}</div>
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
