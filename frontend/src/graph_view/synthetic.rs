//! A synthetic mesh for benchmarks, pure and deterministic: `services` services in six tiers,
//! each with a v1 and a v2 workload, entry calling the first tier, workloads calling services of
//! the next tier, and edges added until the graph has the wanted count. The same function feeds
//! the native layout benchmark and the in-browser render benchmark (`/?bench=N`), so both
//! measure the same graph.

use switchyard_protocol::{Edge, Graph, MetricsStatus, Node, NodeKind, ServiceSplit, VersionSplit};

pub const NAMESPACE: &str = "bench";
const TIERS: usize = 6;

/// A graph of `nodes` nodes (rounded down to 1 + 3 × services) and about `edges` edges (exactly,
/// unless fewer distinct caller pairs exist).
pub fn graph(nodes: usize, edges: usize) -> Graph {
    let services = nodes.saturating_sub(1) / 3;
    let tier = |service: usize| service * TIERS / services.max(1);
    let mut random = Lcg(0x5eed);
    let mut node_list = vec![Node {
        id: "entry".into(),
        kind: NodeKind::Entry,
        namespace: String::new(),
        name: "entry".into(),
        app: None,
        version: None,
        rate_in: 0.0,
    }];
    for s in 0..services {
        node_list.push(Node {
            id: service_id(s),
            kind: NodeKind::Service,
            namespace: NAMESPACE.into(),
            name: service_name(s),
            app: Some(service_name(s)),
            version: None,
            rate_in: 0.0,
        });
        for version in ["v1", "v2"] {
            node_list.push(Node {
                id: workload_id(s, version),
                kind: NodeKind::Workload,
                namespace: NAMESPACE.into(),
                name: format!("{}-{version}", service_name(s)),
                app: Some(service_name(s)),
                version: Some(version.into()),
                rate_in: 0.0,
            });
        }
    }

    // (source, target) pairs; every service gets at least one caller and both its versions.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut push = |pairs: &mut Vec<(String, String)>, source: String, target: String| {
        if seen.insert((source.clone(), target.clone())) {
            pairs.push((source, target));
        }
    };
    let by_tier: Vec<Vec<usize>> = (0..TIERS)
        .map(|t| (0..services).filter(|&s| tier(s) == t).collect())
        .collect();
    for s in 0..services {
        push(&mut pairs, service_id(s), workload_id(s, "v1"));
        push(&mut pairs, service_id(s), workload_id(s, "v2"));
        let t = tier(s);
        let callers = if t == 0 { &[][..] } else { &by_tier[t - 1][..] };
        if callers.is_empty() {
            push(&mut pairs, "entry".into(), service_id(s));
        } else {
            let caller = callers[s % callers.len()];
            let version = if s % 2 == 0 { "v1" } else { "v2" };
            push(&mut pairs, workload_id(caller, version), service_id(s));
        }
    }
    let callable = by_tier.iter().filter(|t| !t.is_empty()).count() > 1;
    let mut attempts = 0;
    while callable && pairs.len() < edges && attempts < edges * 20 {
        attempts += 1;
        let caller = random.below(services);
        let t = tier(caller);
        let Some(next) = by_tier.get(t + 1).filter(|n| !n.is_empty()) else {
            continue;
        };
        let callee = next[random.below(next.len())];
        let version = if random.below(2) == 0 { "v1" } else { "v2" };
        push(&mut pairs, workload_id(caller, version), service_id(callee));
    }

    let mut edge_list: Vec<Edge> = pairs
        .into_iter()
        .map(|(source, target)| {
            let rate = 0.5 + random.below(400) as f64 / 20.0;
            let error_share = match random.below(20) {
                0 => 8.0,
                1 | 2 => 2.0,
                _ => 0.0,
            };
            Edge {
                id: format!("{source}->{target}"),
                source,
                target,
                rate,
                share: None,
                error_share,
                p95_ms: Some(5.0 + random.below(200) as f64),
            }
        })
        .collect();
    let mut outbound = std::collections::BTreeMap::<String, f64>::new();
    let mut inbound = std::collections::BTreeMap::<String, f64>::new();
    for e in &edge_list {
        *outbound.entry(e.source.clone()).or_default() += e.rate;
        *inbound.entry(e.target.clone()).or_default() += e.rate;
    }
    for e in &mut edge_list {
        e.share = outbound.get(&e.source).map(|out| e.rate * 100.0 / out);
    }
    for n in &mut node_list {
        n.rate_in = inbound.get(&n.id).copied().unwrap_or(0.0);
    }
    let splits = (0..services)
        .map(|s| {
            let observed_new = 15.0 + random.below(100) as f64 / 10.0;
            ServiceSplit {
                namespace: NAMESPACE.into(),
                service: service_name(s),
                virtual_service: service_name(s),
                kind: Default::default(),
                route_index: 0,
                versions: vec![
                    VersionSplit {
                        subset: "old".into(),
                        version: Some("v1".into()),
                        requested: 80.0,
                        observed: Some(100.0 - observed_new),
                    },
                    VersionSplit {
                        subset: "new".into(),
                        version: Some("v2".into()),
                        requested: 20.0,
                        observed: Some(observed_new),
                    },
                ],
                rate: 10.0,
                samples: 300.0,
                tolerance: 6.9,
                agrees: Some((observed_new - 20.0).abs() <= 6.9),
                settling: None,
            }
        })
        .collect();
    Graph {
        nodes: node_list,
        edges: edge_list,
        splits,
        metrics: MetricsStatus {
            fresh: true,
            last_success: Some(0.0),
            error: None,
        },
        window_seconds: 30,
        generated_at: 0.0,
        freshness: Default::default(),
    }
}

pub fn service_name(index: usize) -> String {
    format!("svc{index:04}")
}

fn service_id(index: usize) -> String {
    format!("svc:{NAMESPACE}:{}", service_name(index))
}

fn workload_id(index: usize, version: &str) -> String {
    format!("wl:{NAMESPACE}:{}-{version}", service_name(index))
}

/// A tiny linear congruential generator: deterministic, no dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_graph_has_the_asked_size() {
        let g = graph(1000, 3000);
        assert_eq!(g.nodes.len(), 1000);
        assert_eq!(g.edges.len(), 3000);
        assert_eq!(g, graph(1000, 3000));
        let ids: std::collections::BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert!(g
            .edges
            .iter()
            .all(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str())));
    }

    #[test]
    fn tiny_graphs_do_not_panic() {
        for n in [0, 1, 2, 4, 7] {
            let g = graph(n, 3 * n);
            assert!(g.nodes.len() <= n.max(1));
        }
    }
}
