//! The render benchmark (`/?bench=N`): replaces the live graph with the synthetic graph of N
//! nodes and 3N edges, and writes how long the page took to draw it — from handing the graph to
//! the store until the frame after it was painted — into `bench-render-ms`, and the layout alone
//! (in wasm) into `bench-layout-ms`. `tests/benches/graph.rs` reads both through chromedriver.

use super::{layout, synthetic, test_ids};
use crate::state::{graph::use_graph, view_url::use_view};
use leptos::prelude::*;

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

#[component]
pub fn BenchProbe() -> impl IntoView {
    let store = use_graph();
    let view = use_view();
    let result = RwSignal::new(None::<(f64, f64)>);
    if let Some(nodes) = view.0.with_untracked(|v| v.bench) {
        store.frozen.set(true);
        let graph = synthetic::graph(nodes, nodes * 3);
        let started = now_ms();
        let _ = layout::layout(&layout::Positions::default(), &graph);
        let layout_ms = now_ms() - started;
        // Let the page settle (first paint of the empty graph) before timing the big one.
        request_animation_frame(move || {
            let start = now_ms();
            store.graph.set(Some(graph));
            // The reactive system updates the DOM in microtasks before the next frame; the
            // second frame callback runs once that frame was painted.
            request_animation_frame(move || {
                request_animation_frame(move || result.set(Some((now_ms() - start, layout_ms))));
            });
        });
    }
    move || {
        result.get().map(|(render, layout)| {
            view! {
                <p class="bench-result">
                    "render "
                    <span data-testid=test_ids::BENCH_RENDER_MS>{super::label::fixed(render, 1)}</span>
                    " ms · layout "
                    <span data-testid=test_ids::BENCH_LAYOUT_MS>{super::label::fixed(layout, 1)}</span>
                    " ms"
                </p>
            }
        })
    }
}
