//! The discussion on a change: who wrote what and when, and a form to add to it. Anyone
//! signed in reads and writes, so a PM can ask or decide in writing; `@team` tells a team.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::comments::{Comment, NewComment, validate_text};
use shared::validate::FieldError;

use crate::api;
use crate::components::field::FieldMsg;
use crate::components::load::Loaded;
use crate::components::skeleton::LinesSkeleton;
use crate::format;

#[component]
pub(super) fn Discussion(change_id: String) -> impl IntoView {
    let id = StoredValue::new(change_id);
    let list = Loaded::new(
        move || id.get_value(),
        |id| async move { api::comments(&id).await },
    );
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<FieldError>);
    let pending = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let body = NewComment {
            text: text.get_untracked(),
        };
        // The server's rule, for an instant answer; the server still checks it and the teams.
        if let Err(e) = validate_text(&body.text) {
            error.set(Some(e));
            return;
        }
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            match api::post_comment(&id.get_value(), &body).await {
                Ok(_) => {
                    text.set(String::new());
                    list.refetch();
                }
                Err(e) => error.set(Some(FieldError::new(
                    e.field().unwrap_or("text"),
                    e.message(),
                ))),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card" data-test="discussion">
            <div class="card-head">
                <div>
                    <h2>"Discussion"</h2>
                    <p class="card-sub">"Questions and decisions, in writing. Mention a team by its name after @ (@support) to tell it in its feed and chat."</p>
                </div>
            </div>
            {list.view(|| view! { <LinesSkeleton /> }.into_any(), |items: Vec<Comment>| {
                if items.is_empty() {
                    return view! { <p class="subtle" data-test="no-comments">"No comments yet."</p> }.into_any();
                }
                view! { <ol class="comment-list">{items.into_iter().map(comment).collect_view()}</ol> }.into_any()
            })}
            <form class="comment-form" novalidate on:submit=submit>
                <label class="field">
                    <span class="field-label">"Add a comment"</span>
                    <textarea name="text" rows="3" maxlength="4000" data-test="comment-text" bind:value=text
                        placeholder="e.g. @support, are tickets about billing answers up since the canary?"></textarea>
                    <FieldMsg field="text" error=error />
                </label>
                <button type="submit" class="btn btn-primary" data-test="comment-post" disabled=move || pending.get()>"Post comment"</button>
            </form>
        </section>
    }
}

/// One comment: who, when, what, and the teams it told.
pub fn comment(c: Comment) -> impl IntoView {
    view! {
        <li class="comment" data-test="comment">
            <div class="notice-line">
                <strong title=c.author_email>{c.author_name}</strong>
                <span class="subtle" title=format::date_time(&c.created_at)>{format::relative_time(&c.created_at)}</span>
                {c.mentions.into_iter().map(|m| view! { <span class="tag">{format!("@{}", m.team_name)}</span> }).collect_view()}
            </div>
            <p class="prose">{c.text}</p>
        </li>
    }
}
