//! Unit tests of the mesh: Istio routing semantics over small topologies built in a store.

use super::metrics::{Record, Reporter, Security};
use super::routing::{pick_weighted, Request, Walk};
use super::topology::{Target, DEPLOYMENTS, DESTINATION_RULES, SERVICES, VIRTUAL_SERVICES};
use super::*;
use crate::store::Key;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const NS: &str = "t";

fn service(store: &Store, name: &str) {
    store
        .create(
            Key::new(SERVICES, NS, name),
            json!({"spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}),
        )
        .unwrap();
}

fn deployment(store: &Store, app: &str, version: &str, annotations: Value) {
    let name = format!("{app}-{version}");
    store
        .create(
            Key::new(DEPLOYMENTS, NS, &name),
            json!({
                "metadata": {"labels": {"app": app, "version": version}, "annotations": annotations},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": app, "version": version}},
                    "template": {
                        "metadata": {"labels": {"app": app, "version": version}},
                        "spec": {"serviceAccountName": format!("sa-{app}"), "containers": [{"name": app}]}
                    }
                }
            }),
        )
        .unwrap();
}

fn virtual_service(store: &Store, host: &str, http: Value) {
    store
        .create(
            Key::new(VIRTUAL_SERVICES, NS, host),
            json!({"spec": {"hosts": [host], "http": http}}),
        )
        .unwrap();
}

fn subsets(store: &Store, host: &str) {
    store
        .create(
            Key::new(DESTINATION_RULES, NS, &format!("{host}-dr")),
            json!({"spec": {"host": host, "subsets": [
                {"name": "old", "labels": {"version": "v1"}},
                {"name": "new", "labels": {"version": "v2"}},
                {"name": "empty", "labels": {"version": "v9"}},
            ]}}),
        )
        .unwrap();
}

/// `front` (calls `back`), `back` v1 and v2, subsets old/new/empty for back.
fn fixture(back_http: Value) -> Mesh {
    let store = Store::new();
    service(&store, "front");
    service(&store, "back");
    deployment(&store, "front", "v1", json!({ANNOTATION_CALLS: "back"}));
    deployment(&store, "back", "v1", json!({}));
    deployment(&store, "back", "v2", json!({}));
    subsets(&store, "back");
    virtual_service(&store, "back", back_http);
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    assert_eq!(mesh.warnings(), Vec::<String>::new());
    mesh
}

fn route(subset: &str, weight: u32) -> Value {
    json!({"destination": {"host": "back", "subset": subset}, "weight": weight})
}

fn rng() -> SmallRng {
    SmallRng::seed_from_u64(7)
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Requests recorded by `reporter` for `back`, as (destination_version, response_code,
/// response_flags) → count.
fn back_series(mesh: &Mesh, reporter: &str) -> Vec<(String, String, String, u64)> {
    mesh.snapshot()
        .into_iter()
        .filter(|s| s.labels.reporter == reporter && s.labels.destination_service_name == "back")
        .map(|s| {
            (
                s.labels.destination_version.clone(),
                s.labels.response_code.clone(),
                s.labels.response_flags.clone(),
                s.requests,
            )
        })
        .collect()
}

fn sv(v: &str, code: &str, flags: &str, n: u64) -> (String, String, String, u64) {
    (v.to_owned(), code.to_owned(), flags.to_owned(), n)
}

#[test]
fn weighted_pick_follows_relative_weights() {
    let destinations = vec![
        (
            1,
            Target::NoCluster {
                service: Registry::new().service_id(metrics::ServiceLabels::for_host("a")),
            },
        ),
        (
            3,
            Target::Endpoints {
                service: Registry::new().service_id(metrics::ServiceLabels::for_host("b")),
                endpoints: vec![],
            },
        ),
    ];
    let mut rng = rng();
    let mut first = 0;
    for _ in 0..40_000 {
        if matches!(
            pick_weighted(&destinations, 4, &mut rng),
            Some(Target::NoCluster { .. })
        ) {
            first += 1;
        }
    }
    assert!((9_500..10_500).contains(&first), "{first}");
    assert!(pick_weighted(&[], 0, &mut rng).is_none());
}

#[test]
fn first_matching_route_wins_and_headers_propagate() {
    let mesh = fixture(json!([
        {"match": [{"headers": {"x-group": {"exact": "test"}}}], "route": [route("new", 0)]},
        {"match": [{"headers": {"x-group": {"prefix": "te"}}}], "route": [route("old", 0)]},
        {"route": [route("old", 100), route("new", 0)]},
    ]));
    let mut rng = rng();
    for _ in 0..50 {
        // Header names match case-insensitively; front forwards the header to back.
        mesh.send(NS, "front", &headers(&[("X-Group", "test")]), &mut rng);
        mesh.send(NS, "front", &[], &mut rng);
    }
    assert_eq!(
        back_series(&mesh, "destination"),
        vec![sv("v1", "200", "-", 50), sv("v2", "200", "-", 50)]
    );
}

/// Request headers and the (destination_version, response_code, response_flags) expected.
type Case<'a> = (&'a [(&'a str, &'a str)], (&'a str, &'a str, &'a str));

#[test]
fn match_fields_and_or_semantics() {
    let http = json!([
        // Either entry: (uri prefix AND GET) OR a regex header.
        {"match": [
            {"uri": {"prefix": "/API"}, "method": {"exact": "GET"}, "ignoreUriCase": true},
            {"headers": {"x-id": {"regex": "u[0-9]+"}}},
        ], "route": [route("new", 0)]},
        {"match": [{"withoutHeaders": {"x-skip": {}}, "sourceLabels": {"app": "front"}}], "route": [route("old", 0)]},
    ]);
    // front forwards ordinary headers but not pseudo-headers: its call to back is `GET /`, so the
    // uri entry never applies to it, even when the entry request was for `/api/x`.
    let cases: [Case; 5] = [
        (&[("x-id", "u42")], ("v2", "200", "-")),
        (&[("x-id", "xu42")], ("v1", "200", "-")),
        (&[(":path", "/api/x")], ("v1", "200", "-")),
        (&[("x-skip", "")], ("unknown", "404", "NR")),
        (&[], ("v1", "200", "-")),
    ];
    for (hs, (version, code, flags)) in cases {
        let mesh = fixture(http.clone());
        mesh.send(NS, "front", &headers(hs), &mut rng());
        assert_eq!(
            back_series(&mesh, "source"),
            vec![sv(version, code, flags, 1)],
            "headers {hs:?}"
        );
    }
}

#[test]
fn records_of_one_request() {
    let mesh = fixture(json!([{"route": [route("old", 100)]}]));
    let topology = mesh.topology();
    let front = topology.service_index(NS, "front").unwrap();
    let mut records: Vec<Record> = Vec::new();
    let mut rng = rng();
    let mut walk = Walk {
        topology: &topology,
        rng: &mut rng,
        sink: &mut records,
    };
    let result = walk.from_outside(
        front,
        Request {
            headers: &[],
            pseudo: true,
        },
    );
    assert_eq!(result.status, 200);
    let shape: Vec<(Reporter, Security)> = records
        .iter()
        .map(|r| (r.key.reporter, r.key.security))
        .collect();
    // Inner hop first (back reports, then front's sidecar), then the entry hop.
    assert_eq!(
        shape,
        vec![
            (Reporter::Destination, Security::MutualTls),
            (Reporter::Source, Security::Unknown),
            (Reporter::Destination, Security::None),
        ]
    );
    // The entry duration covers the call.
    assert!(records[2].duration_us >= records[1].duration_us);
}

#[test]
fn uri_method_and_query_match_on_the_entry_sidecar_path() {
    // Route the entry-facing calls: front -> back with a uri match only works for propagated
    // headers, so test the uri matcher on compile output directly.
    let mut warnings = Vec::new();
    let m = json!({"uri": {"exact": "/a"}, "queryParams": {"v": {"exact": "2"}}, "method": {"exact": "POST"}});
    let store = Store::new();
    service(&store, "front");
    deployment(&store, "front", "v1", json!({}));
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    let topology = mesh.topology();
    let compiled = topology::compile_match(&m, "t", &mut warnings);
    assert!(warnings.is_empty());
    let check = |hs: &[(&str, &str)]| {
        let hs = headers(hs);
        routing::request_matches(
            &topology,
            &compiled,
            0,
            "front",
            Request {
                headers: &hs,
                pseudo: true,
            },
        )
    };
    assert!(check(&[(":path", "/a?v=2"), (":method", "POST")]));
    assert!(!check(&[(":path", "/a?v=3"), (":method", "POST")]));
    assert!(!check(&[(":path", "/a/b?v=2"), (":method", "POST")]));
    assert!(!check(&[(":path", "/a?v=2")]), "method defaults to GET");
}

#[test]
fn no_matching_route_is_404_nr() {
    let mesh = fixture(json!([
        {"match": [{"headers": {"x-group": {"exact": "test"}}}], "route": [route("new", 0)]},
    ]));
    let outcome = mesh.send(NS, "front", &[], &mut rng());
    assert_eq!(outcome.status, 500, "front fails because its call failed");
    assert_eq!(
        back_series(&mesh, "source"),
        vec![sv("unknown", "404", "NR", 1)]
    );
    assert!(back_series(&mesh, "destination").is_empty());
}

#[test]
fn fault_delay_and_abort_together_flag_di_fi() {
    let mesh = fixture(json!([{
        "fault": {
            "delay": {"fixedDelay": "2s", "percentage": {"value": 100}},
            "abort": {"httpStatus": 418, "percentage": {"value": 100}},
        },
        "route": [route("old", 100)],
    }]));
    mesh.send(NS, "front", &[], &mut rng());
    let snapshot = mesh.snapshot();
    let aborted = snapshot
        .iter()
        .find(|s| s.labels.reporter == "source" && s.labels.destination_service_name == "back")
        .unwrap();
    assert_eq!(aborted.labels.response_code, "418");
    assert_eq!(aborted.labels.response_flags, "DI,FI");
    assert_eq!(aborted.labels.destination_workload, "unknown");
    assert_eq!(aborted.labels.destination_principal, "unknown");
    assert_eq!(aborted.labels.source_workload, "front-v1");
    assert_eq!(aborted.labels.connection_security_policy, "unknown");
    assert_eq!(aborted.duration_sum_ms, 2000.0);
}

#[test]
fn fault_without_percentage_never_applies() {
    let mesh = fixture(json!([{
        "fault": {"abort": {"httpStatus": 503}},
        "route": [route("old", 100)],
    }]));
    mesh.send(NS, "front", &[], &mut rng());
    assert_eq!(back_series(&mesh, "source"), vec![sv("v1", "200", "-", 1)]);
}

#[test]
fn undefined_subset_or_unknown_host_is_503_nc() {
    let store = Store::new();
    service(&store, "front");
    service(&store, "back");
    deployment(&store, "front", "v1", json!({ANNOTATION_CALLS: "back"}));
    deployment(&store, "back", "v1", json!({}));
    virtual_service(
        &store,
        "back",
        json!([{"route": [
            {"destination": {"host": "back", "subset": "nope"}, "weight": 50},
            {"destination": {"host": "elsewhere"}, "weight": 50},
        ]}]),
    );
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    assert_eq!(mesh.warnings().len(), 2, "{:?}", mesh.warnings());
    let mut rng = rng();
    for _ in 0..20 {
        mesh.send(NS, "front", &[], &mut rng);
    }
    let services: Vec<(String, String, String)> = mesh
        .snapshot()
        .into_iter()
        .filter(|s| s.labels.reporter == "source")
        .map(|s| {
            (
                s.labels.destination_service,
                s.labels.response_code,
                s.labels.response_flags,
            )
        })
        .collect();
    assert_eq!(
        services,
        vec![
            ("back.t.svc.cluster.local".into(), "503".into(), "NC".into()),
            (
                "elsewhere.t.svc.cluster.local".into(),
                "503".into(),
                "NC".into()
            ),
        ]
    );
}

#[test]
fn route_timeout_is_504_ut_at_the_source() {
    let store = Store::new();
    service(&store, "front");
    service(&store, "back");
    deployment(&store, "front", "v1", json!({ANNOTATION_CALLS: "back"}));
    deployment(
        &store,
        "back",
        "v1",
        json!({ANNOTATION_LATENCY: "p50=300ms,p95=300ms"}),
    );
    virtual_service(
        &store,
        "back",
        json!([{"timeout": "100ms", "route": [{"destination": {"host": "back"}}]}]),
    );
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    mesh.send(NS, "front", &[], &mut rng());
    assert_eq!(back_series(&mesh, "source"), vec![sv("v1", "504", "UT", 1)]);
    assert_eq!(
        back_series(&mesh, "destination"),
        vec![sv("v1", "200", "-", 1)]
    );
}

#[test]
fn calls_cycles_end_at_max_depth() {
    let store = Store::new();
    service(&store, "a");
    service(&store, "b");
    deployment(&store, "a", "v1", json!({ANNOTATION_CALLS: "b"}));
    deployment(&store, "b", "v1", json!({ANNOTATION_CALLS: "a"}));
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    let outcome = mesh.send(NS, "a", &[], &mut rng());
    assert_eq!(outcome.status, 200);
    let destination_hops: u64 = mesh
        .snapshot()
        .iter()
        .filter(|s| s.labels.reporter == "destination")
        .map(|s| s.requests)
        .sum();
    assert_eq!(destination_hops as usize, routing::MAX_DEPTH + 1);
}

#[test]
fn entry_hop_is_reported_by_the_destination_only_with_unknown_source() {
    let mesh = fixture(json!([{"route": [route("old", 100)]}]));
    let outcome = mesh.send(NS, "front", &[], &mut rng());
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.served_by.as_deref(), Some("front-v1"));
    let entry: Vec<_> = mesh
        .snapshot()
        .into_iter()
        .filter(|s| s.labels.destination_service_name == "front")
        .collect();
    assert_eq!(entry.len(), 1);
    let l = &entry[0].labels;
    assert_eq!(l.reporter, "destination");
    assert_eq!(l.source_workload, "unknown");
    assert_eq!(l.source_principal, "unknown");
    assert_eq!(l.connection_security_policy, Security::None.as_str());
    assert_eq!(
        l.destination_principal,
        "spiffe://cluster.local/ns/t/sa/sa-front"
    );
    assert_eq!(l.destination_canonical_service, "front");
    assert_eq!(l.destination_canonical_revision, "v1");
    // The in-mesh hop carries both principals and mTLS.
    let hop = mesh
        .snapshot()
        .into_iter()
        .find(|s| s.labels.reporter == "destination" && s.labels.destination_service_name == "back")
        .unwrap();
    assert_eq!(
        hop.labels.source_principal,
        "spiffe://cluster.local/ns/t/sa/sa-front"
    );
    assert_eq!(hop.labels.connection_security_policy, "mutual_tls");
    assert_eq!(hop.labels.destination_service, "back.t.svc.cluster.local");
}

#[test]
fn unknown_entry_or_no_pods_gets_no_connection() {
    let mesh = fixture(json!([{"route": [route("old", 100)]}]));
    assert_eq!(mesh.send(NS, "nope", &[], &mut rng()).status, 0);
    assert_eq!(mesh.send("other", "front", &[], &mut rng()).status, 0);
    mesh.store()
        .expect("in-process store")
        .update(&Key::new(DEPLOYMENTS, NS, "front-v1"), |d| {
            let mut d = d.clone();
            d["spec"]["replicas"] = json!(0);
            Ok(d)
        })
        .unwrap();
    reconcile_pods(mesh.store().expect("in-process store"));
    let outcome = mesh.send(NS, "front", &[], &mut rng());
    assert_eq!((outcome.status, outcome.flags), (0, ResponseFlags::UF));
}

#[test]
fn error_rate_and_latency_annotations_apply() {
    let store = Store::new();
    service(&store, "back");
    deployment(
        &store,
        "back",
        "v1",
        json!({ANNOTATION_ERROR_RATE: "10%", ANNOTATION_ERROR_CODE: "503", ANNOTATION_LATENCY: "p50=40ms,p95=100ms"}),
    );
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    let mut rng = rng();
    let mut durations: Vec<f64> = (0..4000)
        .map(|_| mesh.send(NS, "back", &[], &mut rng).duration_ms)
        .collect();
    durations.sort_by(f64::total_cmp);
    let (p50, p95) = (durations[2000], durations[3800]);
    assert!((36.0..44.0).contains(&p50), "p50 {p50}");
    assert!((88.0..114.0).contains(&p95), "p95 {p95}");
    let errors: u64 = mesh
        .snapshot()
        .iter()
        .filter(|s| s.labels.response_code == "503")
        .map(|s| s.requests)
        .sum();
    assert!((340..460).contains(&errors), "errors {errors}");
}

#[test]
fn bad_annotations_warn_and_use_defaults() {
    let store = Store::new();
    service(&store, "back");
    deployment(
        &store,
        "back",
        "v1",
        json!({ANNOTATION_ERROR_RATE: "lots", ANNOTATION_LATENCY: "slow", ANNOTATION_CALLS: "ghost"}),
    );
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    let warnings = mesh.warnings();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings
        .iter()
        .all(|w| w.starts_with("t/back-v1: annotation sim.switchyard.dev/")));
    assert_eq!(mesh.send(NS, "back", &[], &mut rng()).status, 200);
}

#[test]
fn gateway_only_virtual_services_do_not_apply_to_sidecars() {
    let store = Store::new();
    service(&store, "front");
    service(&store, "back");
    deployment(&store, "front", "v1", json!({ANNOTATION_CALLS: "back"}));
    deployment(&store, "back", "v1", json!({}));
    store
        .create(
            Key::new(VIRTUAL_SERVICES, NS, "edge"),
            json!({"spec": {"hosts": ["back"], "gateways": ["istio-system/public"], "http": [{"directResponse": {"status": 418}}]}}),
        )
        .unwrap();
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    mesh.send(NS, "front", &[], &mut rng());
    assert_eq!(back_series(&mesh, "source"), vec![sv("v1", "200", "-", 1)]);
}

#[test]
fn topology_recompiles_only_after_writes() {
    let mesh = fixture(json!([{"route": [route("old", 100)]}]));
    let a = mesh.topology();
    let b = mesh.topology();
    assert!(Arc::ptr_eq(&a, &b));
    subsets(mesh.store().expect("in-process store"), "other");
    assert!(!Arc::ptr_eq(&a, &mesh.topology()));
}

/// Istio's `ResolveShortnameToFQDN` (see docs/istio-routing.md): a VirtualService host or
/// destination with a dot is taken literally, a bare name is a service of the rule's namespace.
/// `back.t` is therefore not `back.t.svc.cluster.local` in a rule, although a pod's resolver (and
/// so the calls annotation) would expand it.
#[test]
fn rule_hosts_with_a_dot_are_literal_and_bare_names_take_the_rules_namespace() {
    let base = || {
        let store = Store::new();
        service(&store, "front");
        service(&store, "back");
        deployment(&store, "front", "v1", json!({ANNOTATION_CALLS: "back.t"}));
        deployment(&store, "back", "v1", json!({}));
        subsets(&store, "back");
        reconcile_pods(&store);
        store
    };
    let teapot = json!([{"directResponse": {"status": 418}}]);
    let answer = |hosts: Value, http: Value| {
        let store = base();
        store
            .create(
                Key::new(VIRTUAL_SERVICES, NS, "back"),
                json!({"spec": {"hosts": hosts, "http": http}}),
            )
            .unwrap();
        let mesh = Mesh::new(store);
        mesh.send(NS, "front", &[], &mut rng());
        (back_series(&mesh, "source"), mesh.warnings())
    };

    // The calls annotation reaches back.t.svc.cluster.local through the search path.
    let (plain, warnings) = answer(json!(["elsewhere"]), teapot.clone());
    assert_eq!(plain, vec![sv("v1", "200", "-", 1)]);
    assert!(warnings.is_empty(), "{warnings:?}");
    // A bare host and the full name own the service; `back.t` is a different, literal host.
    for host in ["back", "back.t.svc.cluster.local"] {
        let (owned, _) = answer(json!([host]), teapot.clone());
        assert_eq!(owned, vec![sv("unknown", "418", "-", 1)], "host {host}");
    }
    let (not_owned, _) = answer(json!(["back.t"]), teapot);
    assert_eq!(not_owned, vec![sv("v1", "200", "-", 1)]);

    // A destination `back.t` names no service: Envoy has no cluster for it (503 NC).
    let store = base();
    store
        .create(
            Key::new(VIRTUAL_SERVICES, NS, "back"),
            json!({"spec": {"hosts": ["back"], "http": [{"route": [{"destination": {"host": "back.t", "subset": "old"}}]}]}}),
        )
        .unwrap();
    let mesh = Mesh::new(store);
    mesh.send(NS, "front", &[], &mut rng());
    let failed: Vec<(String, String, String, u64)> = mesh
        .snapshot()
        .into_iter()
        .filter(|s| s.labels.reporter == "source" && s.labels.source_workload == "front-v1")
        .map(|s| {
            (
                s.labels.destination_service.clone(),
                s.labels.response_code.clone(),
                s.labels.response_flags.clone(),
                s.requests,
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![("back.t".to_owned(), "503".to_owned(), "NC".to_owned(), 1)]
    );
    let warnings = mesh.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("\"back.t\" is not a service")),
        "{warnings:?}"
    );
}

/// The gateway demo (demo/hands-on-gateway.yaml) loaded as the API server would store it, with
/// the review route's last rule set to `weights` (`None`: no weight field, as kubectl writes
/// a backendRef without one before the CRD's default).
fn gateway_mesh(weights: [Option<i64>; 2]) -> (Store, Mesh) {
    let store = Store::new();
    crate::api::load_manifest(&store, "gw", crate::api::GATEWAY_MANIFEST).unwrap();
    set_review_weights(&store, weights);
    reconcile_pods(&store);
    let mesh = Mesh::new(store.clone());
    assert_eq!(mesh.warnings(), Vec::<String>::new());
    (store, mesh)
}

fn set_review_weights(store: &Store, weights: [Option<i64>; 2]) {
    store
        .update(
            &Key::new(super::topology::HTTP_ROUTES, "gw", "review"),
            |current| {
                let mut next = current.clone();
                for (j, w) in weights.iter().enumerate() {
                    let backend = &mut next["spec"]["rules"][1]["backendRefs"][j];
                    match w {
                        Some(w) => backend["weight"] = json!(w),
                        None => {
                            backend.as_object_mut().unwrap().remove("weight");
                        }
                    }
                }
                Ok(next)
            },
        )
        .unwrap();
}

/// Requests `reporter` recorded for the backends of review, by backend Service.
fn review_backends(mesh: &Mesh, reporter: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for s in mesh.snapshot() {
        let l = &s.labels;
        if l.reporter == reporter
            && l.destination_service_namespace == "gw"
            && l.destination_service_name.starts_with("review")
        {
            *out.entry(l.destination_service_name.clone()).or_default() += s.requests;
        }
    }
    out
}

#[test]
fn http_routes_split_by_relative_weights_behind_the_waypoint() {
    let (_, mesh) = gateway_mesh([Some(1), Some(3)]);
    let mut rng = rng();
    for _ in 0..4000 {
        let outcome = mesh.send("gw", "product-composite", &[], &mut rng);
        assert!(
            outcome.status == 200 || outcome.status == 500,
            "{outcome:?}"
        );
    }
    let by_backend = review_backends(&mesh, "waypoint");
    let v1 = by_backend.get("review-v1").copied().unwrap_or(0) as f64;
    let v2 = by_backend.get("review-v2").copied().unwrap_or(0) as f64;
    let share = v2 / (v1 + v2);
    // 1:3 is 75 %; 4,000 draws put it within ±3 points far beyond any seed's luck.
    assert!((share - 0.75).abs() < 0.03, "review-v2 got {share}");
    // Ambient workloads have no sidecars: nothing reports as source or destination, and the
    // waypoint reports each request once with the workload that served it.
    for reporter in ["source", "destination"] {
        assert!(
            mesh.snapshot()
                .iter()
                .all(|s| s.labels.reporter != reporter),
            "{reporter} reported"
        );
    }
    let served: Vec<String> = mesh
        .snapshot()
        .iter()
        .filter(|s| s.labels.destination_service_name == "review-v2")
        .map(|s| s.labels.destination_workload.clone())
        .collect();
    assert!(served.iter().all(|w| w == "review-v2"), "{served:?}");
    // The entry request passed the waypoint too (ingress-use-waypoint), from outside the mesh.
    assert!(mesh.snapshot().iter().any(|s| {
        s.labels.destination_service_name == "product-composite"
            && s.labels.reporter == "waypoint"
            && s.labels.source_workload == "unknown"
    }));
}

#[test]
fn a_missing_weight_is_one_and_weight_zero_gets_nothing() {
    let (store, mesh) = gateway_mesh([None, Some(1)]);
    let mut rng = rng();
    for _ in 0..2000 {
        mesh.send("gw", "product-composite", &[], &mut rng);
    }
    let by_backend = review_backends(&mesh, "waypoint");
    let v1 = by_backend["review-v1"] as f64;
    let v2 = by_backend["review-v2"] as f64;
    assert!((v2 / (v1 + v2) - 0.5).abs() < 0.04, "{by_backend:?}");

    set_review_weights(&store, [Some(100), Some(0)]);
    let before = review_backends(&mesh, "waypoint");
    for _ in 0..500 {
        mesh.send("gw", "product-composite", &[], &mut rng);
    }
    let after = review_backends(&mesh, "waypoint");
    assert_eq!(
        after.get("review-v2"),
        before.get("review-v2"),
        "weight 0 got traffic"
    );
    // Test traffic still goes to v2 by the header rule, whatever the weights.
    let test = headers(&[("x-group", "test")]);
    for _ in 0..50 {
        mesh.send("gw", "product-composite", &test, &mut rng);
    }
    let tested = review_backends(&mesh, "waypoint");
    assert_eq!(tested["review-v2"], after["review-v2"] + 50);
}

#[test]
fn invalid_backends_get_500_and_all_zero_weights_too() {
    let (store, mesh) = gateway_mesh([Some(1), Some(1)]);
    store
        .update(
            &Key::new(super::topology::HTTP_ROUTES, "gw", "review"),
            |current| {
                let mut next = current.clone();
                next["spec"]["rules"][1]["backendRefs"][1]["name"] = json!("review-v9");
                Ok(next)
            },
        )
        .unwrap();
    assert!(mesh
        .warnings()
        .iter()
        .any(|w| w.contains("review-v9") && w.contains("500")));
    let mut rng = rng();
    for _ in 0..400 {
        mesh.send("gw", "product-composite", &[], &mut rng);
    }
    let failed: u64 = mesh
        .snapshot()
        .iter()
        .filter(|s| {
            s.labels.destination_service_name == "review-v9"
                && s.labels.response_code == "500"
                && s.labels.reporter == "waypoint"
                && s.labels.destination_workload == "unknown"
        })
        .map(|s| s.requests)
        .sum();
    assert!(
        (150..=250).contains(&failed),
        "{failed} of 400 to the invalid half"
    );

    set_review_weights(&store, [Some(0), Some(0)]);
    let mut rng = self::rng();
    let outcome = mesh.send("gw", "review", &[], &mut rng);
    // From outside the mesh without an ingress waypoint on review: kube-proxy picks a pod.
    assert_eq!(outcome.status, 200);
    let zero: u64 = mesh
        .snapshot()
        .iter()
        .filter(|s| {
            s.labels.destination_service_name == "review" && s.labels.response_code == "500"
        })
        .map(|s| s.requests)
        .sum();
    let before = zero;
    for _ in 0..20 {
        mesh.send("gw", "product-composite", &[], &mut rng);
    }
    let zero: u64 = mesh
        .snapshot()
        .iter()
        .filter(|s| {
            s.labels.destination_service_name == "review" && s.labels.response_code == "500"
        })
        .map(|s| s.requests)
        .sum();
    assert_eq!(
        zero - before,
        20,
        "every request of an all-zero rule gets 500"
    );
}

#[test]
fn sidecar_clients_route_by_http_routes_and_report_as_source() {
    // The same route without waypoints or ambient labels: sidecars apply the HTTPRoute.
    let store = Store::new();
    let manifest = crate::api::GATEWAY_MANIFEST
        .replace("    istio.io/use-waypoint: waypoint\n", "")
        .replace("    istio.io/ingress-use-waypoint: \"true\"\n", "")
        .replace("        istio.io/dataplane-mode: ambient\n", "");
    crate::api::load_manifest(&store, "gw", &manifest).unwrap();
    set_review_weights(&store, [Some(80), Some(20)]);
    reconcile_pods(&store);
    let mesh = Mesh::new(store);
    let mut rng = rng();
    for _ in 0..2000 {
        mesh.send("gw", "product-composite", &[], &mut rng);
    }
    assert!(review_backends(&mesh, "waypoint").is_empty());
    let source = review_backends(&mesh, "source");
    let destination = review_backends(&mesh, "destination");
    // Each request reported once by each side, as between two sidecars.
    assert_eq!(source, destination);
    let share = destination["review-v2"] as f64
        / (destination["review-v1"] + destination["review-v2"]) as f64;
    assert!((share - 0.2).abs() < 0.03, "{share}");
}
