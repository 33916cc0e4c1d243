//! Pure: whether the version a rollout sends traffic to is failing where the old one is not,
//! from the graph's service → workload edges (errors are 5xx or no response, over the window).
//! The page turns each such finding into a banner with the rollback one click away.

use super::label::{fixed, rollout_version};
use std::collections::HashMap;
use switchyard_protocol::{Edge, Graph, ServiceSplit};

/// At or above this share of errors the new version can raise an alarm (the colours turn amber
/// earlier, above 0.1%: `vitals.rs`).
pub const DEGRADED_PERCENT: f64 = 1.0;
/// How much worse than the old version the new one must be, in points, to raise an alarm.
pub const WORSE_BY_POINTS: f64 = 1.0;
/// Fewer requests than this over the window are no evidence either way.
pub const MIN_REQUESTS: f64 = 20.0;

/// The new version of one service is failing more than the old one.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub namespace: String,
    pub service: String,
    /// e.g. `v2`.
    pub version: String,
    /// Percent of its requests that failed.
    pub errors: f64,
    /// The old version and its error percent, when it had traffic.
    pub old: Option<(String, f64)>,
}

impl Alarm {
    /// "review v2: 6.8% errors vs 0.1% on v1 — roll back?"
    pub fn sentence(&self) -> String {
        let against = match &self.old {
            Some((version, errors)) => format!("{}% on {version}", fixed(*errors, 1)),
            None => "no traffic on the old version".to_owned(),
        };
        format!(
            "{} {}: {}% errors vs {against} — roll back?",
            self.service,
            self.version,
            fixed(self.errors, 1)
        )
    }
}

/// Requests per second and error percent of `version` of the split's service, over the window.
/// `versions` maps node ids to their version, `outgoing` node ids to the edges leaving them (one
/// pass over the edges for the whole graph, not one per split: every refresh asks for every
/// split of a mesh of thousands of edges).
fn version_health(
    outgoing: &HashMap<&str, Vec<&Edge>>,
    versions: &HashMap<&str, &str>,
    split: &ServiceSplit,
    version: &str,
) -> Option<(f64, f64)> {
    let service_id = super::service_node_id(&split.namespace, &split.service);
    let (mut rate, mut errors) = (0.0, 0.0);
    for edge in outgoing.get(service_id.as_str()).into_iter().flatten() {
        if versions.get(edge.target.as_str()) == Some(&version) {
            rate += edge.rate;
            errors += edge.rate * edge.error_share / 100.0;
        }
    }
    (rate > 0.0).then(|| (rate, errors * 100.0 / rate))
}

/// Every weighted service whose new version fails at least [`DEGRADED_PERCENT`] of at least
/// [`MIN_REQUESTS`] requests and [`WORSE_BY_POINTS`] more than its old version.
pub fn alarms(graph: &Graph, new_subset: Option<&str>) -> Vec<Alarm> {
    let window = f64::from(graph.window_seconds);
    let versions: HashMap<&str, &str> = graph
        .nodes
        .iter()
        .filter_map(|n| Some((n.id.as_str(), n.version.as_deref()?)))
        .collect();
    let mut outgoing: HashMap<&str, Vec<&Edge>> = HashMap::new();
    for edge in &graph.edges {
        outgoing.entry(edge.source.as_str()).or_default().push(edge);
    }
    let mut out = Vec::new();
    for split in &graph.splits {
        let Some(new) = rollout_version(split, new_subset) else {
            continue;
        };
        let Some(version) = new.version.clone() else {
            continue;
        };
        let Some((rate, errors)) = version_health(&outgoing, &versions, split, &version) else {
            continue;
        };
        if rate * window < MIN_REQUESTS || errors < DEGRADED_PERCENT {
            continue;
        }
        let old = split
            .versions
            .iter()
            .filter_map(|v| v.version.as_deref())
            .filter(|v| *v != version)
            .find_map(|v| {
                version_health(&outgoing, &versions, split, v).map(|(_, e)| (v.to_owned(), e))
            });
        if old
            .as_ref()
            .is_some_and(|(_, e)| errors - e < WORSE_BY_POINTS)
        {
            continue;
        }
        out.push(Alarm {
            namespace: split.namespace.clone(),
            service: split.service.clone(),
            version,
            errors,
            old,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Edge, MetricsStatus, Node, NodeKind, VersionSplit};

    fn graph(v1: (f64, f64), v2: (f64, f64)) -> Graph {
        let node = |id: &str, version: Option<&str>| Node {
            id: id.into(),
            kind: NodeKind::Workload,
            namespace: "hands-on".into(),
            name: id.into(),
            app: Some("review".into()),
            version: version.map(Into::into),
            rate_in: 0.0,
        };
        let edge = |target: &str, (rate, error_share): (f64, f64)| Edge {
            id: format!("svc:hands-on:review->{target}"),
            source: "svc:hands-on:review".into(),
            target: target.into(),
            rate,
            share: None,
            error_share,
            p95_ms: None,
        };
        let version = |subset: &str, v: &str| VersionSplit {
            subset: subset.into(),
            version: Some(v.into()),
            requested: 50.0,
            observed: None,
        };
        Graph {
            nodes: vec![
                node("svc:hands-on:review", None),
                node("wl:hands-on:review-v1", Some("v1")),
                node("wl:hands-on:review-v2", Some("v2")),
            ],
            edges: vec![
                edge("wl:hands-on:review-v1", v1),
                edge("wl:hands-on:review-v2", v2),
            ],
            splits: vec![ServiceSplit {
                namespace: "hands-on".into(),
                service: "review".into(),
                virtual_service: "review".into(),
                kind: Default::default(),
                route_index: 1,
                versions: vec![version("old", "v1"), version("new", "v2")],
                rate: v1.0 + v2.0,
                samples: (v1.0 + v2.0) * 30.0,
                tolerance: 5.0,
                agrees: None,
                settling: None,
            }],
            metrics: MetricsStatus::default(),
            window_seconds: 30,
            generated_at: 0.0,
            freshness: Default::default(),
        }
    }

    #[test]
    fn a_failing_new_version_raises_an_alarm_with_both_rates() {
        let found = alarms(&graph((3.0, 0.1), (3.0, 6.8)), Some("new"));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].sentence(),
            "review v2: 6.8% errors vs 0.1% on v1 — roll back?"
        );
    }

    #[test]
    fn no_alarm_when_healthy_as_bad_as_old_or_too_few_requests() {
        // Healthy.
        assert!(alarms(&graph((3.0, 0.0), (3.0, 0.5)), Some("new")).is_empty());
        // Both versions fail alike: the new version is not the problem.
        assert!(alarms(&graph((3.0, 6.0), (3.0, 6.5)), Some("new")).is_empty());
        // 0.5 rps over 30 s is 15 requests: no evidence.
        assert!(alarms(&graph((3.0, 0.0), (0.5, 50.0)), Some("new")).is_empty());
        // No traffic to the new version at all.
        assert!(alarms(&graph((3.0, 0.0), (0.0, 0.0)), Some("new")).is_empty());
    }

    #[test]
    fn an_old_version_without_traffic_is_said_so() {
        let found = alarms(&graph((0.0, 0.0), (3.0, 20.0)), Some("new"));
        assert_eq!(
            found[0].sentence(),
            "review v2: 20.0% errors vs no traffic on the old version — roll back?"
        );
    }
}
