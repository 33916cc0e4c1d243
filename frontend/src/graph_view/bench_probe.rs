//! The render benchmark (`/?bench=N`): replaces the live graph with the synthetic graph of N
//! nodes and 3N edges and measures, in the page, each from handing over the change until the
//! frame after it was painted (two animation frames later):
//!
//! - `bench-render-ms`: the first drawing (with `bench-layout-ms`, the layout alone in wasm);
//! - `bench-refresh-ms`: a metrics refresh that changes every edge (rates, errors, p95); and the
//!   same refresh handed over at the start of an animation frame, as `bench-refresh-frame-ms`,
//!   the time until the next frame starts (one frame, 16.7 ms at 60 Hz, when its script, style,
//!   layout and paint all fit in it), and `bench-refresh-work-ms`, its script work alone;
//! - `bench-label-ms`: a switch of the edge-label mode;
//! - `bench-fps` and `bench-worst-frame-ms`: a scripted zoom (45 frames) and pan (45 frames),
//!   from the animation-frame timestamps; `bench-settle-ms`: the sharp redraw after it;
//! - `bench-elements`: the SVG elements drawn.
//!
//! `tests/benches/graph.rs` reads them through chromedriver.

use super::{graph_canvas::use_camera, label::LabelMode, layout, synthetic, test_ids};
use crate::state::{graph::use_graph, view_url::use_view};
use leptos::prelude::*;

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// The time at the start of the next animation frame.
async fn frame() -> f64 {
    let (tx, rx) = futures::channel::oneshot::channel();
    request_animation_frame(move || {
        let _ = tx.send(now_ms());
    });
    rx.await.unwrap_or_else(|_| now_ms())
}

/// Milliseconds since `start` once the page's script work for a change is done: the change
/// queued its effects as microtasks, so a promise resolved now settles after all of them.
async fn worked(start: f64) -> f64 {
    let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(
        &wasm_bindgen::JsValue::NULL,
    ))
    .await;
    now_ms() - start
}

/// Milliseconds since `start` once the frame after the change was painted.
async fn painted(start: f64) -> f64 {
    frame().await;
    frame().await;
    now_ms() - start
}

async fn idle() {
    gloo_timers::future::TimeoutFuture::new(400).await;
}

/// What the probe measures on one page (ms, frames per second, element count); the graph bench
/// (`tests/benches/graph.rs`) reads the same figures back from the page's test ids.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    pub render: f64,
    pub layout: f64,
    pub refresh: f64,
    pub refresh_frame: f64,
    pub refresh_work: f64,
    pub label: f64,
    pub fps: f64,
    pub worst_frame: f64,
    pub settle: f64,
    pub elements: f64,
}

#[component]
pub fn BenchProbe() -> impl IntoView {
    let store = use_graph();
    let view = use_view();
    let camera = use_camera();
    let result = RwSignal::new(None::<Figures>);
    if let Some(nodes) = view.0.with_untracked(|v| v.bench) {
        store.frozen.set(true);
        let graph = synthetic::graph(nodes, nodes * 3);
        leptos::task::spawn_local(async move {
            let mut f = Figures::default();
            let started = now_ms();
            let _ = layout::layout(&layout::Positions::default(), &graph);
            f.layout = now_ms() - started;
            // Let the page settle (first paint of the empty graph) before timing the big one.
            frame().await;
            let start = now_ms();
            store.graph.set(Some(graph.clone()));
            f.render = painted(start).await;
            idle().await;

            let refresh = |graph: &switchyard_protocol::Graph, round: usize| {
                let mut refreshed = graph.clone();
                refreshed.generated_at += 5.0;
                for (i, e) in refreshed.edges.iter_mut().enumerate() {
                    let i = i + round;
                    e.rate *= 1.1 + (i % 7) as f64 / 100.0;
                    e.error_share = if i.is_multiple_of(11) {
                        3.0
                    } else {
                        e.error_share / 2.0
                    };
                    e.p95_ms = e.p95_ms.map(|p| p + 1.0 + (i % 5) as f64);
                    e.share = e.share.map(|s| s * 0.99);
                }
                refreshed
            };
            let refreshed = refresh(&graph, 0);
            let start = now_ms();
            store.graph.set(Some(refreshed.clone()));
            f.refresh = painted(start).await;
            idle().await;
            // The next refresh handed over as a frame starts: does it fit in that frame?
            let again = refresh(&refreshed, 1);
            let start = frame().await;
            store.graph.set(Some(again));
            f.refresh_work = worked(start).await;
            f.refresh_frame = frame().await - start;
            idle().await;

            let start = now_ms();
            view.0.update(|v| v.mode = LabelMode::Rate);
            f.label = painted(start).await;
            idle().await;

            let mut times = Vec::with_capacity(91);
            for i in 0..90 {
                times.push(frame().await);
                if i < 45 {
                    camera.zoom_by(1.03, None);
                } else {
                    camera.pan_to(camera.viewport().pan(6.0, 4.0));
                }
            }
            times.push(frame().await);
            let span = times.last().copied().unwrap_or(0.0) - times[0];
            f.fps = if span > 0.0 {
                (times.len() - 1) as f64 * 1000.0 / span
            } else {
                0.0
            };
            f.worst_frame = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
            let start = now_ms();
            camera.settle();
            f.settle = painted(start).await;
            f.elements = document()
                .query_selector_all(&format!("[data-testid=\"{}\"] *", test_ids::GRAPH))
                .map_or(0.0, |l| f64::from(l.length()));
            result.set(Some(f));
        });
    }
    move || {
        result.get().map(|f| {
            let fixed = super::label::fixed;
            view! {
                <p class="bench-result">
                    "render "
                    <span data-testid=test_ids::BENCH_RENDER_MS>{fixed(f.render, 1)}</span>
                    " ms · layout "
                    <span data-testid=test_ids::BENCH_LAYOUT_MS>{fixed(f.layout, 1)}</span>
                    " ms · refresh "
                    <span data-testid=test_ids::BENCH_REFRESH_MS>{fixed(f.refresh, 1)}</span>
                    " ms (in a frame of "
                    <span data-testid=test_ids::BENCH_REFRESH_FRAME_MS>{fixed(f.refresh_frame, 1)}</span>
                    " ms, script "
                    <span data-testid=test_ids::BENCH_REFRESH_WORK_MS>{fixed(f.refresh_work, 1)}</span>
                    ")"
                    " ms · label switch "
                    <span data-testid=test_ids::BENCH_LABEL_MS>{fixed(f.label, 1)}</span>
                    " ms · zoom and pan "
                    <span data-testid=test_ids::BENCH_FPS>{fixed(f.fps, 1)}</span>
                    " fps (worst frame "
                    <span data-testid=test_ids::BENCH_WORST_FRAME_MS>{fixed(f.worst_frame, 1)}</span>
                    " ms) · sharp redraw "
                    <span data-testid=test_ids::BENCH_SETTLE_MS>{fixed(f.settle, 1)}</span>
                    " ms · "
                    <span data-testid=test_ids::BENCH_ELEMENTS>{fixed(f.elements, 0)}</span>
                    " SVG elements"
                </p>
            }
        })
    }
}
