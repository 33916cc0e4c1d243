//! The graph view: toolbar (label mode, namespace), the SVG graph, and beside it the selected
//! service's weight controls and the requested-against-observed panel; a legend below. Derives
//! [`GraphData`] from the store once per snapshot and lays it out with the previous positions,
//! so nodes keep their places as metrics change.

use super::{
    bench_probe::BenchProbe, edge::GraphEdge, export::GraphExport, in_namespace,
    label_mode_selector::LabelModeSelector, layout, legend::Legend, live_control::LiveControl,
    metrics_banner::MetricsBanner, namespace_filter::NamespaceFilter, node::GraphNode,
    selected_service::SelectedService, service_node_id, split_badge::SplitBadge,
    split_panel::SplitPanel, test_ids, vitals, GraphData,
};
use crate::{
    api::{graph::fetch_graph, rollout::fetch_history},
    components::{copy_link::CopyLink, window_selector::WindowSelector},
    state::{
        graph::{clock_time, use_graph},
        view_url::use_view,
    },
};
use leptos::prelude::*;
use switchyard_protocol::Graph;

/// Arrowhead markers, one per edge colour (SVG 1.1 markers cannot take the line's colour).
const MARKERS: [&str; 4] = ["is-idle", "is-healthy", "is-degraded", "is-failing"];

#[component]
pub fn GraphView() -> impl IntoView {
    let store = use_graph();
    let view = use_view();
    // Seed from the latest snapshot and the history; the stream keeps both current afterwards.
    let seed_error = RwSignal::new(None::<String>);
    let window = view.0.with_untracked(|v| v.window);
    leptos::task::spawn_local(async move {
        match fetch_graph(window).await {
            Ok(graph) => store.apply_graph(graph),
            Err(error) => seed_error.set(Some(format!("could not load the graph: {error}"))),
        }
        match fetch_history().await {
            Ok(history) => {
                for change in &history.changes {
                    store.apply_change(change);
                }
            }
            Err(error) => {
                seed_error.set(Some(format!("could not load the change history: {error}")))
            }
        }
    });
    let namespace = Memo::new(move |_| view.0.with(|v| v.namespace.clone()));
    let graph = Memo::new(move |_| {
        store.graph.with(|g| match g {
            Some(g) => {
                namespace.with(|ns| vitals::with_route_edges(&in_namespace(g, ns.as_deref())))
            }
            None => Graph::default(),
        })
    });
    let positions = Memo::new(move |previous: Option<&layout::Positions>| {
        let empty = layout::Positions::default();
        graph.with(|g| layout::layout(previous.unwrap_or(&empty), g))
    });
    let data = GraphData {
        graph,
        positions,
        nodes: Memo::new(move |_| {
            graph.with(|g| g.nodes.iter().map(|n| (n.id.clone(), n.clone())).collect())
        }),
        edges: Memo::new(move |_| {
            graph.with(|g| g.edges.iter().map(|e| (e.id.clone(), e.clone())).collect())
        }),
        splits: Memo::new(move |_| {
            graph.with(|g| {
                g.splits
                    .iter()
                    .map(|s| (service_node_id(&s.namespace, &s.service), s.clone()))
                    .collect()
            })
        }),
        max_rate: Memo::new(move |_| {
            graph.with(|g| g.edges.iter().map(|e| e.rate).fold(0.0, f64::max))
        }),
    };
    provide_context(data);

    // Document order is tab order: nodes go left to right, then top to bottom, as drawn.
    let node_ids = Memo::new(move |_| {
        let mut ids = data.nodes.with(|n| n.keys().cloned().collect::<Vec<_>>());
        positions.with(|p| ids.sort_by_key(|id| p.point(id).unwrap_or((i64::MAX, i64::MAX))));
        ids
    });
    let edge_ids = Memo::new(move |_| data.edges.with(|e| e.keys().cloned().collect::<Vec<_>>()));
    let split_ids = Memo::new(move |_| data.splits.with(|s| s.keys().cloned().collect::<Vec<_>>()));
    let size = Memo::new(move |_| positions.with(layout::Positions::size));
    let loaded = move || store.graph.with(Option::is_some);
    // The wall display shows the graph and its numbers, none of the controls.
    let kiosk = view.0.with_untracked(|v| v.kiosk);
    let updated = move || {
        store.graph.with(|g| {
            g.as_ref().map(|g| {
                format!(
                    "snapshot {} UTC · rates over the last {} s",
                    clock_time(g.generated_at),
                    g.window_seconds
                )
            })
        })
    };

    view! {
        <section class="graph-view" aria-labelledby="graph-view-title">
            <MetricsBanner />
            <header class="graph-toolbar">
                <h2 class="graph-title" id="graph-view-title">"Live traffic"</h2>
                {(!kiosk).then(|| view! {
                    <LabelModeSelector />
                    <NamespaceFilter />
                    <WindowSelector />
                })}
                <p class="graph-updated" data-testid=test_ids::GRAPH_UPDATED>{updated}</p>
                {(!kiosk).then(|| view! {
                    <LiveControl />
                    <span class="graph-share">
                        <CopyLink />
                        <GraphExport />
                    </span>
                })}
            </header>
            <div class="graph-body">
                <div class="graph-canvas">
                    {move || {
                        (!loaded()).then(|| view! { <p class="page-note">"Waiting for the first traffic graph…"</p> })
                    }}
                    {move || seed_error.get().map(|e| view! { <p class="page-error" role="alert">{e}</p> })}
                    <svg
                        class="graph-svg"
                        data-testid=test_ids::GRAPH
                        role="group"
                        aria-label="traffic graph: entry on the left, services and their versions to the right; services are buttons"
                        width=move || size.get().0.to_string()
                        height=move || size.get().1.to_string()
                        viewBox=move || format!("0 0 {} {}", size.get().0, size.get().1)
                        style=move || format!("max-width: {}px", size.get().0)
                    >
                        <defs>
                            {MARKERS
                                .iter()
                                .map(|class| {
                                    view! {
                                        <marker
                                            id=format!("arrow-{class}")
                                            class=format!("graph-arrow {class}")
                                            viewBox="0 0 10 10"
                                            refX="9"
                                            refY="5"
                                            markerWidth="9"
                                            markerHeight="9"
                                            markerUnits="userSpaceOnUse"
                                            orient="auto"
                                        >
                                            <path d="M 0 0 L 10 5 L 0 10 z" />
                                        </marker>
                                    }
                                })
                                .collect_view()}
                        </defs>
                        <g class="graph-edges">
                            <For each=move || edge_ids.get() key=|id| id.clone() let(id)>
                                <GraphEdge id />
                            </For>
                        </g>
                        <g class="graph-nodes">
                            <For each=move || node_ids.get() key=|id| id.clone() let(id)>
                                <GraphNode id />
                            </For>
                        </g>
                        <g class="graph-splits">
                            <For each=move || split_ids.get() key=|id| id.clone() let(id)>
                                <SplitBadge service_id=id />
                            </For>
                        </g>
                    </svg>
                </div>
                <div class="graph-side">
                    {(!kiosk).then(|| view! { <SelectedService /> })}
                    <SplitPanel />
                </div>
            </div>
            <Legend />
            <BenchProbe />
        </section>
    }
}
