//! The side panel: every weighted service with requested against observed, the worked-out
//! sentence and a sparkline of the observed share of its new version.

use super::{split_row::SplitRow, use_graph_data};
use leptos::prelude::*;

#[component]
pub fn SplitPanel() -> impl IntoView {
    let data = use_graph_data();
    let ids = Memo::new(move |_| data.splits.with(|s| s.keys().cloned().collect::<Vec<_>>()));
    view! {
        <aside class="split-panel" aria-labelledby="split-panel-title">
            <h3 class="split-panel-title" id="split-panel-title">"Requested vs observed"</h3>
            {move || {
                ids.with(Vec::is_empty)
                    .then(|| view! { <p class="page-note">"No service with a weighted route in view."</p> })
            }}
            <ul class="split-panel-list">
                <For each=move || ids.get() key=|id| id.clone() let(id)>
                    <SplitRow service_id=id />
                </For>
            </ul>
        </aside>
    }
}
