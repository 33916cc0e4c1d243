//! Graph assembly tests: the demo topology with hand-made samples, and edge cases.

use super::*;
use crate::metrics::{Latency, RequestRate, Workload};
use switchyard_protocol::{Destination, HttpRoute};

fn wl(ns: &str, name: &str, app: &str, version: &str) -> Workload {
    Workload {
        name: name.into(),
        namespace: ns.into(),
        app: app.into(),
        version: version.into(),
    }
}

fn unknown() -> Workload {
    wl("unknown", "unknown", "unknown", "unknown")
}

fn rate(source: Workload, service: &str, dest: Workload, code: &str, rate: f64) -> RequestRate {
    RequestRate {
        source,
        service: service.into(),
        service_namespace: "hands-on".into(),
        destination: dest,
        response_code: code.into(),
        response_flags: if code == "503" {
            "UH".into()
        } else {
            "-".into()
        },
        rate,
    }
}

fn review_vs(old: u32, new: u32) -> VirtualServiceRoutes {
    let dest = |subset: &str, weight: u32, share: f64| Destination {
        host: "review".into(),
        subset: Some(subset.into()),
        weight,
        requested_share: share,
        observed_share: None,
    };
    let total = f64::from(old + new);
    VirtualServiceRoutes {
        namespace: "hands-on".into(),
        name: "review".into(),
        resource_version: "3".into(),
        hosts: vec!["review".into()],
        weight_managers: Vec::new(),
        routes: vec![
            HttpRoute {
                index: 0,
                name: None,
                match_summary: "header x-group = test".into(),
                destinations: vec![dest("new", 0, 100.0)],
            },
            HttpRoute {
                index: 1,
                name: None,
                match_summary: "all requests".into(),
                destinations: vec![
                    dest("old", old, f64::from(old) * 100.0 / total),
                    dest("new", new, f64::from(new) * 100.0 / total),
                ],
            },
        ],
    }
}

fn topology(old: u32, new: u32) -> Topology {
    let subsets = BTreeMap::from([
        (
            "old".to_owned(),
            BTreeMap::from([("version".to_owned(), "v1".to_owned())]),
        ),
        (
            "new".to_owned(),
            BTreeMap::from([("version".to_owned(), "v2".to_owned())]),
        ),
    ]);
    Topology {
        services: ["product-composite", "review"]
            .iter()
            .map(|n| ServiceInfo {
                namespace: "hands-on".into(),
                name: n.to_string(),
            })
            .collect(),
        workloads: vec![
            WorkloadInfo {
                namespace: "hands-on".into(),
                name: "product-composite-v1".into(),
                app: Some("product-composite".into()),
                version: Some("v1".into()),
            },
            WorkloadInfo {
                namespace: "hands-on".into(),
                name: "review-v1".into(),
                app: Some("review".into()),
                version: Some("v1".into()),
            },
            WorkloadInfo {
                namespace: "hands-on".into(),
                name: "review-v2".into(),
                app: Some("review".into()),
                version: Some("v2".into()),
            },
        ],
        virtual_services: vec![review_vs(old, new)],
        destination_rules: vec![DestinationRule {
            namespace: "hands-on".into(),
            host: "review.hands-on.svc.cluster.local".into(),
            subsets,
        }],
        ..Topology::default()
    }
}

fn composite() -> Workload {
    wl(
        "hands-on",
        "product-composite-v1",
        "product-composite",
        "v1",
    )
}

fn demo_samples(v1: f64, v2: f64) -> Samples {
    Samples {
        requests: vec![
            rate(unknown(), "product-composite", composite(), "200", v1 + v2),
            rate(
                composite(),
                "review",
                wl("hands-on", "review-v1", "review", "v1"),
                "200",
                v1,
            ),
            rate(
                composite(),
                "review",
                wl("hands-on", "review-v2", "review", "v2"),
                "200",
                v2 * 0.95,
            ),
            rate(
                composite(),
                "review",
                wl("hands-on", "review-v2", "review", "v2"),
                "500",
                v2 * 0.05,
            ),
        ],
        latencies: vec![
            Latency {
                caller: Some(("hands-on".into(), "product-composite-v1".into())),
                service: ("hands-on".into(), "review".into()),
                workload: None,
                p95_ms: 48.0,
            },
            Latency {
                caller: None,
                service: ("hands-on".into(), "review".into()),
                workload: Some(("hands-on".into(), "review-v2".into())),
                p95_ms: 120.0,
            },
        ],
    }
}

fn fresh() -> MetricsStatus {
    MetricsStatus {
        fresh: true,
        last_success: Some(100.0),
        error: None,
    }
}

fn edge<'g>(g: &'g Graph, id: &str) -> &'g Edge {
    g.edges.iter().find(|e| e.id == id).unwrap_or_else(|| {
        panic!(
            "no edge {id} in {:?}",
            g.edges.iter().map(|e| &e.id).collect::<Vec<_>>()
        )
    })
}

#[test]
fn builds_versioned_app_graph_with_service_nodes() {
    let g = build(
        &topology(80, 20),
        Some(&demo_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "entry",
            "svc:hands-on:product-composite",
            "svc:hands-on:review",
            "wl:hands-on:product-composite-v1",
            "wl:hands-on:review-v1",
            "wl:hands-on:review-v2"
        ]
    );
    let to_v2 = edge(&g, "svc:hands-on:review->wl:hands-on:review-v2");
    assert!((to_v2.rate - 4.0).abs() < 1e-9);
    assert!(
        (to_v2.share.unwrap() - 20.0).abs() < 1e-9,
        "requests distribution of review's outbound"
    );
    assert!((to_v2.error_share - 5.0).abs() < 1e-9);
    assert_eq!(to_v2.p95_ms, Some(120.0));
    let into_review = edge(&g, "wl:hands-on:product-composite-v1->svc:hands-on:review");
    assert_eq!(into_review.share, Some(100.0));
    assert_eq!(into_review.p95_ms, Some(48.0));
    assert!((edge(&g, "entry->svc:hands-on:product-composite").rate - 20.0).abs() < 1e-9);
    let review = g
        .nodes
        .iter()
        .find(|n| n.id == "svc:hands-on:review")
        .unwrap();
    assert!((review.rate_in - 20.0).abs() < 1e-9);
}

#[test]
fn split_compares_requested_and_observed() {
    let g = build(
        &topology(80, 20),
        Some(&demo_samples(16.2, 3.8)),
        fresh(),
        30,
        100.0,
    );
    let split = &g.splits[0];
    assert_eq!((split.service.as_str(), split.route_index), ("review", 1));
    assert_eq!(split.versions[0].version.as_deref(), Some("v1"));
    assert!((split.versions[1].observed.unwrap() - 19.0).abs() < 1e-9);
    assert_eq!(split.versions[1].requested, 20.0);
    assert!((split.samples - 600.0).abs() < 1e-9);
    // 3 standard errors of 20% at 600 samples is about 4.9 points: 19 agrees with 20.
    assert!(
        (split.tolerance - 4.899).abs() < 0.01,
        "{}",
        split.tolerance
    );
    assert_eq!(split.agrees, Some(true));

    // The same observation against a 50/50 request does not agree.
    let g = build(
        &topology(50, 50),
        Some(&demo_samples(16.2, 3.8)),
        fresh(),
        30,
        100.0,
    );
    assert_eq!(g.splits[0].agrees, Some(false));
}

#[test]
fn no_traffic_means_no_observed_share_and_no_verdict() {
    let g = build(&topology(80, 20), None, MetricsStatus::default(), 30, 100.0);
    assert!(g.edges.is_empty());
    assert_eq!(
        g.nodes.len(),
        5,
        "topology alone still draws services and workloads"
    );
    assert_eq!(g.splits[0].versions[1].observed, None);
    assert_eq!(g.splits[0].agrees, None);
    assert_eq!(g.splits[0].versions[1].requested, 20.0);
}

#[test]
fn hosts_follow_istios_resolution() {
    // A fully qualified host names the same service as the short one.
    let mut t = topology(80, 20);
    for d in &mut t.virtual_services[0].routes[1].destinations {
        d.host = "review.hands-on.svc.cluster.local".into();
    }
    let g = build(&t, Some(&demo_samples(16.0, 4.0)), fresh(), 30, 100.0);
    assert_eq!(g.splits.len(), 1);
    assert_eq!(g.splits[0].service, "review");
    assert_eq!(g.splits[0].versions[1].version.as_deref(), Some("v2"));
    // `review.other` is taken literally by Istio: no Kubernetes service, so no split, and in
    // particular not the split of a `review` service in namespace `other`.
    for d in &mut t.virtual_services[0].routes[1].destinations {
        d.host = "review.other".into();
    }
    let g = build(&t, Some(&demo_samples(16.0, 4.0)), fresh(), 30, 100.0);
    assert!(g.splits.is_empty(), "{:?}", g.splits);
}

#[test]
fn unreached_requests_go_to_the_unknown_node_and_count_as_errors() {
    let mut samples = demo_samples(10.0, 0.0);
    samples
        .requests
        .push(rate(composite(), "review", unknown(), "503", 2.0));
    let g = build(&topology(100, 0), Some(&samples), fresh(), 30, 100.0);
    let to_unknown = edge(&g, "svc:hands-on:review->unknown");
    assert_eq!(to_unknown.error_share, 100.0);
    let into_review = edge(&g, "wl:hands-on:product-composite-v1->svc:hands-on:review");
    assert!((into_review.error_share - 100.0 * 2.0 / 12.0).abs() < 1e-9);
    // The split is over requests that reached a version.
    assert_eq!(g.splits[0].versions[0].observed, Some(100.0));
}

#[test]
fn observed_shares_annotate_routes() {
    let g = build(
        &topology(80, 20),
        Some(&demo_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let mut routes = vec![review_vs(80, 20)];
    annotate_observed(&mut routes, &g);
    let shares: Vec<Option<f64>> = routes[0].routes[1]
        .destinations
        .iter()
        .map(|d| d.observed_share)
        .collect();
    assert_eq!(shares, [Some(80.0), Some(20.0)]);
    assert_eq!(routes[0].routes[0].destinations[0].observed_share, None);
}

#[test]
fn tolerance_shrinks_with_samples() {
    assert!(tolerance(20.0, 100.0) > tolerance(20.0, 10_000.0));
    assert_eq!(tolerance(100.0, 50.0), 1.0);
    assert!(tolerance(20.0, 0.0).is_infinite());
}

#[test]
fn snapshot_of_the_demo_graph() {
    let g = build(
        &topology(80, 20),
        Some(&demo_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let json = serde_json::to_value(&g).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("testdata/demo_graph.json")).unwrap();
    assert_eq!(
        json,
        fixture,
        "graph JSON changed: {}",
        serde_json::to_string_pretty(&json).unwrap()
    );
}

#[test]
fn restricting_to_namespaces_drops_what_is_outside() {
    let g = build(
        &topology(80, 20),
        Some(&demo_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let none = restrict(&g, |_| false);
    assert_eq!(
        none.nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["entry"]
    );
    assert!(none.edges.is_empty() && none.splits.is_empty());
    assert_eq!(restrict(&g, |ns| ns == "hands-on"), g);
}

/// The gateway demo's review: Services `review` (the parent), `review-v1` and `review-v2` (one
/// per version), and an HTTPRoute attached to `review` whose last rule splits `v1`:`v2`.
fn gateway_topology(v1: u32, v2: u32) -> Topology {
    let ns = "hands-on-gateway";
    let backend = |host: &str, weight: u32, share: f64| Destination {
        host: host.into(),
        subset: None,
        weight,
        requested_share: share,
        observed_share: None,
    };
    let total = f64::from(v1 + v2);
    Topology {
        services: ["product-composite", "review", "review-v1", "review-v2"]
            .iter()
            .map(|n| ServiceInfo {
                namespace: ns.into(),
                name: n.to_string(),
            })
            .collect(),
        workloads: ["v1", "v2"]
            .iter()
            .map(|v| WorkloadInfo {
                namespace: ns.into(),
                name: format!("review-{v}"),
                app: Some("review".into()),
                version: Some((*v).into()),
            })
            .collect(),
        http_routes: vec![VirtualServiceRoutes {
            namespace: ns.into(),
            name: "review".into(),
            resource_version: "4".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: vec![
                HttpRoute {
                    index: 0,
                    name: None,
                    match_summary: "header x-group = test".into(),
                    destinations: vec![backend("review-v2", 1, 100.0)],
                },
                HttpRoute {
                    index: 1,
                    name: None,
                    match_summary: "all requests".into(),
                    destinations: vec![
                        backend("review-v1", v1, f64::from(v1) * 100.0 / total),
                        backend("review-v2", v2, f64::from(v2) * 100.0 / total),
                    ],
                },
            ],
        }],
        service_versions: BTreeMap::from([
            ((ns.to_owned(), "review-v1".to_owned()), "v1".to_owned()),
            ((ns.to_owned(), "review-v2".to_owned()), "v2".to_owned()),
        ]),
        ..Topology::default()
    }
}

/// Waypoint-style samples: each request's service is the backend the route chose.
fn gateway_samples(v1: f64, v2: f64) -> Samples {
    let ns = "hands-on-gateway";
    let caller = wl(ns, "product-composite-v1", "product-composite", "v1");
    let to = |service: &str, version: &str, rate: f64| RequestRate {
        source: caller.clone(),
        service: service.into(),
        service_namespace: ns.into(),
        destination: wl(ns, &format!("review-{version}"), "review", version),
        response_code: "200".into(),
        response_flags: "-".into(),
        rate,
    };
    Samples {
        requests: vec![to("review-v1", "v1", v1), to("review-v2", "v2", v2)],
        latencies: vec![
            Latency {
                caller: Some((ns.into(), "product-composite-v1".into())),
                service: (ns.into(), "review-v1".into()),
                workload: None,
                p95_ms: 40.0,
            },
            Latency {
                caller: Some((ns.into(), "product-composite-v1".into())),
                service: (ns.into(), "review-v2".into()),
                workload: None,
                p95_ms: 90.0,
            },
            Latency {
                caller: None,
                service: (ns.into(), "review-v2".into()),
                workload: Some((ns.into(), "review-v2".into())),
                p95_ms: 90.0,
            },
        ],
    }
}

#[test]
fn an_http_routes_backends_are_drawn_as_versions_of_its_service() {
    let g = build(
        &gateway_topology(80, 20),
        Some(&gateway_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    // The backend Services are the route's versions, not nodes of their own.
    assert!(!ids.contains(&"svc:hands-on-gateway:review-v1"), "{ids:?}");
    assert!(!ids.contains(&"svc:hands-on-gateway:review-v2"), "{ids:?}");
    assert!(ids.contains(&"svc:hands-on-gateway:review"), "{ids:?}");
    // caller → review → each version, as for a VirtualService.
    let into = edge(
        &g,
        "wl:hands-on-gateway:product-composite-v1->svc:hands-on-gateway:review",
    );
    assert!((into.rate - 20.0).abs() < 1e-9);
    // Two backends: the largest p95, an upper bound of all requests' p95.
    assert_eq!(into.p95_ms, Some(90.0));
    let v2 = edge(
        &g,
        "svc:hands-on-gateway:review->wl:hands-on-gateway:review-v2",
    );
    assert!((v2.rate - 4.0).abs() < 1e-9);
    assert_eq!(v2.share, Some(20.0));
    assert_eq!(v2.p95_ms, Some(90.0));
    // The split: requested by the route's weights, observed per backend Service.
    let split = g
        .splits
        .iter()
        .find(|s| s.service == "review")
        .expect("a split on review");
    assert_eq!(split.kind, RouteKind::HTTPRoute);
    assert_eq!(split.virtual_service, "review");
    assert_eq!(split.route_index, 1);
    let versions: Vec<(&str, Option<&str>, f64, Option<f64>)> = split
        .versions
        .iter()
        .map(|v| {
            (
                v.subset.as_str(),
                v.version.as_deref(),
                v.requested,
                v.observed,
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("review-v1", Some("v1"), 80.0, Some(80.0)),
            ("review-v2", Some("v2"), 20.0, Some(20.0))
        ]
    );
    assert_eq!(split.agrees, Some(true));
    assert_eq!(
        g.observed_share_of(
            RouteKind::HTTPRoute,
            "hands-on-gateway",
            "review",
            1,
            "review-v2"
        ),
        Some(20.0)
    );
    // Not a VirtualService's.
    assert_eq!(
        g.observed_share("hands-on-gateway", "review", 1, "review-v2"),
        None
    );
}

#[test]
fn an_http_routes_split_is_observed_by_version_when_metrics_name_the_parent() {
    // Metrics that name the parent Service (the request's original host) instead of the
    // backend: the versions of the backends' selectors decide.
    let mut samples = gateway_samples(15.0, 5.0);
    for r in &mut samples.requests {
        r.service = "review".into();
    }
    let g = build(&gateway_topology(1, 3), Some(&samples), fresh(), 30, 100.0);
    let split = g.splits.iter().find(|s| s.service == "review").unwrap();
    let observed: Vec<Option<f64>> = split.versions.iter().map(|v| v.observed).collect();
    assert_eq!(observed, [Some(75.0), Some(25.0)]);
    let requested: Vec<f64> = split.versions.iter().map(|v| v.requested).collect();
    assert_eq!(requested, [25.0, 75.0]);
    assert_eq!(split.agrees, Some(false));
}

#[test]
fn http_route_shares_reach_the_route_list() {
    let g = build(
        &gateway_topology(80, 20),
        Some(&gateway_samples(16.0, 4.0)),
        fresh(),
        30,
        100.0,
    );
    let mut routes = vec![switchyard_protocol::HttpRouteRoutes {
        namespace: "hands-on-gateway".into(),
        name: "review".into(),
        resource_version: "4".into(),
        hosts: vec!["review".into()],
        weight_managers: Vec::new(),
        routes: vec![switchyard_protocol::RouteRule {
            index: 1,
            name: None,
            match_summary: "all requests".into(),
            destinations: ["review-v1", "review-v2"]
                .iter()
                .map(|h| switchyard_protocol::BackendDestination {
                    host: (*h).into(),
                    port: Some(80),
                    weight: 50,
                    requested_share: 50.0,
                    observed_share: None,
                })
                .collect(),
        }],
    }];
    annotate_http_routes(&mut routes, &g);
    let observed: Vec<Option<f64>> = routes[0].routes[0]
        .destinations
        .iter()
        .map(|d| d.observed_share)
        .collect();
    assert_eq!(observed, [Some(80.0), Some(20.0)]);
}
