//! The graph view: toolbar (label mode, namespace), find and hide, the graph's panel (or the list
//! view), and beside it the selected service's weight controls and the requested-against-observed
//! panel; a legend below. Derives [`GraphData`] from the store once per snapshot (namespace,
//! collapsed groups, filters), lays it out with every position it ever gave, so nodes keep their
//! places as metrics change and come back to them after a filter or a collapse, and builds the
//! [`Scene`] the panel draws.

use super::{
    bench_probe::BenchProbe,
    export::GraphExport,
    find::{self, Group},
    find_bar::FindBar,
    graph_canvas::{Camera, GraphCanvas},
    in_namespace,
    label_mode_selector::LabelModeSelector,
    layout,
    legend::Legend,
    list_view::ListView,
    live_control::LiveControl,
    metrics_banner::MetricsBanner,
    namespace_filter::NamespaceFilter,
    scene::{Scene, SceneInput},
    selected_service::SelectedService,
    service_node_id,
    split_panel::SplitPanel,
    test_ids, vitals, Drawn, GraphData,
};
use crate::{
    api::{graph::fetch_graph, rollout::fetch_history},
    components::{copy_link::CopyLink, window_selector::WindowSelector},
    state::{
        graph::{clock_time, use_graph},
        settings::use_settings,
        view_url::use_view,
    },
};
use leptos::prelude::*;
use std::sync::Arc;
use switchyard_protocol::Graph;

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
            // One copy of the snapshot, not two, when every namespace is shown.
            Some(g) => namespace.with(|ns| match ns.as_deref() {
                None => vitals::with_route_edges(g),
                Some(ns) => vitals::with_route_edges(&in_namespace(g, Some(ns))),
            }),
            None => Graph::default(),
        })
    });
    let groups = Memo::new(move |_| {
        view.0.with(|v| {
            v.collapse
                .iter()
                .filter_map(|key| Group::parse_key(key))
                .collect::<Vec<_>>()
        })
    });
    let drawn = Memo::new(move |_| {
        graph.with(|g| {
            groups.with(|groups| {
                let (graph, groups) = find::collapse(g, groups);
                Arc::new(Drawn { graph, groups })
            })
        })
    });
    // Every slot ever given, so a node a filter or a collapse took away comes back to its place,
    // and a collapsed group starts where its first member was.
    let memory = StoredValue::new(layout::Positions::default());
    let positions = Memo::new(move |previous: Option<&Arc<layout::Positions>>| {
        drawn.with(|d| {
            // A refresh of the same nodes: the same places, without laying out again.
            if let Some(previous) = previous.filter(|p| p.hold_for(&d.graph)) {
                return previous.clone();
            }
            memory.update_value(|m| {
                for (id, info) in &d.groups {
                    if m.get(id).is_none() {
                        let first = info
                            .members
                            .iter()
                            .filter_map(|member| m.get(member))
                            .min_by_key(|slot| (slot.layer, slot.half_row));
                        if let Some(slot) = first {
                            m.insert(id.clone(), slot);
                        }
                    }
                }
            });
            let placed = memory.with_value(|m| layout::layout(m, &d.graph));
            memory.update_value(|m| m.remember(&placed));
            Arc::new(placed)
        })
    });
    let filters = Memo::new(move |_| {
        view.0.with(|v| find::Filters {
            weighted_only: v.weighted,
            errors_above: v.errors_above,
            p95_above: v.p95_above,
        })
    });
    let hidden = Memo::new(move |_| filters.with(|f| drawn.with(|d| find::hidden(&d.graph, f))));
    let mode = Memo::new(move |_| view.0.with(|v| v.mode));
    let selected = Memo::new(move |_| view.0.with(|v| v.select.clone()));
    let query = Memo::new(move |_| view.0.with(|v| v.query.clone()));
    let settings = use_settings();
    let new_subset = Memo::new(move |_| {
        settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.new_name().to_owned()))
    });
    let scene = Memo::new(move |_| {
        drawn.with(|d| {
            positions.with(|positions| {
                hidden.with(|hidden| {
                    query.with(|query| {
                        selected.with(|selected| {
                            new_subset.with(|new_subset| {
                                Arc::new(Scene::build(&SceneInput {
                                    graph: &d.graph,
                                    positions: positions.as_ref(),
                                    mode: mode.get(),
                                    selected: selected.as_deref(),
                                    new_subset: new_subset.as_deref(),
                                    hidden,
                                    query,
                                    groups: &d.groups,
                                }))
                            })
                        })
                    })
                })
            })
        })
    });
    let data = GraphData {
        graph,
        splits: Memo::new(move |_| {
            graph.with(|g| {
                g.splits
                    .iter()
                    .map(|s| (service_node_id(&s.namespace, &s.service), s.clone()))
                    .collect()
            })
        }),
        drawn,
        hidden,
        scene,
    };
    provide_context(data);
    // The wall display shows the graph and its numbers, none of the controls.
    let kiosk = view.0.with_untracked(|v| v.kiosk);
    let camera = Camera::new(view, kiosk);
    provide_context(camera);
    let loaded = move || store.graph.with(Option::is_some);
    let list = move || view.0.with(|v| v.list);
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
            {(!kiosk).then(|| view! { <FindBar /> })}
            <div class="graph-body">
                <div class="graph-canvas" class:is-list=list>
                    {move || {
                        (!loaded()).then(|| view! { <p class="page-note">"Waiting for the first traffic graph…"</p> })
                    }}
                    {move || seed_error.get().map(|e| view! { <p class="page-error" role="alert">{e}</p> })}
                    <GraphCanvas scene />
                    {move || list().then(|| view! { <ListView /> })}
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
