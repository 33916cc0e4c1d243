//! The live traffic graph: a layered SVG of entry → services → versions, edges labelled by the
//! chosen mode, requested-against-observed splits on the graph and in a side panel with
//! sparklines, and a service's weight controls beside the graph when it is clicked. The drawing
//! is built in one pass per snapshot and patched per refresh (`scene.rs`), in a panel with pan,
//! zoom and a level of detail (`graph_canvas.rs`, `viewport.rs`); find, hide and collapse
//! (`find.rs`, `find_bar.rs`) and a list view (`list_view.rs`) make a large mesh usable.
//!
//! Pure parts (`layout`, `label`, `scene`, `viewport`, `find`, `synthetic`, the sparkline
//! geometry) are unit-tested natively; the components only read [`GraphData`] and the view state.

pub mod bench_probe;
pub mod edge;
pub mod export;
pub mod find;
pub mod find_bar;
pub mod graph_canvas;
// The style brief names each file after its component, so `GraphView` lives in graph_view.rs.
#[allow(clippy::module_inception)]
pub mod graph_view;
pub mod health;
pub mod label;
pub mod label_mode_selector;
pub mod layout;
pub mod legend;
pub mod list_view;
pub mod live_control;
pub mod metrics_banner;
pub mod namespace_filter;
pub mod node;
pub mod scene;
pub mod selected_service;
pub mod sparkline;
pub mod split_panel;
pub mod split_row;
pub mod synthetic;
pub mod test_ids;
pub mod viewport;
pub mod vitals;

use leptos::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use switchyard_protocol::{Graph, Node, NodeKind, ServiceSplit};

/// The graph as drawn: collapsed groups joined into one node each.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    pub graph: Graph,
    pub groups: BTreeMap<String, find::GroupInfo>,
}

/// What the graph's parts read, derived once per snapshot.
#[derive(Clone, Copy)]
pub struct GraphData {
    /// The snapshot after the namespace filter, with the idle edges of routes at weight 0.
    pub graph: Memo<Graph>,
    /// Splits by their service's node id.
    pub splits: Memo<BTreeMap<String, ServiceSplit>>,
    /// The graph after collapsing.
    pub drawn: Memo<Arc<Drawn>>,
    /// The drawn nodes the filters hide.
    pub hidden: Memo<HashSet<String>>,
    /// What the panel draws.
    pub scene: Memo<Arc<scene::Scene>>,
}

pub fn use_graph_data() -> GraphData {
    expect_context::<GraphData>()
}

/// The graph restricted to one namespace; entry and unknown stay, as do edges between what is
/// left. Splits are filtered the same way.
pub fn in_namespace(graph: &Graph, namespace: Option<&str>) -> Graph {
    let Some(namespace) = namespace else {
        return graph.clone();
    };
    let keep = |n: &Node| {
        matches!(n.kind, NodeKind::Entry | NodeKind::Unknown) || n.namespace == namespace
    };
    let nodes: Vec<Node> = graph.nodes.iter().filter(|n| keep(n)).cloned().collect();
    let ids: std::collections::BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let edges = graph
        .edges
        .iter()
        .filter(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()))
        .cloned()
        .collect();
    Graph {
        edges,
        splits: graph
            .splits
            .iter()
            .filter(|s| s.namespace == namespace)
            .cloned()
            .collect(),
        nodes,
        ..graph.clone()
    }
}

/// Every namespace in the graph, sorted, for the filter.
pub fn namespaces(graph: &Graph) -> Vec<String> {
    let mut out: Vec<String> = graph
        .nodes
        .iter()
        .filter(|n| !n.namespace.is_empty())
        .map(|n| n.namespace.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The node id of a split's service.
pub fn service_node_id(namespace: &str, service: &str) -> String {
    format!("svc:{namespace}:{service}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_filter_keeps_entry_and_edges_within() {
        let graph = synthetic::graph(40, 100);
        let mut other = graph.clone();
        for n in &mut other.nodes {
            if n.kind == NodeKind::Workload && n.name.ends_with("-v2") {
                n.namespace = "elsewhere".into();
            }
        }
        assert_eq!(namespaces(&other), ["bench", "elsewhere"]);
        let bench = in_namespace(&other, Some("bench"));
        assert!(bench.nodes.iter().any(|n| n.id == "entry"));
        assert!(bench.nodes.iter().all(|n| !n.name.ends_with("-v2")));
        assert!(bench.edges.iter().all(|e| !e.target.ends_with("-v2")));
        assert_eq!(bench.splits.len(), graph.splits.len());
        assert!(in_namespace(&other, Some("elsewhere")).splits.is_empty());
        assert_eq!(in_namespace(&graph, None), graph);
    }
}
