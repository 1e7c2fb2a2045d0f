//! The "Ingestion tokens" panel: the bearer tokens a production app sends metric windows with,
//! on a change's page (tokens for that change) and on the admin page (all of them). A new
//! token's secret is shown once, in a copyable box. Tokens are an admin's business.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::tokens::{NewToken, TokenCreated, TokenInfo, default_scopes, validate_new};

use crate::api::{self, ApiError};
use crate::components::copy_button::CopyButton;
use crate::components::error_banner::{ErrorBanner, Problem};
use crate::components::load::Loaded;
use crate::components::skeleton::SkeletonLine;
use crate::format;

#[component]
pub fn TokensPanel(
    /// The change the panel is about; `None` for every token of the workspace.
    #[prop(optional, into)]
    change_id: Option<String>,
) -> impl IntoView {
    let scoped = change_id.is_some();
    let id = StoredValue::new(change_id);
    let list = Loaded::new(
        move || id.get_value(),
        |id| async move { api::tokens(id.as_deref()).await },
    );
    let name = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let invalid = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<TokenCreated>);
    let reload = Callback::new(move |_| list.refetch());

    let create = move || {
        let body = NewToken {
            name: name.get_untracked().trim().to_string(),
            change_id: id.get_value(),
            change_ids: None,
            scopes: default_scopes(),
        };
        if let Err(e) = validate_new(&body) {
            invalid.set(Some(format!("Name {}.", e.message)));
            return;
        }
        invalid.set(None);
        error.set(None);
        pending.set(true);
        spawn_local(async move {
            match api::create_token(&body).await {
                Ok(t) => {
                    created.set(Some(t));
                    name.set(String::new());
                    list.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card tokens-card" id="tokens" data-test="tokens">
            <div class="card-head">
                <div>
                    <h2>"Ingestion tokens"</h2>
                    <p class="card-sub">
                        "Your application sends metric windows with one of these, as "<code>"Authorization: Bearer …"</code>". "
                        {if scoped { "They may only send data for this change." } else { "Tokens created here may send data for every change." }}
                    </p>
                </div>
            </div>
            {move || created.get().map(|t| view! {
                <div class="secret-box" data-test="token-secret-box" role="status">
                    <div class="secret-warn">
                        <strong>{format!("Token “{}” created.", t.token.name)}</strong>
                        " Copy the secret now: it is not stored and will not be shown again."
                    </div>
                    <div class="copy-box">
                        <pre class="code" data-test="token-secret">{t.secret.clone()}</pre>
                        <CopyButton text=t.secret.clone() />
                    </div>
                    <button type="button" class="btn btn-small" on:click=move |_| created.set(None)>"I have stored it"</button>
                </div>
            })}
            <form class="token-form" on:submit=move |e| { e.prevent_default(); create(); }>
                <input
                    type="text"
                    name="token-name"
                    data-test="token-name"
                    placeholder="What it is for, e.g. billing-api production"
                    maxlength="100"
                    bind:value=name
                />
                <button type="submit" class="btn btn-primary" data-test="create-token" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create token" }}
                </button>
            </form>
            {move || invalid.get().map(|m| view! { <ErrorBanner error=Problem::new("Check the name", m) /> })}
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            {list.view(
                || view! { <div class="token-list"><SkeletonLine width="70%" /><SkeletonLine width="50%" /></div> }.into_any(),
                move |tokens: Vec<TokenInfo>| if tokens.is_empty() {
                    view! {
                        <p class="subtle token-none">{if scoped { "No tokens for this change yet." } else { "No tokens yet." }}</p>
                    }.into_any()
                } else {
                    view! { <TokenTable tokens=tokens reload=reload show_change=!scoped /> }.into_any()
                },
            )}
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenInfo>, reload: Callback<()>, show_change: bool) -> impl IntoView {
    let asking = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let pending = RwSignal::new(false);
    let revoke = move |id: String| {
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::revoke_token(&id).await {
                Ok(()) => {
                    asking.set(None);
                    reload.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    let rows = tokens
        .into_iter()
        .map(|t| {
            let tid = t.id.clone();
            let tid_ask = t.id.clone();
            let tid_is = t.id.clone();
            let is_asking = move || asking.with(|a| a.as_deref() == Some(tid_is.as_str()));
            let revoked = t.revoked_at.clone();
            let is_revoked = revoked.is_some();
            view! {
                <tr data-test="token" data-token-id=t.id.clone() class:is-revoked=is_revoked>
                    <td><strong>{t.name.clone()}</strong><span class="subtle token-by">{format!(" · {}", t.created_by)}</span></td>
                    <td><code class="chip">{format!("{}…", t.prefix)}</code></td>
                    {show_change.then(|| view! {
                        <td>{match t.change_id.clone() {
                            Some(c) => view! { <a class="mono" href=format!("/changes/{c}")>{c.clone()}</a> }.into_any(),
                            None => view! { <span class="subtle">"Every change"</span> }.into_any(),
                        }}</td>
                    })}
                    <td class="subtle" title=format::date_time(&t.created_at)>{format::relative_time(&t.created_at)}</td>
                    <td class="token-actions">
                        {match revoked {
                            Some(at) => view! {
                                <span class="tag" title=format::date_time(&at)>{format!("Revoked {}", format::relative_time(&at))}</span>
                            }.into_any(),
                            None => view! {
                                <Show
                                    when=is_asking
                                    fallback=move || {
                                        let tid_ask = tid_ask.clone();
                                        view! {
                                            <button type="button" class="btn btn-small btn-danger" data-test="revoke-token"
                                                on:click=move |_| { error.set(None); asking.set(Some(tid_ask.clone())); }>
                                                "Revoke"
                                            </button>
                                        }
                                    }
                                >
                                    <span class="confirm-inline">
                                        <span class="subtle">"Apps using it will be refused."</span>
                                        <button type="button" class="btn btn-small btn-ghost" on:click=move |_| asking.set(None)>"Cancel"</button>
                                        <button type="button" class="btn btn-small btn-danger" data-test="confirm-revoke"
                                            disabled=move || pending.get()
                                            on:click={
                                                let tid = tid.clone();
                                                move |_| revoke(tid.clone())
                                            }>
                                            "Revoke now"
                                        </button>
                                    </span>
                                </Show>
                            }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
        <table class="table table-compact token-table">
            <thead><tr><th>"Name"</th><th>"Prefix"</th>{show_change.then(|| view! { <th>"Change"</th> })}<th>"Created"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
