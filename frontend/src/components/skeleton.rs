//! Grey shimmering placeholders shown while data loads, shaped like what will arrive.

use leptos::prelude::*;

#[component]
pub fn SkeletonLine(#[prop(default = "100%")] width: &'static str) -> impl IntoView {
    view! { <span class="skeleton" style=format!("width: {width}")></span> }
}

/// Three lines, for a list or a short section.
#[component]
pub fn LinesSkeleton() -> impl IntoView {
    view! {
        <div aria-busy="true" aria-label="Loading">
            <SkeletonLine width="60%" />
            <SkeletonLine width="80%" />
            <SkeletonLine width="45%" />
        </div>
    }
}

#[component]
pub fn TableSkeleton(#[prop(default = 6)] rows: usize) -> impl IntoView {
    view! {
        <div class="card table-card" aria-busy="true" aria-label="Loading">
            <div class="skeleton-table">
                {(0..rows)
                    .map(|i| {
                        let w = ["62%", "48%", "70%", "55%", "40%", "66%"][i % 6];
                        view! {
                            <div class="skeleton-row">
                                <SkeletonLine width=w />
                                <SkeletonLine width="70%" />
                                <SkeletonLine width="60%" />
                                <SkeletonLine width="80%" />
                                <SkeletonLine width="70%" />
                            </div>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

#[component]
pub fn PageSkeleton() -> impl IntoView {
    view! {
        <div class="page" aria-busy="true" aria-label="Loading">
            <div class="skeleton-head">
                <SkeletonLine width="18%" />
                <span class="skeleton skeleton-title"></span>
                <SkeletonLine width="35%" />
            </div>
            <div class="card skeleton-card">
                <SkeletonLine width="25%" />
                <div class="skeleton-steps">
                    {(0..7).map(|_| view! { <span class="skeleton skeleton-step"></span> }).collect_view()}
                </div>
            </div>
            <div class="card skeleton-card">
                <SkeletonLine width="30%" />
                <SkeletonLine width="90%" />
                <SkeletonLine width="75%" />
            </div>
        </div>
    }
}
