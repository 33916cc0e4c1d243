//! The side panel: the weighted services with requested against observed, the worked-out
//! sentence and a sparkline of the observed share of its new version. The search and the filters
//! narrow it as they do the drawing; it shows at most [`MAX_ROWS`] (the list view has them all),
//! the selected service first.

use super::{find::matches, split_row::SplitRow, use_graph_data};
use crate::state::view_url::use_view;
use leptos::prelude::*;
use std::collections::HashMap;

/// Rows with sparklines at most.
pub const MAX_ROWS: usize = 12;

#[component]
pub fn SplitPanel() -> impl IntoView {
    let data = use_graph_data();
    let view = use_view();
    let query = Memo::new(move |_| view.0.with(|v| v.query.clone()));
    let selected = Memo::new(move |_| view.0.with(|v| v.select.clone()));
    let chosen = Memo::new(move |_| {
        let query = query.get();
        let selected = selected.get();
        data.graph.with(|g| {
            let nodes: HashMap<&str, _> = g.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
            data.hidden.with(|hidden| {
                data.splits.with(|s| {
                    let mut ids: Vec<String> = s
                        .keys()
                        .filter(|id| !hidden.contains(*id))
                        .filter(|id| {
                            query.trim().is_empty()
                                || nodes.get(id.as_str()).is_some_and(|n| matches(n, &query))
                        })
                        .cloned()
                        .collect();
                    let total = ids.len();
                    if let Some(at) = selected
                        .as_ref()
                        .and_then(|sel| ids.iter().position(|id| id == sel))
                    {
                        let id = ids.remove(at);
                        ids.insert(0, id);
                    }
                    ids.truncate(MAX_ROWS);
                    (ids, total)
                })
            })
        })
    });
    let ids = Memo::new(move |_| chosen.with(|c| c.0.clone()));
    let more = move || {
        chosen.with(|(ids, total)| {
            (*total > ids.len()).then(|| {
                view! {
                    <p class="page-note">
                        {format!("{} of {total} weighted services; find narrows them, the list view has them all.", ids.len())}
                    </p>
                }
            })
        })
    };
    view! {
        <aside class="split-panel" aria-labelledby="split-panel-title">
            <h3 class="split-panel-title" id="split-panel-title">"Requested vs observed"</h3>
            {move || {
                ids.with(Vec::is_empty)
                    .then(|| view! { <p class="page-note">"No service with a weighted route in view."</p> })
            }}
            {more}
            <ul class="split-panel-list">
                <For each=move || ids.get() key=|id| id.clone() let(id)>
                    <SplitRow service_id=id />
                </For>
            </ul>
        </aside>
    }
}
