//! Notices of a change, on its page: what each audience team was told (or will be), by when,
//! and which teams have acknowledged it; a form to draft, edit and publish a notice; and
//! Acknowledge for members of an audience team. Editing a published notice makes a new
//! revision that every team must acknowledge again (the server's rule).

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::approvals::{parse_stage_key, stage_key};
use shared::notices::{Notice, NoticeInput, NoticeKind, NoticeStatus, validate_notice};
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, next_stage};
use shared::teams::Team;

use crate::api::{self, ApiError};
use crate::components::error_banner::{ErrorBanner, MessageBanner};
use crate::components::html::{action_target, checked_in, esc, event_form, loaded_html, value_in};
use crate::components::load::{Loaded, teams_loader};
use crate::components::timeline::stage_name;
use crate::coord::revision;
use crate::format;
use crate::pages::feed::{ack_buttons, ack_chip, kind_tag};
use crate::session::{self, EDITORS};

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
    // Edit, Publish and Acknowledge come from the HTML text, through one delegated handler.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = action_target(&ev) else { return };
        let attr = |n: &str| el.get_attribute(n).unwrap_or_default();
        let nid = attr("data-notice");
        if attr("data-action") == "retry" {
            notices.refetch();
            return;
        }
        if pending.get_untracked() {
            return;
        }
        match attr("data-action").as_str() {
            "edit-notice" => {
                let list = notices
                    .get_untracked()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                if let Some(n) = list.iter().find(|n| n.id == nid) {
                    invalid.set(None);
                    error.set(None);
                    form.set(Some(Form::of(n)));
                }
            }
            action @ ("publish-notice" | "acknowledge") => {
                let team = attr("data-team-id");
                let publish = action == "publish-notice";
                pending.set(true);
                error.set(None);
                spawn_local(async move {
                    let r = if publish {
                        api::publish_notice(&nid).await.map(|_| ())
                    } else {
                        api::acknowledge(&nid, &team).await.map(|_| ())
                    };
                    match r {
                        Ok(()) => done(),
                        Err(e) => error.set(Some(e)),
                    }
                    pending.set(false);
                });
            }
            _ => {}
        }
    };
    let new_draft = move |_| {
        invalid.set(None);
        error.set(None);
        form.set(Some(Form {
            behaviour: expected.get_value(),
            ..Form::default()
        }));
    };

    // Loading, failure, empty and the list are HTML text (see `components::html`).
    let list = move || {
        let mine = my_teams.get();
        loaded_html(notices.get(), |list: Vec<Notice>| {
            if list.is_empty() {
                return r#"<p class="subtle" data-test="notices-empty">No notice yet. Teams that field questions about this change (support, marketing) should hear of it before the canary starts.</p>"#.into();
            }
            let items: String = list
                .iter()
                .map(|n| stages.with_value(|st| notice_html(n, &list, st, &mine, editor)))
                .collect();
            format!(r#"<ul class="notices">{items}</ul>"#)
        })
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
            <div on:click=on_click inner_html=list></div>
            {move || form.with(Option::is_some).then(|| view! {
                <NoticeForm form=form teams=teams stages=stages pending=pending save=Callback::new(save) />
            })}
            {move || invalid.get().map(|m| view! { <MessageBanner title="Check the notice" message=m /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        </section>
    }
}

/// The draft or edit form. Its fields are HTML text (see `components::html`), drawn once from
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
            stages.with_value(|st| fields_html(&f, teams, st))
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
        let f = Form {
            editing: form.with_untracked(|o| o.as_ref().and_then(|f| f.editing.clone())),
            behaviour: v("behaviour"),
            talking_points: v("talking_points"),
            planned: v("planned"),
            stage: v("stage"),
            teams: ids
                .into_iter()
                .map(|t| t.id)
                .filter(|id| {
                    checked_in(&el, &format!(r#"[name=notice-team][value="{}"]"#, esc(id)))
                })
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
            <div class="notice-fields" inner_html=fields></div>
            <div class="policy-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| form.set(None)>"Cancel"</button>
                <button type="submit" class="btn btn-primary" data-test="save-notice" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else if editing { "Save notice" } else { "Save draft" }}
                </button>
            </div>
        </form>
    }
}

fn fields_html(
    f: &Form,
    teams: Option<Result<Vec<Team>, ApiError>>,
    stages: &[(String, String)],
) -> String {
    let boxes = match teams {
        None => r#"<span class="subtle">Loading teams…</span>"#.to_string(),
        Some(Err(e)) => format!(r#"<span class="field-error">{}</span>"#, esc(&e.message())),
        Some(Ok(ts)) if ts.is_empty() => {
            r#"<span class="subtle">No teams yet: an admin adds them on the Admin page.</span>"#
                .to_string()
        }
        Some(Ok(ts)) => ts
            .iter()
            .map(|t| {
                format!(
                    r#"<label class="check-label"><input type="checkbox" name="notice-team" value="{id}" data-test="notice-team-{test}"{checked}>{name}</label>"#,
                    id = esc(&t.id),
                    test = esc(&t.name.to_ascii_lowercase()),
                    checked = if f.teams.contains(&t.id) { " checked" } else { "" },
                    name = esc(&t.name),
                )
            })
            .collect(),
    };
    let mut options = format!(
        r#"<option value=""{}>Not tied to a stage</option>"#,
        if f.stage.is_empty() { " selected" } else { "" }
    );
    for (k, name) in stages {
        options += &format!(
            r#"<option value="{}"{}>{}</option>"#,
            esc(k),
            if *k == f.stage { " selected" } else { "" },
            esc(name)
        );
    }
    format!(
        r#"<div class="field"><span class="field-label">Tell these teams</span><div class="role-picker" role="group" aria-label="Audience teams">{boxes}</div></div><div class="notice-form-row"><label class="field"><span class="field-label">Planned for</span><input type="datetime-local" name="planned" data-test="notice-planned" value="{planned}"></label><label class="field"><span class="field-label">Stage</span><select name="stage" data-test="notice-stage">{options}</select></label></div><label class="field"><span class="field-label">What users may notice</span><textarea name="behaviour" rows="3" data-test="notice-behaviour" placeholder="e.g. Shorter answers in Spanish; refunds are explained in two steps.">{behaviour}</textarea></label><label class="field"><span class="field-label">Talking points</span><textarea name="talking_points" rows="3" data-test="notice-talking-points" placeholder="What to answer a customer who asks">{points}</textarea></label>"#,
        planned = esc(&f.planned),
        behaviour = esc(&f.behaviour),
        points = esc(&f.talking_points),
    )
}

/// One notice as HTML text (see `components::html` for why text); every value is escaped.
/// `list` is every notice of the change, to number the revisions.
fn notice_html(
    n: &Notice,
    list: &[Notice],
    stages: &[(String, String)],
    mine: &[Team],
    editor: bool,
) -> String {
    let status = match n.status {
        NoticeStatus::Published => r#"<span class="gate-status gate-ok">Published</span>"#,
        NoticeStatus::Draft => r#"<span class="gate-status gate-waiting">Draft</span>"#,
        NoticeStatus::Superseded => {
            r#"<span class="gate-status notice-superseded-pill">Superseded</span>"#
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
    let text = |label: &str, t: &str| {
        if t.trim().is_empty() {
            String::new()
        } else {
            format!(
                r#"<div class="notice-text"><h4>{label}</h4><p class="prose">{}</p></div>"#,
                esc(t.trim())
            )
        }
    };
    let acks: String = n
        .audience
        .iter()
        .map(|a| ack_chip(n, &a.team_id, &a.team_name))
        .collect();
    let mut actions = ack_buttons(n, mine);
    // Automatic notices are the server's record of what happened; only written ones are edited.
    if editor && n.kind == NoticeKind::Manual && n.status != NoticeStatus::Superseded {
        actions += &format!(
            r#"<button type="button" class="btn btn-small" data-action="edit-notice" data-test="edit-notice" data-notice="{}">Edit</button>"#,
            esc(&n.id)
        );
        if n.status == NoticeStatus::Draft {
            actions += &format!(
                r#"<button type="button" class="btn btn-small btn-primary" data-action="publish-notice" data-test="publish-notice" data-notice="{}">Publish</button>"#,
                esc(&n.id)
            );
        }
    }
    format!(
        r#"<li class="notice notice-{status_attr}" data-test="notice" data-status="{status_attr}" data-kind="{kind}" data-revision="{rev}"><div class="notice-line">{kind_tag}{status}<span class="subtle">Revision {rev}{when}</span></div>{behaviour}{points}<div class="ack-row"><span class="subtle">Acknowledged </span>{acks}</div>{actions}</li>"#,
        status_attr = n.status.as_str(),
        kind = n.kind.as_str(),
        rev = revision(n, list),
        kind_tag = kind_tag(n.kind),
        when = esc(&when.iter().map(|w| format!(" · {w}")).collect::<String>()),
        behaviour = text("What users may notice", &n.expected_changes),
        points = text("Talking points", &n.talking_points),
        actions = if actions.is_empty() {
            String::new()
        } else {
            format!(r#"<div class="notice-actions">{actions}</div>"#)
        },
    )
}
