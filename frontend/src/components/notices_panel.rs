//! Notices of a change, on its page: what each audience team was told (or will be), by when,
//! and which teams have acknowledged it; a form to draft, edit and publish a notice; and
//! Acknowledge for members of an audience team. Editing a published notice makes a new
//! revision that every team must acknowledge again (the server's rule).

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::access::EDITORS;
use shared::approvals::{parse_stage_key, stage_key};
use shared::notices::{Notice, NoticeInput, NoticeKind, NoticeStatus, validate_notice};
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, next_stage};
use shared::teams::Team;

use crate::api::{self, ApiError};
use crate::components::error_banner::{ErrorBanner, Problem};
use crate::components::form_read::{checked_values, event_form, value_in};
use crate::components::load::{Loaded, teams_loader};
use crate::components::notice_tags::{ack_buttons, ack_chips, ack_teams, kind_tag};
use crate::components::skeleton::LinesSkeleton;
use crate::components::timeline::stage_name;
use crate::coord::revision;
use crate::format;
use crate::session;

/// The stages a notice can announce: every stage from the canary on, as (key, name).
fn stages(plan: &RolloutPlan) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut s = RolloutState::Eval;
    while let Some(n) = next_stage(plan, s) {
        if n == RolloutState::Reviewed {
            break;
        }
        out.push((stage_key(n), stage_name(plan, n)));
        s = n;
    }
    out
}

/// What the form holds; `editing` is the notice being edited, `None` for a new draft.
#[derive(Debug, Clone, Default, PartialEq)]
struct Form {
    editing: Option<String>,
    behaviour: String,
    talking_points: String,
    planned: String,
    stage: String,
    teams: Vec<String>,
}

impl Form {
    fn of(n: &Notice) -> Self {
        Form {
            editing: Some(n.id.clone()),
            behaviour: n.expected_changes.clone(),
            talking_points: n.talking_points.clone(),
            planned: n
                .planned_at
                .as_deref()
                .map(format::utc_to_local)
                .unwrap_or_default(),
            stage: n.planned_stage.map(stage_key).unwrap_or_default(),
            teams: n.audience.iter().map(|a| a.team_id.clone()).collect(),
        }
    }

    fn body(&self) -> Result<NoticeInput, String> {
        let planned = format::local_to_utc(&self.planned);
        if !self.planned.trim().is_empty() && planned.is_empty() {
            return Err("The planned date is not a date and time.".into());
        }
        let input = NoticeInput {
            audience: self.teams.clone(),
            planned_at: (!planned.is_empty()).then_some(planned),
            planned_stage: parse_stage_key(&self.stage),
            expected_changes: self.behaviour.trim().to_string(),
            talking_points: self.talking_points.trim().to_string(),
        };
        // The server's own text rules, for an instant answer; it still checks teams and dates.
        validate_notice(&input)
            .map(|()| input)
            .map_err(|e| format!("{}.", format::capitalise(&e.message)))
    }
}

#[component]
pub fn NoticesPanel(
    #[prop(into)] change_id: String,
    plan: RolloutPlan,
    /// What the change says users may notice: the first draft's starting text.
    #[prop(into)]
    expected: String,
    /// Called after a write, so the gate panel can show the notice requirements anew.
    on_change: Callback<()>,
) -> impl IntoView {
    let id = StoredValue::new(change_id);
    let notices = Loaded::new(
        move || id.get_value(),
        |id| async move { api::notices(&id).await },
    );
    let teams = teams_loader();
    let me = session::user().map(|u| u.id).unwrap_or_default();
    let my_teams = Memo::new(move |_| {
        teams
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.members.iter().any(|m| m.user_id == me))
            .collect::<Vec<Team>>()
    });
    let editor = session::has_any(EDITORS);
    let form = RwSignal::new(None::<Form>);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let invalid = RwSignal::new(None::<String>);
    let expected = StoredValue::new(expected);
    let stages = StoredValue::new(stages(&plan));

    let done = move || {
        notices.refetch();
        session::inbox_changed();
        on_change.run(());
    };
    let save = move |f: Form| {
        let body = match f.body() {
            Ok(b) => b,
            Err(m) => {
                invalid.set(Some(m));
                return;
            }
        };
        invalid.set(None);
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            let r = match &f.editing {
                Some(nid) => api::update_notice(nid, &body).await,
                None => api::create_notice(&id.get_value(), &body).await,
            };
            match r {
                Ok(_) => {
                    form.set(None);
                    done();
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    let edit = Callback::new(move |n: Notice| {
        if pending.get_untracked() {
            return;
        }
        invalid.set(None);
        error.set(None);
        form.set(Some(Form::of(&n)));
    });
    // Publishing (`team` is `None`) or acknowledging for a team.
    let act = move |nid: String, team: Option<String>| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let r = match team {
                None => api::publish_notice(&nid).await.map(|_| ()),
                Some(team) => api::acknowledge(&nid, &team).await.map(|_| ()),
            };
            match r {
                Ok(()) => done(),
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    let publish = Callback::new(move |nid: String| act(nid, None));
    let acknowledge = Callback::new(move |(nid, team): (String, String)| act(nid, Some(team)));
    let new_draft = move |_| {
        invalid.set(None);
        error.set(None);
        form.set(Some(Form {
            behaviour: expected.get_value(),
            ..Form::default()
        }));
    };

    let actions = Actions {
        editor,
        edit,
        publish,
        acknowledge,
    };
    let list = move |list: Vec<Notice>| {
        let mine = my_teams.get();
        if list.is_empty() {
            return view! {
                <p class="subtle" data-test="notices-empty">"No notice yet. Teams that field questions about this change (support, marketing) should hear of it before the canary starts."</p>
            }
            .into_any();
        }
        let items = list
            .iter()
            .map(|n| stages.with_value(|st| notice_item(n, &list, st, &mine, actions)))
            .collect_view();
        view! { <ul class="notices">{items}</ul> }.into_any()
    };

    view! {
        <section class="card notices-card" data-test="notices">
            <div class="card-head">
                <div>
                    <h2>"Notices"</h2>
                    <p class="card-sub">"What each team is told before a stage starts, and who has acknowledged it. Rollbacks, skipped stages and full traffic send a notice by themselves."</p>
                </div>
                {editor.then(|| view! {
                    <button type="button" class="btn" data-test="new-notice" on:click=new_draft disabled=move || form.with(Option::is_some)>"Draft a notice"</button>
                })}
            </div>
            {notices.view(|| view! { <LinesSkeleton /> }.into_any(), list)}
            {move || form.with(Option::is_some).then(|| view! {
                <NoticeForm form=form teams=teams stages=stages pending=pending save=Callback::new(save) />
            })}
            {move || invalid.get().map(|m| view! { <ErrorBanner error=Problem::new("Check the notice", m) /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        </section>
    }
}

/// The draft or edit form. Its fields are drawn once from
/// the notice being edited and read back on submit.
#[component]
fn NoticeForm(
    form: RwSignal<Option<Form>>,
    teams: Loaded<Vec<Team>>,
    stages: StoredValue<Vec<(String, String)>>,
    pending: RwSignal<bool>,
    save: Callback<Form>,
) -> impl IntoView {
    let editing = form.with_untracked(|o| o.as_ref().is_some_and(|f| f.editing.is_some()));
    let fields = move || {
        let teams = teams.get();
        form.with_untracked(|o| {
            let f = o.clone().unwrap_or_default();
            stages.with_value(|st| form_fields(&f, teams, st))
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(el) = event_form(&ev) else { return };
        let ids = teams
            .get_untracked()
            .and_then(Result::ok)
            .unwrap_or_default();
        let v = |name: &str| value_in(&el, &format!("[name={name}]"));
        let checked = checked_values(&el, "notice-team");
        let f = Form {
            editing: form.with_untracked(|o| o.as_ref().and_then(|f| f.editing.clone())),
            behaviour: v("behaviour"),
            talking_points: v("talking_points"),
            planned: v("planned"),
            stage: v("stage"),
            teams: ids
                .into_iter()
                .map(|t| t.id)
                .filter(|id| checked.contains(id))
                .collect(),
        };
        form.set(Some(f.clone()));
        save.run(f);
    };
    view! {
        <form class="notice-form" data-test="notice-form" on:submit=submit>
            <h3>{if editing { "Edit the notice" } else { "Draft a notice" }}</h3>
            {editing.then(|| view! {
                <p class="subtle small">"Editing a published notice publishes a new revision: every team must acknowledge it again."</p>
            })}
            <div class="notice-fields">{fields}</div>
            <div class="policy-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| form.set(None)>"Cancel"</button>
                <button type="submit" class="btn btn-primary" data-test="save-notice" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else if editing { "Save notice" } else { "Save draft" }}
                </button>
            </div>
        </form>
    }
}

/// The form's fields, drawn once from `f` and read back from the form on submit.
fn form_fields(
    f: &Form,
    teams: Option<Result<Vec<Team>, ApiError>>,
    stages: &[(String, String)],
) -> impl IntoView + use<> {
    let boxes = match teams {
        None => view! { <span class="subtle">"Loading teams…"</span> }.into_any(),
        Some(Err(e)) => view! { <span class="field-error">{e.message()}</span> }.into_any(),
        Some(Ok(ts)) if ts.is_empty() => {
            view! { <span class="subtle">"No teams yet: an admin adds them on the Admin page."</span> }
                .into_any()
        }
        Some(Ok(ts)) => ts
            .into_iter()
            .map(|t| {
                let checked = f.teams.contains(&t.id);
                view! {
                    <label class="check-label">
                        <input type="checkbox" name="notice-team" value=t.id.clone()
                            data-test=format!("notice-team-{}", t.name.to_ascii_lowercase()) checked=checked />
                        {t.name}
                    </label>
                }
            })
            .collect_view()
            .into_any(),
    };
    let options = stages
        .iter()
        .map(|(k, name)| view! { <option value=k.clone() selected=*k == f.stage>{name.clone()}</option> })
        .collect_view();
    view! {
        <div class="field">
            <span class="field-label">"Tell these teams"</span>
            <div class="role-picker" role="group" aria-label="Audience teams">{boxes}</div>
        </div>
        <div class="notice-form-row">
            <label class="field">
                <span class="field-label">"Planned for"</span>
                <input type="datetime-local" name="planned" data-test="notice-planned" value=f.planned.clone() />
            </label>
            <label class="field">
                <span class="field-label">"Stage"</span>
                <select name="stage" data-test="notice-stage">
                    <option value="" selected=f.stage.is_empty()>"Not tied to a stage"</option>
                    {options}
                </select>
            </label>
        </div>
        <label class="field">
            <span class="field-label">"What users may notice"</span>
            <textarea name="behaviour" rows="3" data-test="notice-behaviour"
                placeholder="e.g. Shorter answers in Spanish; refunds are explained in two steps.">{f.behaviour.clone()}</textarea>
        </label>
        <label class="field">
            <span class="field-label">"Talking points"</span>
            <textarea name="talking_points" rows="3" data-test="notice-talking-points"
                placeholder="What to answer a customer who asks">{f.talking_points.clone()}</textarea>
        </label>
    }
}

/// What a notice's buttons do, and whether the user may edit and publish.
#[derive(Clone, Copy)]
struct Actions {
    editor: bool,
    edit: Callback<Notice>,
    publish: Callback<String>,
    acknowledge: Callback<(String, String)>,
}

/// One notice; `list` is every notice of the change, to number the revisions.
fn notice_item(
    n: &Notice,
    list: &[Notice],
    stages: &[(String, String)],
    mine: &[Team],
    actions: Actions,
) -> impl IntoView + use<> {
    let status = match n.status {
        NoticeStatus::Published => view! { <span class="gate-status gate-ok">"Published"</span> },
        NoticeStatus::Draft => view! { <span class="gate-status gate-waiting">"Draft"</span> },
        NoticeStatus::Superseded => {
            view! { <span class="gate-status notice-superseded-pill">"Superseded"</span> }
        }
    };
    let mut when = Vec::new();
    if let Some(p) = n.planned_at.as_deref() {
        when.push(format!("planned {}", format::date_time(p)));
    }
    if let Some(s) = n.planned_stage {
        let key = stage_key(s);
        let name = stages
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key.as_str(), |(_, name)| name.as_str());
        when.push(format!("before {name}"));
    }
    match n.published_at.as_deref() {
        Some(p) => when.push(format!("published {}", format::relative_time(p))),
        None => when.push(format!("drafted {}", format::relative_time(&n.created_at))),
    }
    let rev = revision(n, list);
    let line = format!(
        "Revision {rev}{}",
        when.iter().map(|w| format!(" · {w}")).collect::<String>()
    );
    let text = |label: &'static str, t: &str| {
        let t = t.trim();
        (!t.is_empty()).then(|| {
            view! {
                <div class="notice-text"><h4>{label}</h4><p class="prose">{t.to_string()}</p></div>
            }
        })
    };
    // Automatic notices are the server's record of what happened; only written ones are edited.
    let editable =
        actions.editor && n.kind == NoticeKind::Manual && n.status != NoticeStatus::Superseded;
    let acks = ack_buttons(n, mine, actions.acknowledge);
    let has_acks = !ack_teams(n, mine).is_empty();
    let own = editable.then(|| {
        let edited = n.clone();
        let id = n.id.clone();
        let draft = n.status == NoticeStatus::Draft;
        view! {
            <button type="button" class="btn btn-small" data-test="edit-notice"
                on:click=move |_| actions.edit.run(edited.clone())>"Edit"</button>
            {draft.then(|| view! {
                <button type="button" class="btn btn-small btn-primary" data-test="publish-notice"
                    on:click=move |_| actions.publish.run(id.clone())>"Publish"</button>
            })}
        }
    });
    let buttons =
        (has_acks || editable).then(|| view! { <div class="notice-actions">{acks}{own}</div> });
    view! {
        <li class=format!("notice notice-{}", n.status.as_str()) data-test="notice" data-status=n.status.as_str()
            data-kind=n.kind.as_str() data-revision=rev.to_string()>
            <div class="notice-line">{kind_tag(n.kind)}{status}<span class="subtle">{line}</span></div>
            {text("What users may notice", &n.expected_changes)}
            {text("Talking points", &n.talking_points)}
            <div class="ack-row"><span class="subtle">"Acknowledged "</span>{ack_chips(n)}</div>
            {buttons}
        </li>
    }
}
