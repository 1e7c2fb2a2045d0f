//! Loading data for a view, cheaply. `LocalResource` + `Suspend` + `<Transition>` instantiate
//! a large async machinery per data type and call site (about 15 KB of Wasm each); the bundle
//! has a size budget, so the account pages use this instead: one effect, one task, one signal.
//! Loading and failure are still always shown ([`Loaded::view`]).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::error_banner::ErrorBanner;
use crate::api::{self, ApiError, ApiResult};

/// A request under way.
type Fetch<T> = Pin<Box<dyn Future<Output = ApiResult<T>>>>;

/// A fetched value, refetched whenever what `source` reads changes, or on [`Loaded::refetch`].
/// While a refetch runs, the previous answer stays on screen (as `<Transition>` does).
pub struct Loaded<T: 'static> {
    value: RwSignal<Option<Result<T, ApiError>>>,
    version: RwSignal<u32>,
    /// A request is under way.
    busy: RwSignal<bool>,
}

impl<T: 'static> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: 'static> Copy for Loaded<T> {}

impl<T: Clone + Send + Sync + 'static> Loaded<T> {
    pub fn new<S, Fut>(
        source: impl Fn() -> S + Send + Sync + 'static,
        fetch: impl Fn(S) -> Fut + Send + Sync + 'static,
    ) -> Self
    where
        S: 'static,
        Fut: Future<Output = ApiResult<T>> + 'static,
    {
        Self::starting(Box::new(move || Box::pin(fetch(source()))))
    }

    /// [`Loaded::new`] with the request as a trait object: the effect and the task are then
    /// compiled once per type of answer rather than once per page that loads one.
    fn starting(start: Box<dyn Fn() -> Fetch<T> + Send + Sync>) -> Self {
        let value = RwSignal::new(None);
        let version = RwSignal::new(0_u32);
        let busy = RwSignal::new(false);
        // Only the newest request may write: an older answer arriving late is dropped.
        let latest = StoredValue::new(0_u32);
        Effect::new(move |_| {
            version.track();
            let fut = start();
            let ticket = latest.get_value().wrapping_add(1);
            latest.set_value(ticket);
            busy.set(true);
            spawn_local(async move {
                let r = fut.await;
                if latest.try_get_value() == Some(ticket) {
                    value.try_set(Some(r));
                    busy.try_set(false);
                }
            });
        });
        Loaded {
            value,
            version,
            busy,
        }
    }

    /// Whether a request is under way (tracked): the first, or a refetch while the previous
    /// answer stays on screen.
    pub fn busy(&self) -> bool {
        self.busy.get()
    }

    pub fn refetch(&self) {
        self.version.update(|v| *v = v.wrapping_add(1));
    }

    /// The answer, once there is one (tracked).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        self.value.get()
    }

    /// The answer, once there is one, without tracking (for event handlers).
    pub fn get_untracked(&self) -> Option<Result<T, ApiError>> {
        self.value.get_untracked()
    }

    /// `loading` until the first answer, then `ok` of the value or an error banner with a
    /// retry button.
    pub fn view<V: IntoView + 'static>(
        self,
        loading: fn() -> AnyView,
        ok: impl Fn(T) -> V + Send + Sync + 'static,
    ) -> impl IntoView {
        let retry = Callback::new(move |_| self.refetch());
        move || match self.value.get() {
            None => loading(),
            Some(Ok(v)) => ok(v).into_any(),
            Some(Err(e)) => view! { <ErrorBanner error=e retry=retry /> }.into_any(),
        }
    }
}

/// The teams, loaded once per view. One function for every page that needs them, so that the
/// generic loader is instantiated once rather than per call site.
pub fn teams_loader() -> Loaded<Vec<shared::teams::Team>> {
    Loaded::new(|| (), |_| api::teams())
}
