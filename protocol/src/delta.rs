//! The `graph_delta` event: what changed between two graph snapshots whose topology is the same
//! (the same nodes and edges, in the same order, and as many splits), so a stream can send the
//! numbers that moved instead of the whole graph on every refresh. The server computes it with
//! [`GraphDelta::between`], the page applies it with [`GraphDelta::apply`]; applied to the
//! snapshot it was computed from, it gives the newer snapshot exactly.

use serde::{Deserialize, Serialize};

use crate::{Edge, Freshness, Graph, MetricsStatus, Node, ServiceSplit, Settling};

/// The changes from the stream's previous graph (`base`) to the one generated at
/// `generated_at`. Only numbers move in a delta; positions (`i`) index the base's `nodes`,
/// `edges` and `splits`. Columns rather than objects: at 1,000 nodes nearly every rate moves on
/// every refresh, and the field names would otherwise be most of the bytes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphDelta {
    /// `generated_at` of the graph this delta applies to: the last one this stream sent.
    pub base: f64,
    pub generated_at: f64,
    pub window_seconds: u32,
    pub metrics: MetricsStatus,
    pub freshness: Freshness,
    /// Nodes whose rate changed.
    pub nodes: NodeRates,
    /// Edges whose numbers changed.
    pub edges: EdgeNumbers,
    /// Splits whose numbers changed.
    pub splits: SplitNumbers,
}

/// New `rate_in`s: `rate_in[k]` is node `i[k]`'s.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeRates {
    pub i: Vec<u32>,
    pub rate_in: Vec<f64>,
}

/// New numbers of edges: entry `k` of each column is edge `i[k]`'s.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdgeNumbers {
    pub i: Vec<u32>,
    pub rate: Vec<f64>,
    pub share: Vec<Option<f64>>,
    pub error_share: Vec<f64>,
    pub p95_ms: Vec<Option<f64>>,
}

/// New numbers of splits: entry `k` of each column is split `i[k]`'s; `requested[k]` and
/// `observed[k]` hold one value per version, in the split's order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SplitNumbers {
    pub i: Vec<u32>,
    pub rate: Vec<f64>,
    pub samples: Vec<f64>,
    pub tolerance: Vec<f64>,
    pub agrees: Vec<Option<bool>>,
    pub settling: Vec<Option<Settling>>,
    pub requested: Vec<Vec<f64>>,
    pub observed: Vec<Vec<Option<f64>>>,
}

/// Why a delta could not be applied; the page then asks for a full snapshot (reconnects).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    #[error("the graph update is for another snapshot than the one shown")]
    OtherBase,
    #[error("the graph update names a {what} the snapshot does not have")]
    OutOfRange { what: &'static str },
    #[error("the graph update's {what} columns differ in length")]
    Ragged { what: &'static str },
}

/// Same node, as far as topology goes: everything but the rate.
fn same_node(a: &Node, b: &Node) -> bool {
    a.id == b.id
        && a.kind == b.kind
        && a.namespace == b.namespace
        && a.name == b.name
        && a.app == b.app
        && a.version == b.version
}

fn same_edge(a: &Edge, b: &Edge) -> bool {
    a.id == b.id && a.source == b.source && a.target == b.target
}

/// Same split, as far as topology goes: the same route and versions (the numbers may differ).
fn same_split_route(a: &ServiceSplit, b: &ServiceSplit) -> bool {
    a.namespace == b.namespace
        && a.service == b.service
        && a.virtual_service == b.virtual_service
        && a.kind == b.kind
        && a.route_index == b.route_index
        && a.versions.len() == b.versions.len()
        && a.versions
            .iter()
            .zip(&b.versions)
            .all(|(x, y)| x.subset == y.subset && x.version == y.version)
}

/// Bit-exact equality, so a delta reproduces every value and never misses one.
fn same_f64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn same_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_f64(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn same_settling(a: &Option<Settling>, b: &Option<Settling>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            same_f64(a.since, b.since)
                && same_f64(a.until, b.until)
                && same_f64(a.progress, b.progress)
        }
        (None, None) => true,
        _ => false,
    }
}

fn same_split_numbers(a: &ServiceSplit, b: &ServiceSplit) -> bool {
    same_f64(a.rate, b.rate)
        && same_f64(a.samples, b.samples)
        && same_f64(a.tolerance, b.tolerance)
        && a.agrees == b.agrees
        && same_settling(&a.settling, &b.settling)
        && a.versions
            .iter()
            .zip(&b.versions)
            .all(|(x, y)| same_f64(x.requested, y.requested) && same_opt(x.observed, y.observed))
}

fn index(i: usize) -> Option<u32> {
    u32::try_from(i).ok()
}

impl GraphDelta {
    /// The delta from `old` to `new`, or `None` when the topology changed (nodes, edges or
    /// splits added, removed, reordered or renamed): then the whole graph is sent.
    pub fn between(old: &Graph, new: &Graph) -> Option<GraphDelta> {
        let stable = old.nodes.len() == new.nodes.len()
            && old.edges.len() == new.edges.len()
            && old.splits.len() == new.splits.len()
            && old
                .nodes
                .iter()
                .zip(&new.nodes)
                .all(|(a, b)| same_node(a, b))
            && old
                .edges
                .iter()
                .zip(&new.edges)
                .all(|(a, b)| same_edge(a, b))
            && old
                .splits
                .iter()
                .zip(&new.splits)
                .all(|(a, b)| same_split_route(a, b));
        if !stable {
            return None;
        }
        let mut nodes = NodeRates::default();
        for (i, (a, b)) in old.nodes.iter().zip(&new.nodes).enumerate() {
            if !same_f64(a.rate_in, b.rate_in) {
                nodes.i.push(index(i)?);
                nodes.rate_in.push(b.rate_in);
            }
        }
        let mut edges = EdgeNumbers::default();
        for (i, (a, b)) in old.edges.iter().zip(&new.edges).enumerate() {
            let same = same_f64(a.rate, b.rate)
                && same_opt(a.share, b.share)
                && same_f64(a.error_share, b.error_share)
                && same_opt(a.p95_ms, b.p95_ms);
            if !same {
                edges.i.push(index(i)?);
                edges.rate.push(b.rate);
                edges.share.push(b.share);
                edges.error_share.push(b.error_share);
                edges.p95_ms.push(b.p95_ms);
            }
        }
        let mut splits = SplitNumbers::default();
        for (i, (a, b)) in old.splits.iter().zip(&new.splits).enumerate() {
            if !same_split_numbers(a, b) {
                splits.i.push(index(i)?);
                splits.rate.push(b.rate);
                splits.samples.push(b.samples);
                splits.tolerance.push(b.tolerance);
                splits.agrees.push(b.agrees);
                splits.settling.push(b.settling.clone());
                splits
                    .requested
                    .push(b.versions.iter().map(|v| v.requested).collect());
                splits
                    .observed
                    .push(b.versions.iter().map(|v| v.observed).collect());
            }
        }
        Some(GraphDelta {
            base: old.generated_at,
            generated_at: new.generated_at,
            window_seconds: new.window_seconds,
            metrics: new.metrics.clone(),
            freshness: new.freshness.clone(),
            nodes,
            edges,
            splits,
        })
    }

    /// The graph this delta describes, made from `base` (which must be the snapshot it was
    /// computed from: same `generated_at`, positions in range).
    pub fn apply(&self, base: &Graph) -> Result<Graph, DeltaError> {
        if !same_f64(base.generated_at, self.base) {
            return Err(DeltaError::OtherBase);
        }
        let n = &self.nodes;
        if n.rate_in.len() != n.i.len() {
            return Err(DeltaError::Ragged { what: "node" });
        }
        let e = &self.edges;
        let k = e.i.len();
        if [
            e.rate.len(),
            e.share.len(),
            e.error_share.len(),
            e.p95_ms.len(),
        ] != [k; 4]
        {
            return Err(DeltaError::Ragged { what: "edge" });
        }
        let s = &self.splits;
        let k = s.i.len();
        let lengths = [
            s.rate.len(),
            s.samples.len(),
            s.tolerance.len(),
            s.agrees.len(),
            s.settling.len(),
            s.requested.len(),
            s.observed.len(),
        ];
        if lengths != [k; 7] {
            return Err(DeltaError::Ragged { what: "split" });
        }
        let mut graph = base.clone();
        for (&i, &rate_in) in n.i.iter().zip(&n.rate_in) {
            let node = graph
                .nodes
                .get_mut(i as usize)
                .ok_or(DeltaError::OutOfRange { what: "node" })?;
            node.rate_in = rate_in;
        }
        for (k, &i) in e.i.iter().enumerate() {
            let edge = graph
                .edges
                .get_mut(i as usize)
                .ok_or(DeltaError::OutOfRange { what: "edge" })?;
            edge.rate = e.rate[k];
            edge.share = e.share[k];
            edge.error_share = e.error_share[k];
            edge.p95_ms = e.p95_ms[k];
        }
        for (k, &i) in s.i.iter().enumerate() {
            let split = graph
                .splits
                .get_mut(i as usize)
                .ok_or(DeltaError::OutOfRange { what: "split" })?;
            let versions = split.versions.len();
            if s.requested[k].len() != versions || s.observed[k].len() != versions {
                return Err(DeltaError::Ragged { what: "split" });
            }
            split.rate = s.rate[k];
            split.samples = s.samples[k];
            split.tolerance = s.tolerance[k];
            split.agrees = s.agrees[k];
            split.settling.clone_from(&s.settling[k]);
            for (v, version) in split.versions.iter_mut().enumerate() {
                version.requested = s.requested[k][v];
                version.observed = s.observed[k][v];
            }
        }
        graph.generated_at = self.generated_at;
        graph.window_seconds = self.window_seconds;
        graph.metrics.clone_from(&self.metrics);
        graph.freshness.clone_from(&self.freshness);
        Ok(graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Contact, NodeKind, VersionSplit};

    fn node(id: &str, rate_in: f64) -> Node {
        Node {
            id: id.into(),
            kind: NodeKind::Workload,
            namespace: "hands-on".into(),
            name: id.into(),
            app: Some("review".into()),
            version: Some("v1".into()),
            rate_in,
        }
    }

    fn edge(source: &str, target: &str, rate: f64, p95: Option<f64>) -> Edge {
        Edge {
            id: format!("{source}->{target}"),
            source: source.into(),
            target: target.into(),
            rate,
            share: Some(100.0),
            error_share: 0.0,
            p95_ms: p95,
        }
    }

    fn split(observed_new: Option<f64>, settling: Option<Settling>) -> ServiceSplit {
        ServiceSplit {
            namespace: "hands-on".into(),
            service: "review".into(),
            virtual_service: "review".into(),
            kind: crate::RouteKind::VirtualService,
            route_index: 1,
            versions: vec![
                VersionSplit {
                    subset: "old".into(),
                    version: Some("v1".into()),
                    requested: 80.0,
                    observed: observed_new.map(|o| 100.0 - o),
                },
                VersionSplit {
                    subset: "new".into(),
                    version: Some("v2".into()),
                    requested: 20.0,
                    observed: observed_new,
                },
            ],
            rate: 20.0,
            samples: 600.0,
            tolerance: 5.0,
            agrees: Some(true),
            settling,
        }
    }

    fn graph(at: f64, rates: [f64; 3], observed: Option<f64>) -> Graph {
        Graph {
            nodes: vec![node("a", rates[0]), node("b", rates[1]), node("c", 0.0)],
            edges: vec![
                edge("a", "b", rates[1], Some(rates[2])),
                edge("b", "c", 0.0, None),
            ],
            splits: vec![split(observed, None)],
            metrics: MetricsStatus {
                fresh: true,
                last_success: Some(at),
                error: None,
            },
            window_seconds: 30,
            generated_at: at,
            freshness: Freshness {
                cluster: Contact {
                    last_contact: Some(at),
                    stale: false,
                    stale_after_seconds: 4.0,
                    error: None,
                },
                metrics: None,
            },
        }
    }

    #[test]
    fn a_delta_holds_only_what_moved_and_reproduces_the_newer_graph() {
        let old = graph(100.0, [10.0, 5.0, 12.5], Some(19.0));
        let mut new = graph(105.0, [10.0, 6.0, 12.5], Some(21.0));
        new.metrics.error = Some("slow".into());
        let delta = GraphDelta::between(&old, &new).expect("same topology");
        assert_eq!(
            delta.nodes,
            NodeRates {
                i: vec![1],
                rate_in: vec![6.0]
            }
        );
        assert_eq!(delta.edges.i, [0]);
        assert_eq!(delta.splits.i, [0]);
        assert_eq!(delta.apply(&old), Ok(new.clone()));
        // Through JSON, as the stream carries it.
        let wire: GraphDelta =
            serde_json::from_str(&serde_json::to_string(&delta).unwrap()).unwrap();
        assert_eq!(wire.apply(&old), Ok(new.clone()));
        // Nothing moved: an empty delta that still carries the new stamps.
        let mut same = new.clone();
        same.generated_at = 110.0;
        let delta = GraphDelta::between(&new, &same).unwrap();
        assert!(delta.nodes.i.is_empty() && delta.edges.i.is_empty() && delta.splits.i.is_empty());
        assert_eq!(delta.apply(&new), Ok(same));
    }

    #[test]
    fn settling_and_missing_values_count_as_changes() {
        let old = graph(100.0, [1.0, 1.0, 1.0], None);
        let mut new = graph(105.0, [1.0, 1.0, 1.0], None);
        new.splits[0].settling = Some(Settling {
            since: 99.0,
            until: 129.0,
            progress: 0.2,
        });
        new.edges[1].p95_ms = Some(3.0);
        let delta = GraphDelta::between(&old, &new).unwrap();
        assert_eq!((delta.edges.i.len(), delta.splits.i.len()), (1, 1));
        assert_eq!(delta.apply(&old), Ok(new));
    }

    #[test]
    fn a_topology_change_needs_the_whole_graph() {
        let old = graph(100.0, [1.0, 2.0, 3.0], None);
        let mut added = graph(105.0, [1.0, 2.0, 3.0], None);
        added.nodes.push(node("d", 0.0));
        assert_eq!(GraphDelta::between(&old, &added), None);
        let mut renamed = graph(105.0, [1.0, 2.0, 3.0], None);
        renamed.nodes[2].version = Some("v2".into());
        assert_eq!(GraphDelta::between(&old, &renamed), None);
        let mut rewired = graph(105.0, [1.0, 2.0, 3.0], None);
        rewired.edges.swap(0, 1);
        assert_eq!(GraphDelta::between(&old, &rewired), None);
        let mut fewer_splits = graph(105.0, [1.0, 2.0, 3.0], None);
        fewer_splits.splits.clear();
        assert_eq!(GraphDelta::between(&old, &fewer_splits), None);
        let mut other_subset = graph(105.0, [1.0, 2.0, 3.0], None);
        other_subset.splits[0].versions[1].subset = "canary".into();
        assert_eq!(GraphDelta::between(&old, &other_subset), None);
    }

    #[test]
    fn a_delta_applies_only_to_its_own_base() {
        let old = graph(100.0, [1.0, 2.0, 3.0], None);
        let new = graph(105.0, [4.0, 2.0, 3.0], None);
        let delta = GraphDelta::between(&old, &new).unwrap();
        assert_eq!(delta.apply(&new), Err(DeltaError::OtherBase));
        let mut shorter = old.clone();
        shorter.nodes.clear();
        assert_eq!(
            delta.apply(&shorter),
            Err(DeltaError::OutOfRange { what: "node" })
        );
        let mut ragged = delta.clone();
        ragged.nodes.rate_in.push(1.0);
        assert_eq!(ragged.apply(&old), Err(DeltaError::Ragged { what: "node" }));
    }

    #[test]
    fn a_weight_change_moves_only_numbers() {
        let old = graph(100.0, [1.0, 2.0, 3.0], Some(20.0));
        let mut new = graph(105.0, [1.0, 2.0, 3.0], Some(20.0));
        new.splits[0].versions[0].requested = 50.0;
        new.splits[0].versions[1].requested = 50.0;
        let delta = GraphDelta::between(&old, &new).unwrap();
        assert_eq!(delta.splits.requested, [vec![50.0, 50.0]]);
        assert_eq!(delta.apply(&old), Ok(new));
    }
}
