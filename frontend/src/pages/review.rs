//! The post-deployment review (`/changes/:id/review`): did the change behave as expected?
//!
//! People write what users noticed (drafted from the complaints support recorded), the lessons
//! and the follow-ups; the change reaches Reviewed only once that is written. Below the form,
//! the review as it exports (`review.md`): the facts Rollgate recorded (expected against
//! measured, each criterion's outcome, holds and rollbacks, time in each stage, notices and
//! who acknowledged them, complaints) and what was written, refreshed on every save.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::paths;
use shared::review::{ReviewInput, review_problems};
use shared::validate::FieldError;

use crate::api::{self, ReviewForm};
use crate::components::change_tabs::{ChangeTab, ChangeTabs};
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{FieldMsg, focus_first_error};
use crate::components::load::Loaded;
use crate::components::markdown::Document;
use crate::components::skeleton::{LinesSkeleton, PageSkeleton};
use crate::{format, session};

#[component]
pub fn ReviewPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let form = Loaded::new(
        move || id.get(),
        |id| async move { api::review_form(&id).await },
    );
    // Read again after each save, so the document shows what was written.
    let saves = RwSignal::new(0_u32);
    let document = Loaded::new(
        move || (id.get(), saves.get()),
        |(id, _)| async move { api::review_markdown(&id).await },
    );
    view! {
        <div class="page">
            {form.view(|| view! { <PageSkeleton /> }.into_any(), move |r: ReviewForm| view! {
                <ReviewHead id=id.get_untracked() review=r saves=saves />
            })}
            <section class="card review-document" data-test="review-document">
                <h2 class="sr-only">"The review as exported"</h2>
                {document.view(|| view! { <LinesSkeleton /> }.into_any(), |md: String| view! { <Document md=md /> })}
            </section>
        </div>
    }
}

/// The title, the Markdown export and the form.
#[component]
fn ReviewHead(id: String, review: ReviewForm, saves: RwSignal<u32>) -> impl IntoView {
    let ReviewForm {
        title,
        state,
        written,
        users_noticed_draft,
    } = review;
    let noticed_draft = match &written {
        Some(w) => w.users_noticed.clone(),
        None => users_noticed_draft,
    };
    let users_noticed = RwSignal::new(noticed_draft);
    let lessons = RwSignal::new(
        written
            .as_ref()
            .map(|w| w.lessons.clone())
            .unwrap_or_default(),
    );
    let follow_ups = RwSignal::new(
        written
            .as_ref()
            .map(|w| w.follow_ups.join("\n"))
            .unwrap_or_default(),
    );
    let revision = RwSignal::new(written.as_ref().map_or(0, |w| w.revision));
    let saved = RwSignal::new(written.map(|w| (w.written_by, w.written_at)));
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let problem = RwSignal::new(None::<api::ApiError>);
    let pending = RwSignal::new(false);
    let editor = session::has_any(shared::access::EDITORS);
    let change = StoredValue::new(id.clone());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let input = ReviewInput {
            users_noticed: users_noticed.get_untracked().trim().to_owned(),
            lessons: lessons.get_untracked().trim().to_owned(),
            follow_ups: follow_ups
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            revision: revision.get_untracked(),
        };
        problem.set(None);
        // Every broken part at once, with the server's words.
        let found = review_problems(&input);
        errors.set(found.clone());
        if !found.is_empty() {
            focus_first_error();
            return;
        }
        pending.set(true);
        spawn_local(async move {
            match api::write_review(&change.get_value(), &input).await {
                Ok(r) => {
                    if let Some(w) = r.written {
                        revision.set(w.revision);
                        saved.set(Some((w.written_by, w.written_at)));
                    }
                    saves.update(|n| *n += 1);
                }
                Err(e) => {
                    if let Some(field) = e.field() {
                        errors.set(vec![FieldError::new(field, e.message())]);
                        focus_first_error();
                    }
                    problem.set(Some(e));
                }
            }
            pending.set(false);
        });
    };

    let markdown = format!("{}{}", paths::BASE, paths::change_review_markdown(&id));
    view! {
        <a class="back-link" href=format!("/changes/{id}")>"← Back to the change"</a>
        <header class="page-head">
            <div>
                <h1 data-test="review-title">{format!("Review: {title}")}</h1>
                <p class="page-lede">{format!("{state}. Did the change behave as expected? The facts below are what Rollgate recorded; the team writes the rest.")}</p>
            </div>
            <a class="btn" href=markdown download data-test="review-markdown">"Export as Markdown"</a>
        </header>
        <ChangeTabs id=id at=ChangeTab::Review review=true />
        <section class="card" data-test="review-written">
            <h2>"What the team adds"</h2>
            <p class="card-sub" data-test="review-saved">{move || match saved.get() {
                Some((by, at)) => format!("Last written by {by}, {}.", format::relative_time(&at)),
                None => "Not written yet: the change cannot be marked Reviewed until it is.".into(),
            }}</p>
            {move || problem.get().map(|e| view! { <ErrorBanner error=e /> })}
            <form class="review-form" novalidate on:submit=submit>
                {[
                    ("users_noticed", "What users noticed", "From support, complaints and feedback; “nothing” is an answer.", users_noticed),
                    ("lessons", "Lessons", "Did the eval predict what the canary measured? What would you watch next time?", lessons),
                    ("follow_ups", "Follow-ups, one per line", "e.g. Add refund-deadline cases to the eval", follow_ups),
                ].into_iter().map(|(name, label, hint, value)| view! {
                    <label class="field">
                        <span class="field-label">{label}</span>
                        <textarea name=name rows="3" data-test=format!("review-{}", name.replace('_', "-")) bind:value=value
                            readonly=!editor placeholder=hint></textarea>
                        <FieldMsg field=name errors=errors prefix=name == "follow_ups" />
                    </label>
                }).collect_view()}
                {editor.then(|| view! {
                    <button type="submit" class="btn btn-primary" data-test="review-save" disabled=move || pending.get()>"Save review"</button>
                })}
            </form>
        </section>
    }
}
