//! Pause, resume and refresh of the graph, for someone reading a snapshot mid-incident: paused,
//! the graph holds still (the stream keeps running and the newest snapshot waits); "Refresh now"
//! asks the server for its latest snapshot at once, paused or not.

use super::test_ids;
use crate::{
    api::graph::fetch_graph,
    state::{
        graph::{clock_time, use_graph},
        view_url::use_view,
    },
};
use leptos::prelude::*;

#[component]
pub fn LiveControl() -> impl IntoView {
    let store = use_graph();
    let view = use_view();
    let problem = RwSignal::new(None::<String>);
    let toggle = move |_| {
        if store.paused.get_untracked() {
            store.resume();
        } else {
            store.pause();
        }
    };
    let refresh = move |_| {
        let window = view.0.with_untracked(|v| v.window);
        leptos::task::spawn_local(async move {
            match fetch_graph(window).await {
                Ok(graph) => {
                    problem.set(None);
                    store.show_now(graph);
                }
                Err(error) => problem.set(Some(format!("could not refresh: {error}"))),
            }
        });
    };
    let note = move || {
        store.paused.get().then(|| {
            let shown = store
                .graph
                .with(|g| g.as_ref().map(|g| clock_time(g.generated_at)))
                .unwrap_or_else(|| "—".into());
            let waiting = store.held.with(Option::is_some);
            format!(
                "paused at the {shown} UTC snapshot{}",
                if waiting {
                    "; newer ones are waiting"
                } else {
                    ""
                }
            )
        })
    };
    view! {
        <span class="graph-live">
            <button
                type="button"
                class="secondary-button"
                data-testid=test_ids::GRAPH_PAUSE
                aria-pressed=move || store.paused.get().to_string()
                on:click=toggle
            >
                {move || if store.paused.get() { "Resume" } else { "Pause" }}
            </button>
            <button
                type="button"
                class="secondary-button"
                data-testid=test_ids::GRAPH_REFRESH
                on:click=refresh
            >
                "Refresh now"
            </button>
            <span class="graph-live-note" data-testid=test_ids::GRAPH_PAUSED_NOTE role="status">
                {note}
            </span>
            {move || problem.get().map(|p| view! { <span class="page-error" role="alert">{p}</span> })}
        </span>
    }
}
