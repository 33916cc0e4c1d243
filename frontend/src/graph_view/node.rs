//! One node of the graph: services as rounded pills, workloads as boxes with their version,
//! entry as a circle, unknown as a dashed box. Clicking (or Enter/Space on) a service selects it,
//! which opens its weight controls beside the graph. The outline takes the colour of the health
//! of the traffic into the node (Kiali's thresholds, `vitals.rs`); the tooltip says it in words.

use super::{
    label::fixed,
    layout::{NODE_HEIGHT, NODE_WIDTH},
    test_ids, use_graph_data,
    vitals::{error_percent, Vitals},
};
use crate::state::view_url::use_view;
use leptos::{either::EitherOf4, prelude::*};
use switchyard_protocol::{Node, NodeKind};

/// Longest name drawn in full inside a node; longer ones end in `…` (the tooltip has it all).
const MAX_NAME: usize = 22;

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(MAX_NAME - 1).collect();
        short.push('…');
        short
    }
}

/// Second line of a node: the version of a workload, the kind of anything else.
fn caption(node: &Node) -> String {
    match node.kind {
        NodeKind::Workload => match &node.version {
            Some(version) => format!("{version} · {} rps", fixed(node.rate_in, 1)),
            None => format!("workload · {} rps", fixed(node.rate_in, 1)),
        },
        NodeKind::Service => format!("service · {} rps", fixed(node.rate_in, 1)),
        NodeKind::Entry => "outside the mesh".to_owned(),
        NodeKind::Unknown => "no workload".to_owned(),
    }
}

/// The tooltip: what the node is and its traffic in words, without internal ids. `vitals` is the
/// traffic into it; `out_rate` what it sent (only the entry uses it).
pub fn tooltip(node: &Node, vitals: &Vitals, out_rate: f64) -> String {
    let traffic = if vitals.rate > 0.0 {
        let p95 = vitals
            .p95_ms
            .map(|ms| format!(", p95 {} ms", fixed(ms, 0)))
            .unwrap_or_default();
        format!(
            "{} rps in, {} errors{p95} ({})",
            fixed(vitals.rate, 1),
            error_percent(vitals.errors),
            vitals.health().word()
        )
    } else {
        "no traffic in the window".to_owned()
    };
    match node.kind {
        NodeKind::Entry => format!(
            "Traffic from outside the mesh (load generator or an ingress without a sidecar): {} rps out",
            fixed(out_rate, 1)
        ),
        NodeKind::Unknown => format!("Requests that reached no workload: {traffic}"),
        NodeKind::Service => format!(
            "Service {} in {}: {traffic}. Click for its weights.",
            node.name, node.namespace
        ),
        NodeKind::Workload => {
            let of = match (&node.version, &node.app) {
                (Some(version), Some(app)) => format!(" (version {version} of {app})"),
                (Some(version), None) => format!(" (version {version})"),
                _ => String::new(),
            };
            format!(
                "Workload {}{of} in {}: {traffic}",
                node.name, node.namespace
            )
        }
    }
}

#[component]
pub fn GraphNode(id: String) -> impl IntoView {
    let data = use_graph_data();
    let view = use_view();
    let node = {
        let id = id.clone();
        Memo::new(move |_| data.nodes.with(|n| n.get(&id).cloned()))
    };
    let point = {
        let id = id.clone();
        Memo::new(move |_| data.positions.with(|p| p.point(&id)))
    };
    let kind = node.with_untracked(|n| n.as_ref().map_or(NodeKind::Unknown, |n| n.kind));
    let selectable = kind == NodeKind::Service;
    let selected = {
        let id = id.clone();
        Memo::new(move |_| view.0.with(|v| v.select.as_deref() == Some(id.as_str())))
    };
    let select = {
        let id = id.clone();
        move || {
            if selectable {
                view.0.update(|v| {
                    v.select = if v.select.as_deref() == Some(id.as_str()) {
                        None
                    } else {
                        Some(id.clone())
                    }
                });
            }
        }
    };
    let on_key = {
        let select = select.clone();
        move |event: leptos::ev::KeyboardEvent| {
            if matches!(event.key().as_str(), "Enter" | " ") {
                event.prevent_default();
                select();
            }
        }
    };
    let kind_class = match kind {
        NodeKind::Entry => "is-entry",
        NodeKind::Service => "is-service",
        NodeKind::Workload => "is-workload",
        NodeKind::Unknown => "is-unknown",
    };
    let (w, h) = (NODE_WIDTH, NODE_HEIGHT);
    let shape = match kind {
        NodeKind::Service => EitherOf4::A(view! {
            <rect class="graph-node-shape" x=-w / 2 y=-h / 2 width=w height=h rx=h / 2 />
        }),
        NodeKind::Workload => EitherOf4::B(view! {
            <rect class="graph-node-shape" x=-w / 2 y=-h / 2 width=w height=h rx=4 />
        }),
        NodeKind::Entry => EitherOf4::C(view! {
            <circle class="graph-node-shape" r=h / 2 cx=w / 2 - h / 2 />
        }),
        NodeKind::Unknown => EitherOf4::D(view! {
            <rect class="graph-node-shape" x=-w / 2 y=-h / 2 width=w height=h rx=4 />
        }),
    };
    // Entry is drawn as a circle at the right end of its slot, label to its left.
    let (text_x, anchor) = if kind == NodeKind::Entry {
        (w / 2 - h - 6, "end")
    } else {
        (0, "middle")
    };
    let vitals = {
        let id = id.clone();
        Memo::new(move |_| {
            data.graph.with(|g| {
                let out = g
                    .edges
                    .iter()
                    .filter(|e| e.source == id)
                    .map(|e| e.rate)
                    .sum::<f64>();
                (super::vitals::node_vitals(g, &id), out)
            })
        })
    };
    let title = move || {
        node.with(|n| {
            n.as_ref()
                .map(|n| vitals.with(|(v, out)| tooltip(n, v, *out)))
                .unwrap_or_default()
        })
    };
    // Entry and unknown keep their own look; services and workloads show their health.
    let health_class = move || match kind {
        NodeKind::Service | NodeKind::Workload => vitals
            .with(|(v, _)| format!(" health-{}", v.health().class().trim_start_matches("is-"))),
        _ => String::new(),
    };

    view! {
        <g
            class=move || {
                format!(
                    "graph-node {kind_class}{}{}{}",
                    if selectable { " is-selectable" } else { "" },
                    if selected.get() { " is-selected" } else { "" },
                    health_class(),
                )
            }
            data-testid=test_ids::node(&id)
            transform=move || point.get().map(|(x, y)| format!("translate({x},{y})")).unwrap_or_default()
            tabindex=if selectable { Some("0") } else { None }
            role=if selectable { Some("button") } else { None }
            aria-pressed=move || selectable.then(|| selected.get().to_string())
            on:click=move |_| select()
            on:keydown=on_key
        >
            <title>{title}</title>
            {shape}
            <text class="graph-node-name" x=text_x y=-3 text-anchor=anchor>
                {move || node.with(|n| n.as_ref().map(|n| shorten(&n.name)).unwrap_or_default())}
            </text>
            <text class="graph-node-caption" x=text_x y=12 text-anchor=anchor>
                {move || node.with(|n| n.as_ref().map(caption).unwrap_or_default())}
            </text>
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened() {
        assert_eq!(shorten("review-v2"), "review-v2");
        let long = "a-very-long-workload-name-v1";
        let short = shorten(long);
        assert_eq!(short.chars().count(), MAX_NAME);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn captions_say_version_and_rate() {
        let node = Node {
            id: "wl:h:review-v2".into(),
            kind: NodeKind::Workload,
            namespace: "h".into(),
            name: "review-v2".into(),
            app: Some("review".into()),
            version: Some("v2".into()),
            rate_in: 3.96,
        };
        assert_eq!(caption(&node), "v2 · 4.0 rps");
        let vitals = Vitals {
            rate: 3.96,
            errors: 6.8,
            p95_ms: Some(31.4),
        };
        assert_eq!(
            tooltip(&node, &vitals, 0.0),
            "Workload review-v2 (version v2 of review) in h: 4.0 rps in, 6.8% errors, p95 31 ms (degraded)"
        );
        let entry = Node {
            id: "entry".into(),
            kind: NodeKind::Entry,
            namespace: String::new(),
            name: "entry".into(),
            app: None,
            version: None,
            rate_in: 0.0,
        };
        let text = tooltip(&entry, &vitals, 12.0);
        assert!(text.starts_with("Traffic from outside the mesh"), "{text}");
        assert!(!text.contains("()") && !text.contains("entry"), "{text}");
    }
}
