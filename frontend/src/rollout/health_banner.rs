//! Says, above the graph, when a new version fails more than its old one ("review v2: 6.8% errors
//! vs 0.1% on v1 — roll back?"), with the rollback one click away: the button opens the same
//! confirmation as the rollback section's, wherever the page is scrolled.

use super::{rollback_button::use_rollback_request, test_ids};
use crate::{
    graph_view::health::alarms,
    state::{graph::use_graph, settings::use_settings},
};
use leptos::prelude::*;

#[component]
pub fn HealthBanner() -> impl IntoView {
    let store = use_graph();
    let settings = use_settings();
    let rollback = use_rollback_request();
    let found = Memo::new(move |_| {
        let new_subset = settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.new_name().to_owned()));
        store.graph.with(|g| {
            g.as_ref()
                .map(|g| alarms(g, new_subset.as_deref()))
                .unwrap_or_default()
        })
    });
    view! {
        <div class="health-banner-region" role="alert">
            {move || {
                let found = found.get();
                (!found.is_empty())
                    .then(|| {
                        view! {
                            <div class="health-banner" data-testid=test_ids::HEALTH_BANNER>
                                <ul class="health-banner-list">
                                    {found
                                        .into_iter()
                                        .map(|alarm| {
                                            view! {
                                                <li data-testid=test_ids::health_alarm(&alarm.service)>
                                                    {alarm.sentence()}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <button
                                    type="button"
                                    class="danger-button"
                                    data-testid=test_ids::HEALTH_ROLLBACK
                                    on:click=move |_| rollback.ask()
                                >
                                    "Roll back…"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
