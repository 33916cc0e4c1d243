//! Pure: how healthy each node and each version of a split is (request rate, error percent and
//! p95 over the window, coloured with Kiali's thresholds), and the routes the graph draws although
//! they carry nothing (a destination at weight 0 has no traffic, hence no edge in the snapshot,
//! yet the legend promises it as a dashed "no traffic" line).

use super::label::{fixed, short_percent, Health};
use std::collections::{BTreeSet, HashMap};
use switchyard_protocol::{Edge, Graph, Node, NodeKind, ServiceSplit, VersionSplit};

/// Above this percent of 5xx (or no response) a node, edge or version is degraded (Kiali's
/// default "degraded" threshold for request errors).
pub const DEGRADED_ABOVE_PERCENT: f64 = 0.1;
/// At or above this percent it is failing (Kiali's default "failure" threshold).
pub const FAILING_AT_PERCENT: f64 = 10.0;

/// The health colour of traffic with this rate and error percent.
pub fn health(rate: f64, error_percent: f64) -> Health {
    if rate <= 0.0 || !rate.is_finite() {
        Health::Idle
    } else if error_percent >= FAILING_AT_PERCENT {
        Health::Failing
    } else if error_percent > DEGRADED_ABOVE_PERCENT {
        Health::Degraded
    } else {
        Health::Healthy
    }
}

/// Traffic into one node or one version over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Vitals {
    /// Requests per second.
    pub rate: f64,
    /// Percent of them that failed.
    pub errors: f64,
    /// The slowest p95 among the edges it came over, in ms; `None` without latency samples.
    pub p95_ms: Option<f64>,
}

impl Vitals {
    pub fn health(&self) -> Health {
        health(self.rate, self.errors)
    }

    /// `0.4% errors · p95 12 ms`, or `no traffic`.
    pub fn summary(&self) -> String {
        if self.rate <= 0.0 {
            return "no traffic".to_owned();
        }
        let p95 = match self.p95_ms {
            Some(ms) => format!("p95 {} ms", fixed(ms, 0)),
            None => "p95 –".to_owned(),
        };
        format!("{} errors · {p95}", error_percent(self.errors))
    }

    fn of<'a>(edges: impl Iterator<Item = &'a Edge>) -> Vitals {
        let (mut rate, mut failed, mut p95) = (0.0, 0.0, None::<f64>);
        for edge in edges {
            rate += edge.rate;
            failed += edge.rate * edge.error_share / 100.0;
            if let Some(ms) = edge.p95_ms {
                p95 = Some(p95.map_or(ms, |p: f64| p.max(ms)));
            }
        }
        Vitals {
            rate,
            errors: if rate > 0.0 {
                failed * 100.0 / rate
            } else {
                0.0
            },
            p95_ms: p95,
        }
    }
}

/// An error percent the way an SRE reads it: two decimals under 1 % (so 0.05 % is not "0.1 %"
/// and not "0 %"), otherwise as [`short_percent`].
pub fn error_percent(value: f64) -> String {
    if value > 0.0 && value < 1.0 {
        format!("{}%", fixed(value, 2))
    } else {
        short_percent(value)
    }
}

/// Traffic into a node: every edge that ends at it.
pub fn node_vitals(graph: &Graph, id: &str) -> Vitals {
    Vitals::of(graph.edges.iter().filter(|e| e.target == id))
}

/// Traffic from a split's service to the workloads of one of its versions.
pub fn version_vitals(graph: &Graph, split: &ServiceSplit, version: &VersionSplit) -> Vitals {
    let Some(wanted) = version.version.as_deref() else {
        return Vitals::of(std::iter::empty());
    };
    let service = service_id(split);
    let targets: BTreeSet<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Workload && n.version.as_deref() == Some(wanted))
        .map(|n| n.id.as_str())
        .collect();
    Vitals::of(
        graph
            .edges
            .iter()
            .filter(|e| e.source == service && targets.contains(e.target.as_str())),
    )
}

/// The same vitals as [`node_vitals`] and [`version_vitals`], for a whole graph at once: one pass
/// over the edges instead of one per node (the renderer asks for every node and split of a
/// snapshot, which is quadratic the other way).
pub struct VitalsIndex<'g> {
    incoming: HashMap<&'g str, Vec<&'g Edge>>,
    outgoing: HashMap<&'g str, Vec<&'g Edge>>,
    nodes: HashMap<&'g str, &'g Node>,
}

impl<'g> VitalsIndex<'g> {
    pub fn of(graph: &'g Graph) -> Self {
        let mut incoming: HashMap<&str, Vec<&Edge>> = HashMap::new();
        let mut outgoing: HashMap<&str, Vec<&Edge>> = HashMap::new();
        for e in &graph.edges {
            incoming.entry(e.target.as_str()).or_default().push(e);
            outgoing.entry(e.source.as_str()).or_default().push(e);
        }
        let nodes = graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        VitalsIndex {
            incoming,
            outgoing,
            nodes,
        }
    }

    /// As [`node_vitals`].
    pub fn node(&self, id: &str) -> Vitals {
        Vitals::of(self.incoming.get(id).into_iter().flatten().copied())
    }

    /// What a node sends, in requests per second.
    pub fn out_rate(&self, id: &str) -> f64 {
        self.outgoing
            .get(id)
            .into_iter()
            .flatten()
            .map(|e| e.rate)
            .sum()
    }

    /// The edges out of a node.
    pub fn outgoing(&self, id: &str) -> impl Iterator<Item = &'g Edge> + '_ {
        self.outgoing.get(id).into_iter().flatten().copied()
    }

    /// The edges into a node.
    pub fn incoming(&self, id: &str) -> impl Iterator<Item = &'g Edge> + '_ {
        self.incoming.get(id).into_iter().flatten().copied()
    }

    pub fn node_of(&self, id: &str) -> Option<&'g Node> {
        self.nodes.get(id).copied()
    }

    /// As [`version_vitals`].
    pub fn version(&self, split: &ServiceSplit, version: &VersionSplit) -> Vitals {
        let Some(wanted) = version.version.as_deref() else {
            return Vitals::of(std::iter::empty());
        };
        let service = service_id(split);
        Vitals::of(self.outgoing(&service).filter(|e| {
            self.nodes.get(e.target.as_str()).is_some_and(|n| {
                n.kind == NodeKind::Workload && n.version.as_deref() == Some(wanted)
            })
        }))
    }
}

fn service_id(split: &ServiceSplit) -> String {
    format!("svc:{}:{}", split.namespace, split.service)
}

/// The graph with an idle edge (rate 0, no share) from each weighted service to the workloads of
/// every version its route names but that received nothing over the window, e.g. v2 at weight
/// 0. The workloads are those of the service's app: the `app` of the workloads it did reach, or
/// an app named like the service.
pub fn with_route_edges(graph: &Graph) -> Graph {
    let mut extra = Vec::new();
    let existing: BTreeSet<(&str, &str)> = graph
        .edges
        .iter()
        .map(|e| (e.source.as_str(), e.target.as_str()))
        .collect();
    let index = VitalsIndex::of(graph);
    // Workloads by (namespace, app, version), so each split looks up only its own.
    let mut workloads: HashMap<(&str, &str, &str), Vec<&str>> = HashMap::new();
    for n in &graph.nodes {
        if let (NodeKind::Workload, Some(app), Some(version)) = (n.kind, &n.app, &n.version) {
            workloads
                .entry((n.namespace.as_str(), app.as_str(), version.as_str()))
                .or_default()
                .push(n.id.as_str());
        }
    }
    for split in &graph.splits {
        let service = service_id(split);
        let app = index
            .outgoing(&service)
            .find_map(|e| index.node_of(&e.target).and_then(|n| n.app.clone()))
            .unwrap_or_else(|| split.service.clone());
        for version in split.versions.iter().filter_map(|v| v.version.as_deref()) {
            let key = (split.namespace.as_str(), app.as_str(), version);
            for &workload in workloads.get(&key).into_iter().flatten() {
                if !existing.contains(&(service.as_str(), workload)) {
                    extra.push(Edge {
                        id: format!("{service}->{workload}"),
                        source: service.clone(),
                        target: workload.to_owned(),
                        rate: 0.0,
                        share: None,
                        error_share: 0.0,
                        p95_ms: None,
                    });
                }
            }
        }
    }
    if extra.is_empty() {
        return graph.clone();
    }
    let mut out = graph.clone();
    out.edges.extend(extra);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{MetricsStatus, Node};

    fn workload(name: &str, version: &str) -> Node {
        Node {
            id: format!("wl:h:{name}"),
            kind: NodeKind::Workload,
            namespace: "h".into(),
            name: name.into(),
            app: Some("review".into()),
            version: Some(version.into()),
            rate_in: 0.0,
        }
    }

    fn edge(target: &str, rate: f64, error_share: f64, p95_ms: Option<f64>) -> Edge {
        Edge {
            id: format!("svc:h:review->{target}"),
            source: "svc:h:review".into(),
            target: target.into(),
            rate,
            share: Some(100.0),
            error_share,
            p95_ms,
        }
    }

    fn graph(edges: Vec<Edge>) -> Graph {
        Graph {
            nodes: vec![workload("review-v1", "v1"), workload("review-v2", "v2")],
            edges,
            splits: vec![ServiceSplit {
                namespace: "h".into(),
                service: "review".into(),
                virtual_service: "review".into(),
                kind: Default::default(),
                route_index: 1,
                versions: vec![
                    VersionSplit {
                        subset: "old".into(),
                        version: Some("v1".into()),
                        requested: 100.0,
                        observed: Some(100.0),
                    },
                    VersionSplit {
                        subset: "new".into(),
                        version: Some("v2".into()),
                        requested: 0.0,
                        observed: Some(0.0),
                    },
                ],
                rate: 4.0,
                samples: 120.0,
                tolerance: 1.0,
                agrees: Some(true),
                settling: None,
            }],
            metrics: MetricsStatus::default(),
            window_seconds: 30,
            generated_at: 0.0,
            freshness: Default::default(),
        }
    }

    #[test]
    fn kiali_thresholds() {
        assert_eq!(health(0.0, 50.0), Health::Idle);
        assert_eq!(health(1.0, 0.0), Health::Healthy);
        assert_eq!(health(1.0, 0.1), Health::Healthy);
        assert_eq!(health(1.0, 0.11), Health::Degraded);
        assert_eq!(health(1.0, 9.99), Health::Degraded);
        assert_eq!(health(1.0, 10.0), Health::Failing);
    }

    #[test]
    fn a_version_at_weight_zero_gets_an_idle_edge() {
        let g = with_route_edges(&graph(vec![edge("wl:h:review-v1", 4.0, 0.0, Some(9.0))]));
        let idle: Vec<&Edge> = g.edges.iter().filter(|e| e.rate == 0.0).collect();
        assert_eq!(idle.len(), 1);
        assert_eq!(idle[0].id, "svc:h:review->wl:h:review-v2");
        assert_eq!(idle[0].share, None);
        // Once v2 has traffic there is nothing to add.
        let busy = graph(vec![
            edge("wl:h:review-v1", 4.0, 0.0, None),
            edge("wl:h:review-v2", 1.0, 0.0, None),
        ]);
        assert_eq!(with_route_edges(&busy), busy);
    }

    #[test]
    fn version_vitals_weigh_errors_by_rate() {
        let g = graph(vec![
            edge("wl:h:review-v1", 3.0, 0.0, Some(9.0)),
            edge("wl:h:review-v2", 1.0, 6.8, Some(31.4)),
        ]);
        let split = &g.splits[0];
        let v2 = version_vitals(&g, split, &split.versions[1]);
        assert_eq!(v2.health(), Health::Degraded);
        assert_eq!(v2.summary(), "6.8% errors · p95 31 ms");
        let v1 = version_vitals(&g, split, &split.versions[0]);
        assert_eq!(v1.summary(), "0% errors · p95 9 ms");
        assert!((node_vitals(&g, "wl:h:review-v2").errors - 6.8).abs() < 1e-9);
        assert_eq!(error_percent(0.05), "0.05%");
        let index = VitalsIndex::of(&g);
        for version in &split.versions {
            assert_eq!(
                index.version(split, version),
                version_vitals(&g, split, version)
            );
        }
        for n in &g.nodes {
            assert_eq!(index.node(&n.id), node_vitals(&g, &n.id));
        }
        let idle = version_vitals(&graph(vec![]), split, &split.versions[1]);
        assert_eq!(idle.summary(), "no traffic");
        assert_eq!(idle.health(), Health::Idle);
    }
}
