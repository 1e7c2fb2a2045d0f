//! Administration, for admins: users and their roles, the workspace's service tokens, and the
//! approval policies (which roles sign which gate, per risk tier).

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::approvals::{ApprovalPolicies, GateKind, MAX_COUNT, Requirement, TierPolicy};
use shared::auth::{NewUser, Role, User, UserUpdate, validate_new_user, validate_user_update};
use shared::change::RiskTier;

use crate::api::{self, ApiError};
use crate::components::error_banner::{ErrorBanner, MessageBanner};
use crate::components::skeleton::{SkeletonLine, TableSkeleton};
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
                </nav>
            </div>
            <div class="admin-sections">
                <UsersSection />
                <TokensPanel />
                <PoliciesSection />
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
    let list = LocalResource::new(|| async { api::users().await });
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
            invalid.set(Some(format!(
                "{}: {}.",
                format::capitalise(&e.field),
                e.message
            )));
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
            <Transition fallback=|| view! { <TableSkeleton rows=4 /> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(users) => view! { <UserTable users=users reload=reload /> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e retry=reload /> }.into_any(),
                    }
                })}
            </Transition>
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

#[component]
fn UserTable(users: Vec<User>, reload: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(None::<String>);
    let me = session::user().map(|u| u.id).unwrap_or_default();
    let rows = users
        .into_iter()
        .map(|u| {
            let uid = u.id.clone();
            let is_editing = move || editing.with(|e| e.as_deref() == Some(uid.as_str()));
            let you = u.id == me;
            let u2 = u.clone();
            view! {
                <Show when=is_editing fallback=move || {
                    let u = u2.clone();
                    let uid = u.id.clone();
                    view! {
                        <tr data-test="user-row" data-email=u.email.clone() class:is-revoked=u.disabled>
                            <td>
                                <strong>{u.name.clone()}</strong>
                                {you.then(|| view! { <span class="subtle">" (you)"</span> })}
                                <div class="subtle mono small">{u.email.clone()}</div>
                            </td>
                            <td class="role-tags">{u.roles.iter().map(|r| view! { <span class="tag">{r.as_str()}</span> }).collect_view()}</td>
                            <td>{if u.disabled {
                                view! { <span class="tag tag-danger">"Disabled"</span> }.into_any()
                            } else {
                                view! { <span class="tag tag-ok">"Active"</span> }.into_any()
                            }}</td>
                            <td class="subtle" title=format::date_time(&u.created_at)>{format::date(&u.created_at)}</td>
                            <td class="token-actions">
                                <button type="button" class="btn btn-small" data-test="edit-user" on:click=move |_| editing.set(Some(uid.clone()))>"Edit"</button>
                            </td>
                        </tr>
                    }
                }>
                    <UserEditor user=u.clone() editing=editing reload=reload />
                </Show>
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
    }
}

/// A user's row while it is edited: name, roles, and whether they may sign in.
#[component]
fn UserEditor(
    user: User,
    editing: RwSignal<Option<String>>,
    reload: Callback<()>,
) -> impl IntoView {
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
            invalid.set(Some(format!(
                "{}: {}.",
                format::capitalise(&e.field),
                e.message
            )));
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
        <tr class="user-editing" data-test="user-row" data-email=user.email.clone()>
            <td>
                <input type="text" name="edit-name" data-test="edit-user-name" bind:value=name />
                <div class="subtle mono small">{user.email.clone()}</div>
            </td>
            <td>{role_picker(roles, "edit-user")}</td>
            <td>
                <label class="check-label">
                    <input type="checkbox" data-test="edit-user-disabled" bind:checked=disabled />
                    "Disabled"
                </label>
            </td>
            <td colspan="2" class="token-actions">
                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button>
                <button type="button" class="btn btn-small btn-primary" data-test="save-user" disabled=move || pending.get() on:click=save>
                    {move || if pending.get() { "Saving…" } else { "Save" }}
                </button>
            </td>
        </tr>
        {move || {
            let msg = invalid.get().map(|m| view! { <MessageBanner title="Check the user" message=m /> }.into_any())
                .or_else(|| error.get().map(|e| view! { <ErrorBanner error=e /> }.into_any()));
            msg.map(|m| view! { <tr><td colspan="5">{m}</td></tr> })
        }}
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
    let loaded = LocalResource::new(|| async { api::policies().await });
    let reload = Callback::new(move |_| loaded.refetch());
    view! {
        <section class="card" id="policies" data-test="policies">
            <div class="card-head">
                <div>
                    <h2>"Approval policies"</h2>
                    <p class="card-sub">"How many people of each role must sign before a rollout enters a stage, per risk tier. 0 means the role is not asked. Full traffic comes on top of the ramp step that reaches 100%. The author of a change never counts."</p>
                </div>
            </div>
            <Transition fallback=|| view! { <SkeletonLine width="80%" /><SkeletonLine width="60%" /> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok(p) => view! { <PolicyGrid initial=p /> }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e retry=reload /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
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
    let cell = move |tier: RiskTier, gate: GateKind| {
        Role::ALL
            .into_iter()
            .map(|role| {
                let count = move || {
                    policies.with(|p| {
                        p.tier(tier)
                            .gate(gate)
                            .iter()
                            .find(|r| r.role == role)
                            .map_or(0, |r| r.count)
                    })
                };
                let set = move |v: String| {
                    let n = v.trim().parse::<u32>().unwrap_or(0).min(MAX_COUNT);
                    policies.update(|p| {
                        let reqs = gate_mut(tier_mut(p, tier), gate);
                        reqs.retain(|r| r.role != role);
                        if n > 0 {
                            reqs.push(Requirement { role, count: n });
                            reqs.sort_by_key(|r| r.role);
                        }
                    });
                };
                view! {
                    <label class="policy-role" class:zero=move || count() == 0>
                        <span>{role.as_str()}</span>
                        <input type="number" min="0" max=MAX_COUNT.to_string() step="1"
                            data-test=format!("policy-{}-{}-{}", tier.as_str(), gate.as_str(), role.as_str())
                            prop:value=move || count().to_string()
                            on:change=move |e| set(event_target_value(&e)) />
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <div class="table-scroll">
            <table class="table policy-grid">
                <thead><tr><th>"Risk tier"</th>{GATES.iter().map(|(_, l)| view! { <th>{*l}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {TIERS.into_iter().map(|t| view! {
                        <tr>
                            <th scope="row"><span class=format!("risk risk-{}", t.as_str())><span class="risk-dot"></span>{t.label()}</span></th>
                            {GATES.iter().map(|(g, _)| view! { <td><div class="policy-cell">{cell(t, *g)}</div></td> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        <div class="policy-actions">
            <span class="saved-note" role="status">{move || note.get()}</span>
            <button type="button" class="btn btn-ghost" disabled=move || !dirty() || pending.get()
                on:click=move |_| policies.set(saved.get_untracked())>"Discard changes"</button>
            <button type="button" class="btn btn-primary" data-test="save-policies" disabled=move || !dirty() || pending.get() on:click=save>
                {move || if pending.get() { "Saving…" } else { "Save policies" }}
            </button>
        </div>
    }
}
