//! Pure: no false alarm after a weight change. While the rate window still holds traffic from
//! before a route's last change, its split is "settling" (no verdict); afterwards a disagreement
//! counts only when it persists for two refreshes in a row.

use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::{Graph, RouteKind, Settling};

/// A weighted route: the kind of its route object, namespace, object name, route index.
pub type RouteKey = (RouteKind, String, String, usize);

/// Marks the splits of `graph` whose route changed less than one window before
/// `graph.generated_at` as settling (`agrees: None`), and holds back a disagreement seen for the
/// first time (`agrees: None` until the next refresh says the same). `changed_at` has the time of
/// each route's last weight change (Unix seconds); `disagreed` the routes whose previous refresh
/// disagreed. Returns the routes that disagree in this refresh, for the next call.
pub fn settle(
    graph: &mut Graph,
    changed_at: &BTreeMap<RouteKey, f64>,
    disagreed: &BTreeSet<RouteKey>,
) -> BTreeSet<RouteKey> {
    let now = graph.generated_at;
    let window = f64::from(graph.window_seconds);
    let mut disagreeing = BTreeSet::new();
    for split in &mut graph.splits {
        let key = (
            split.kind,
            split.namespace.clone(),
            split.virtual_service.clone(),
            split.route_index,
        );
        if let Some(&since) = changed_at.get(&key) {
            let until = since + window;
            if now < until && window > 0.0 {
                split.settling = Some(Settling {
                    since,
                    until,
                    progress: ((now - since) / window).clamp(0.0, 1.0),
                });
                split.agrees = None;
                continue;
            }
        }
        if split.agrees == Some(false) {
            if !disagreed.contains(&key) {
                split.agrees = None;
            }
            disagreeing.insert(key);
        }
    }
    disagreeing
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{MetricsStatus, ServiceSplit};

    fn graph(now: f64, agrees: Option<bool>) -> Graph {
        Graph {
            nodes: vec![],
            edges: vec![],
            splits: vec![ServiceSplit {
                namespace: "hands-on".into(),
                service: "review".into(),
                virtual_service: "review".into(),
                kind: RouteKind::VirtualService,
                route_index: 1,
                versions: vec![],
                rate: 20.0,
                samples: 600.0,
                tolerance: 4.9,
                agrees,
                settling: None,
            }],
            metrics: MetricsStatus::default(),
            window_seconds: 30,
            generated_at: now,
            freshness: Default::default(),
        }
    }

    fn review() -> RouteKey {
        (
            RouteKind::VirtualService,
            "hands-on".into(),
            "review".into(),
            1,
        )
    }

    #[test]
    fn a_change_settles_for_one_window() {
        let changed = BTreeMap::from([(review(), 1_000.0)]);
        for (now, settling) in [
            (1_000.0, true),
            (1_012.0, true),
            (1_029.9, true),
            (1_030.0, false),
        ] {
            let mut g = graph(now, Some(false));
            settle(&mut g, &changed, &BTreeSet::from([review()]));
            assert_eq!(g.splits[0].settling.is_some(), settling, "at {now}");
            if settling {
                assert_eq!(g.splits[0].agrees, None, "at {now}");
            } else {
                assert_eq!(g.splits[0].agrees, Some(false), "at {now}");
            }
        }
        let mut g = graph(1_012.0, Some(false));
        settle(&mut g, &changed, &BTreeSet::new());
        let s = g.splits[0].settling.as_ref().unwrap();
        assert_eq!((s.since, s.until), (1_000.0, 1_030.0));
        assert!((s.progress - 0.4).abs() < 1e-9);
        // An HTTPRoute of the same name changed: not this VirtualService's split.
        let other = BTreeMap::from([(
            (RouteKind::HTTPRoute, "hands-on".into(), "review".into(), 1),
            1_000.0,
        )]);
        let mut g = graph(1_012.0, Some(true));
        settle(&mut g, &other, &BTreeSet::new());
        assert_eq!(g.splits[0].settling, None);
    }

    #[test]
    fn a_disagreement_counts_when_it_persists() {
        let none = BTreeMap::new();
        let mut first = graph(2_000.0, Some(false));
        let seen = settle(&mut first, &none, &BTreeSet::new());
        assert_eq!(first.splits[0].agrees, None, "one refresh is not enough");
        let mut second = graph(2_005.0, Some(false));
        let seen = settle(&mut second, &none, &seen);
        assert_eq!(second.splits[0].agrees, Some(false));
        // Back in line: the next disagreement starts over.
        let mut third = graph(2_010.0, Some(true));
        let seen = settle(&mut third, &none, &seen);
        assert!(seen.is_empty());
        assert_eq!(third.splits[0].agrees, Some(true));
        let mut fourth = graph(2_015.0, Some(false));
        settle(&mut fourth, &none, &seen);
        assert_eq!(fourth.splits[0].agrees, None);
    }
}
