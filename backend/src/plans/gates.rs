//! Gate evaluation, pure: which service version each plan target's old and new destinations are,
//! and what they served between two gate-counter snapshots: requests, success rate (not 5xx, and
//! a response at all), p99 latency, each against the plan's thresholds, with a sentence for every
//! gate that failed or could not be judged. Fewer requests than the plan's minimum is
//! inconclusive, never a pass or a fail. No I/O, no clock.
//!
//! A VirtualService target's versions are its old/new route's subsets, read under the route's
//! Service by the `version` label their DestinationRule subsets select. An HTTPRoute target's are
//! its old/new rule's two backend Services (`review-v1`, `review-v2`), read as the graph reads an
//! HTTPRoute's observed split (`graph::http_route_splits`, `docs/gateway-api.md`, "In the graph"):
//! by backend Service when the metrics name it as the destination service, else by the `version`
//! of the backend's selector under the Service the route attaches to.

use switchyard_protocol::backends::old_new;
use switchyard_protocol::plans::{
    Evaluation, Gates, PlanTarget, TargetEvaluation, Verdict, VersionValues,
};
use switchyard_protocol::RouteKind;

use crate::cluster::OldNewNames;
use crate::gateway::http_route::backend_service;
use crate::graph::Topology;
use crate::istio::host;
use crate::metrics::{histogram_quantile, Counters, VersionCount};

/// One version of a target: a VirtualService's subset, or an HTTPRoute's backend Service.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionOf {
    /// The subset (VirtualService), or the backend Service as the rule names it (HTTPRoute:
    /// `review-v2`, `other-ns/review-v2`).
    pub subset: String,
    /// The version label: the DestinationRule subset's `version`, or the backend Service
    /// selector's, when known.
    pub version: Option<String>,
    /// HTTPRoute: the backend Service, (namespace, name).
    pub backend: Option<(String, String)>,
}

/// What a plan target's metrics are read from.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetVersions {
    pub target: PlanTarget,
    /// The Kubernetes Service whose versions these are, (namespace, name): the one a
    /// VirtualService's old/new route sends to, the one an HTTPRoute attaches to (its first
    /// Service parentRef).
    pub service: Option<(String, String)>,
    pub old: VersionOf,
    pub new: VersionOf,
}

/// The service and versions of each target, from the cluster's topology.
pub fn versions(
    topology: &Topology,
    targets: &[PlanTarget],
    names: OldNewNames<'_>,
) -> Vec<TargetVersions> {
    targets
        .iter()
        .map(|target| match target.kind {
            RouteKind::VirtualService => virtual_service_versions(topology, target, names),
            RouteKind::HTTPRoute => http_route_versions(topology, target, names),
        })
        .collect()
}

fn virtual_service_versions(
    topology: &Topology,
    target: &PlanTarget,
    names: OldNewNames<'_>,
) -> TargetVersions {
    let subsets = names.subsets;
    let vs = topology
        .virtual_services
        .iter()
        .find(|vs| vs.namespace == target.namespace && vs.name == target.name);
    let route = vs.and_then(|vs| subsets.shift_route(vs));
    let fqdn = route
        .and_then(|r| r.destinations.first())
        .map(|d| host::resolve(&d.host, &target.namespace));
    let service = fqdn
        .as_deref()
        .and_then(host::kubernetes_service)
        .map(|(name, namespace)| (namespace, name));
    let rule = fqdn
        .as_ref()
        .and_then(|f| topology.destination_rules.iter().find(|dr| &dr.host == f));
    let of = |subset: &str| VersionOf {
        subset: subset.to_owned(),
        version: rule
            .and_then(|r| r.subsets.get(subset))
            .and_then(|labels| labels.get("version").cloned()),
        backend: None,
    };
    TargetVersions {
        target: target.clone(),
        service,
        old: of(subsets.old_name()),
        new: of(subsets.new_name()),
    }
}

fn http_route_versions(
    topology: &Topology,
    target: &PlanTarget,
    names: OldNewNames<'_>,
) -> TargetVersions {
    let route = topology
        .http_routes
        .iter()
        .find(|r| r.namespace == target.namespace && r.name == target.name);
    let found = route.and_then(|r| old_new(RouteKind::HTTPRoute, r, names.subsets, names.backends));
    let service = route
        .and_then(|r| r.hosts.first())
        .map(|h| backend_service(h, &target.namespace));
    let of = |key: Option<&str>, suffix: &str| match key {
        Some(key) => {
            let backend = backend_service(key, &target.namespace);
            VersionOf {
                subset: key.to_owned(),
                version: topology.service_versions.get(&backend).cloned(),
                backend: Some(backend),
            }
        }
        // The route is gone or has no old/new rule: nothing to read (inconclusive).
        None => VersionOf {
            subset: format!("{}-{suffix}", target.name),
            version: None,
            backend: None,
        },
    };
    TargetVersions {
        target: target.clone(),
        service,
        old: of(
            found.as_ref().map(|f| f.old.as_str()),
            names.backends.old_suffix(),
        ),
        new: of(
            found.as_ref().map(|f| f.new.as_str()),
            names.backends.new_suffix(),
        ),
    }
}

/// Two gate-counter snapshots: the traffic between them is what an evaluation judges.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub base_at: f64,
    pub base: &'a Counters,
    pub latest_at: f64,
    pub latest: &'a Counters,
}

/// `99`, `99.5`: a threshold as people write it.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// `review v2` (or `review new` when the version is not known) for a VirtualService's version;
/// `review-v2`, the backend, for an HTTPRoute's.
fn label(kind: RouteKind, name: &str, subset: &str, version: Option<&str>) -> String {
    match kind {
        RouteKind::VirtualService => format!("{name} {}", version.unwrap_or(subset)),
        RouteKind::HTTPRoute => subset.to_owned(),
    }
}

/// A version's traffic over the window, under `service` by its `version` label.
fn by_version(
    window: &Window<'_>,
    service: Option<&(String, String)>,
    of: &VersionOf,
) -> Option<VersionCount> {
    let (namespace, name) = service?;
    let version = of.version.as_ref()?;
    Some(window.latest.since(
        window.base,
        &(namespace.clone(), name.clone(), version.clone()),
    ))
}

/// A backend Service's traffic over the window: every request the metrics name it as the
/// destination service of, whatever the version label (the Service is the version).
fn by_backend(window: &Window<'_>, of: &VersionOf) -> Option<VersionCount> {
    let (namespace, name) = of.backend.as_ref()?;
    Some(window.latest.since_service(window.base, namespace, name))
}

/// What the old and new version of a target served over the window; `None` where it cannot be
/// read. An HTTPRoute's backends are read by backend Service when the metrics name either as
/// the destination service over the window, else by version under the Service it attaches to.
fn counts(
    t: &TargetVersions,
    window: Option<&Window<'_>>,
) -> (Option<VersionCount>, Option<VersionCount>, bool) {
    let Some(w) = window else {
        return (None, None, false);
    };
    if t.target.kind == RouteKind::HTTPRoute {
        let (old, new) = (by_backend(w, &t.old), by_backend(w, &t.new));
        let seen = |c: &Option<VersionCount>| c.as_ref().is_some_and(|c| c.requests > 0.0);
        if seen(&old) || seen(&new) {
            return (old, new, true);
        }
    }
    (
        by_version(w, t.service.as_ref(), &t.old),
        by_version(w, t.service.as_ref(), &t.new),
        false,
    )
}

fn values(count: Option<&VersionCount>, of: &VersionOf) -> VersionValues {
    VersionValues {
        subset: of.subset.clone(),
        version: of.version.clone(),
        requests: count.map_or(0.0, |c| c.requests),
        success_rate: count
            .filter(|c| c.requests > 0.0)
            .map(|c| (c.requests - c.errors) * 100.0 / c.requests),
        p99_ms: count.and_then(|c| histogram_quantile(0.99, &c.buckets)),
    }
}

/// Why a target's new version cannot be read at all, when it cannot.
fn unreadable(t: &TargetVersions, who: &str, by_backend: bool) -> Option<String> {
    match t.target.kind {
        RouteKind::VirtualService if t.service.is_none() => Some(format!(
            "{}: its old/new route names no Service of this cluster, so its traffic cannot be read",
            t.target.name
        )),
        RouteKind::VirtualService if t.new.version.is_none() => Some(format!(
            "{who}: no DestinationRule gives subset {} a version label, so its traffic cannot be told apart",
            t.new.subset
        )),
        RouteKind::VirtualService => None,
        RouteKind::HTTPRoute if by_backend => None,
        RouteKind::HTTPRoute if t.new.backend.is_none() => Some(format!(
            "HTTPRoute {}: it has no rule split between its old and new backends, so no traffic can be read",
            t.target.name
        )),
        RouteKind::HTTPRoute if t.service.is_none() => Some(format!(
            "{who}: no request names it as the destination service, and HTTPRoute {} attaches to no Service to read its version under",
            t.target.name
        )),
        RouteKind::HTTPRoute if t.new.version.is_none() => Some(format!(
            "{who}: no request names it as the destination service, and its selector has no version label to tell its traffic apart under {}",
            t.service.as_ref().map_or("", |(_, name)| name.as_str())
        )),
        RouteKind::HTTPRoute => None,
    }
}

/// Judges one target's new version against the gates.
fn judge(
    t: &TargetVersions,
    window: Option<&Window<'_>>,
    gates: &Gates,
    unavailable: Option<&str>,
) -> TargetEvaluation {
    let (old_count, new_count, by_backend) = counts(t, window);
    let new = values(new_count.as_ref(), &t.new);
    let old = values(old_count.as_ref(), &t.old);
    let kind = t.target.kind;
    let who = label(
        kind,
        &t.target.name,
        &t.new.subset,
        t.new.version.as_deref(),
    );
    let mut fails = Vec::new();
    let mut unsure = Vec::new();
    if let Some(why) = unavailable {
        unsure.push(format!("{who}: {why}"));
    } else if let Some(why) = unreadable(t, &who, by_backend) {
        unsure.push(why);
    } else if new.requests < gates.min_requests as f64 {
        unsure.push(format!(
            "{who} had {} requests, fewer than the {} an evaluation needs",
            new.requests.round(),
            gates.min_requests
        ));
    } else {
        let n = new.requests.round();
        if let Some(rate) = new.success_rate {
            if rate < gates.min_success_rate {
                fails.push(format!(
                    "{who} success rate {rate:.1} % < {} % over {n} requests",
                    number(gates.min_success_rate)
                ));
            }
        }
        if let Some(p99) = new.p99_ms {
            if p99 > gates.max_p99_ms {
                fails.push(format!(
                    "{who} p99 {p99:.0} ms > {} ms over {n} requests",
                    number(gates.max_p99_ms)
                ));
            }
        }
        if let (Some(drop), Some(new_rate), Some(old_rate)) =
            (gates.max_drop_vs_old, new.success_rate, old.success_rate)
        {
            if old.requests >= gates.min_requests as f64 && old_rate - new_rate > drop {
                let old_name = match kind {
                    RouteKind::VirtualService => t.old.version.as_deref().unwrap_or(&t.old.subset),
                    RouteKind::HTTPRoute => &t.old.subset,
                };
                fails.push(format!(
                    "{who} success rate {new_rate:.1} % is {:.1} points below {old_name}'s {old_rate:.1} % (at most {} allowed)",
                    old_rate - new_rate,
                    number(drop)
                ));
            }
        }
    }
    let verdict = if !fails.is_empty() {
        Verdict::Fail
    } else if !unsure.is_empty() {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    TargetEvaluation {
        namespace: t.target.namespace.clone(),
        name: t.target.name.clone(),
        kind,
        verdict,
        new,
        old,
        reasons: fails.into_iter().chain(unsure).collect(),
    }
}

/// `step 2 (25 %)`: steps are counted from 1 in sentences.
pub fn step_label(step: usize, weight: u32) -> String {
    format!("step {} ({weight} %)", step + 1)
}

/// Evaluates every target over `window` (or, without one or with `unavailable` saying why the
/// metrics cannot be trusted, inconclusively): any target failing fails the evaluation, else any
/// inconclusive target makes it inconclusive, else it passes.
pub fn evaluate(
    targets: &[TargetVersions],
    window: Option<Window<'_>>,
    gates: &Gates,
    step: usize,
    weight: u32,
    now: f64,
    unavailable: Option<&str>,
) -> Evaluation {
    let unavailable = match (&window, unavailable) {
        (_, Some(why)) => Some(why.to_owned()),
        (None, None) => Some("no metrics have been read yet".to_owned()),
        _ => None,
    };
    let results: Vec<TargetEvaluation> = targets
        .iter()
        .map(|t| judge(t, window.as_ref(), gates, unavailable.as_deref()))
        .collect();
    let verdict = if results.iter().any(|r| r.verdict == Verdict::Fail) {
        Verdict::Fail
    } else if results.iter().any(|r| r.verdict == Verdict::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    let window_seconds = window.map_or(0.0, |w| (w.latest_at - w.base_at).max(0.0));
    let over = format!("over {:.0} s", window_seconds);
    let detail = match verdict {
        Verdict::Pass => results
            .iter()
            .map(|r| {
                format!(
                    "{} {} % success, p99 {}, {} requests",
                    label(r.kind, &r.name, &r.new.subset, r.new.version.as_deref()),
                    r.new
                        .success_rate
                        .map_or("-".to_owned(), |v| format!("{v:.1}")),
                    r.new
                        .p99_ms
                        .map_or("-".to_owned(), |v| format!("{v:.0} ms")),
                    r.new.requests.round()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Verdict::Fail => results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .flat_map(|r| r.reasons.iter().cloned())
            .collect::<Vec<_>>()
            .join("; "),
        Verdict::Inconclusive => results
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
            .flat_map(|r| r.reasons.iter().cloned())
            .collect::<Vec<_>>()
            .join("; "),
    };
    let word = match verdict {
        Verdict::Pass => "passed",
        Verdict::Fail => "failed",
        Verdict::Inconclusive => "inconclusive",
    };
    Evaluation {
        at: now,
        step,
        weight,
        window_seconds,
        verdict,
        gates: gates.clone(),
        targets: results,
        summary: format!("{} {word} {over}: {detail}", step_label(step, weight)),
    }
}

/// The reasons a failed evaluation gives, for an abort's sentence.
pub fn failures(evaluation: &Evaluation) -> String {
    evaluation
        .targets
        .iter()
        .filter(|t| t.verdict == Verdict::Fail)
        .flat_map(|t| t.reasons.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reasons an inconclusive evaluation gives.
pub fn doubts(evaluation: &Evaluation) -> String {
    evaluation
        .targets
        .iter()
        .filter(|t| t.verdict == Verdict::Inconclusive)
        .flat_map(|t| t.reasons.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::DestinationRule;
    use std::collections::BTreeMap;
    use switchyard_protocol::{Backends, Destination, HttpRoute, Subsets, VirtualServiceRoutes};

    fn names() -> OldNewNames<'static> {
        static SUBSETS: std::sync::LazyLock<Subsets> = std::sync::LazyLock::new(Subsets::default);
        static BACKENDS: std::sync::LazyLock<Backends> =
            std::sync::LazyLock::new(Backends::default);
        OldNewNames {
            subsets: &SUBSETS,
            backends: &BACKENDS,
        }
    }

    fn topology() -> Topology {
        let d = |subset: &str, weight| Destination {
            host: "review".into(),
            subset: Some(subset.into()),
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        };
        let labels = |v: &str| BTreeMap::from([("version".to_owned(), v.to_owned())]);
        Topology {
            virtual_services: vec![VirtualServiceRoutes {
                namespace: "hands-on".into(),
                name: "review".into(),
                resource_version: "1".into(),
                hosts: vec!["review".into()],
                routes: vec![HttpRoute {
                    index: 0,
                    name: None,
                    match_summary: "all requests".into(),
                    destinations: vec![d("old", 75), d("new", 25)],
                }],
                weight_managers: vec![],
            }],
            destination_rules: vec![DestinationRule {
                namespace: "hands-on".into(),
                host: "review.hands-on.svc.cluster.local".into(),
                subsets: BTreeMap::from([
                    ("old".to_owned(), labels("v1")),
                    ("new".to_owned(), labels("v2")),
                ]),
            }],
            ..Topology::default()
        }
    }

    fn target() -> PlanTarget {
        PlanTarget {
            namespace: "hands-on".into(),
            name: "review".into(),
            kind: RouteKind::VirtualService,
        }
    }

    /// Counters with `requests` to each version, `errors` of v2's failing, latencies below 50 ms
    /// except `slow` of v2's.
    fn counters(v1: f64, v2: f64, errors: f64, slow: f64) -> Counters {
        let mut c = Counters::default();
        for (version, n, e, s) in [("v1", v1, 0.0, 0.0), ("v2", v2, errors, slow)] {
            let key = (
                "hands-on".to_owned(),
                "review".to_owned(),
                version.to_owned(),
            );
            c.add_requests(key.clone(), "200", n - e);
            c.add_requests(key.clone(), "503", e);
            c.add_bucket(key.clone(), 50.0, n - s);
            c.add_bucket(key.clone(), 1000.0, n);
            c.add_bucket(key, f64::INFINITY, n);
        }
        c
    }

    fn run(latest: &Counters, gates: &Gates) -> Evaluation {
        let versions = versions(&topology(), &[target()], names());
        let base = Counters::default();
        evaluate(
            &versions,
            Some(Window {
                base_at: 40.0,
                base: &base,
                latest_at: 100.0,
                latest,
            }),
            gates,
            1,
            25,
            100.0,
            None,
        )
    }

    #[test]
    fn the_versions_come_from_the_route_and_its_destination_rule() {
        let v = versions(&topology(), &[target()], names());
        assert_eq!(v[0].service, Some(("hands-on".into(), "review".into())));
        assert_eq!(v[0].new.version.as_deref(), Some("v2"));
        assert_eq!(v[0].old.version.as_deref(), Some("v1"));
    }

    #[test]
    fn a_failing_new_version_fails_with_the_issue_s_sentence() {
        // 412 requests, 28.4 failing: 93.1 % success.
        let e = run(&counters(1200.0, 412.0, 28.428, 0.0), &Gates::default());
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(
            failures(&e),
            "review v2 success rate 93.1 % < 99 % over 412 requests"
        );
        assert_eq!(e.window_seconds, 60.0);
        assert!(
            e.summary.starts_with("step 2 (25 %) failed over 60 s: "),
            "{}",
            e.summary
        );
        assert_eq!(e.targets[0].old.success_rate, Some(100.0));
    }

    #[test]
    fn slow_and_worse_than_old_fail_too() {
        let slow = run(&counters(1000.0, 1000.0, 0.0, 20.0), &Gates::default());
        assert_eq!(slow.verdict, Verdict::Fail);
        assert!(
            failures(&slow).contains("review v2 p99"),
            "{}",
            slow.summary
        );
        let gates = Gates {
            min_success_rate: 90.0,
            max_drop_vs_old: Some(2.0),
            ..Gates::default()
        };
        let worse = run(&counters(1000.0, 1000.0, 50.0, 0.0), &gates);
        assert_eq!(
            failures(&worse),
            "review v2 success rate 95.0 % is 5.0 points below v1's 100.0 % (at most 2 allowed)"
        );
    }

    #[test]
    fn too_few_requests_are_inconclusive_never_a_verdict() {
        // Every request failed, but only 3: no abort on no data.
        let e = run(&counters(1000.0, 3.0, 3.0, 0.0), &Gates::default());
        assert_eq!(e.verdict, Verdict::Inconclusive);
        assert_eq!(
            doubts(&e),
            "review v2 had 3 requests, fewer than the 50 an evaluation needs"
        );
        let nothing = evaluate(
            &versions(&topology(), &[target()], names()),
            None,
            &Gates::default(),
            0,
            5,
            1.0,
            None,
        );
        assert_eq!(nothing.verdict, Verdict::Inconclusive);
        assert!(doubts(&nothing).contains("no metrics have been read yet"));
    }

    #[test]
    fn a_healthy_version_passes() {
        let e = run(&counters(1000.0, 400.0, 1.0, 0.0), &Gates::default());
        assert_eq!(e.verdict, Verdict::Pass, "{}", e.summary);
        assert_eq!(e.targets[0].new.requests, 400.0);
        assert!(e.targets[0].reasons.is_empty());
        assert_eq!(number(99.0), "99");
        assert_eq!(number(99.5), "99.5");
    }

    /// The gateway demo's review: HTTPRoute `review` attached to Service `review`, its last rule
    /// split between the backends `review-v1` and `review-v2` (selectors `version: v1`, `v2`).
    fn gateway_topology() -> Topology {
        let backend = |host: &str, weight| Destination {
            host: host.into(),
            subset: None,
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        };
        let ns = "hands-on-gateway";
        Topology {
            http_routes: vec![VirtualServiceRoutes {
                namespace: ns.into(),
                name: "review".into(),
                resource_version: "1".into(),
                hosts: vec!["review".into()],
                routes: vec![
                    HttpRoute {
                        index: 0,
                        name: None,
                        match_summary: "header x-group = test".into(),
                        destinations: vec![backend("review-v2", 1)],
                    },
                    HttpRoute {
                        index: 1,
                        name: None,
                        match_summary: "all requests".into(),
                        destinations: vec![backend("review-v1", 75), backend("review-v2", 25)],
                    },
                ],
                weight_managers: vec![],
            }],
            service_versions: BTreeMap::from([
                ((ns.to_owned(), "review-v1".to_owned()), "v1".to_owned()),
                ((ns.to_owned(), "review-v2".to_owned()), "v2".to_owned()),
            ]),
            ..Topology::default()
        }
    }

    fn http_route_target() -> PlanTarget {
        PlanTarget {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
            kind: RouteKind::HTTPRoute,
        }
    }

    /// Counters of the gateway namespace: `v1` and `v2` requests under `service` (the backend
    /// Services when the metrics name them, else the parent `review` by version), `errors` of
    /// v2's failing.
    fn gateway_counters(by_backend: bool, v1: f64, v2: f64, errors: f64) -> Counters {
        let mut c = Counters::default();
        for (version, n, e) in [("v1", v1, 0.0), ("v2", v2, errors)] {
            let service = if by_backend {
                format!("review-{version}")
            } else {
                "review".to_owned()
            };
            let key = ("hands-on-gateway".to_owned(), service, version.to_owned());
            c.add_requests(key.clone(), "200", n - e);
            c.add_requests(key.clone(), "500", e);
            c.add_bucket(key.clone(), 50.0, n);
            c.add_bucket(key, f64::INFINITY, n);
        }
        c
    }

    fn run_gateway(latest: &Counters, topology: &Topology) -> Evaluation {
        let versions = versions(topology, &[http_route_target()], names());
        let base = Counters::default();
        evaluate(
            &versions,
            Some(Window {
                base_at: 40.0,
                base: &base,
                latest_at: 100.0,
                latest,
            }),
            &Gates::default(),
            1,
            25,
            100.0,
            None,
        )
    }

    #[test]
    fn an_http_route_s_versions_are_its_two_backend_services() {
        let v = versions(&gateway_topology(), &[http_route_target()], names());
        assert_eq!(
            v[0].service,
            Some(("hands-on-gateway".into(), "review".into()))
        );
        assert_eq!(v[0].old.subset, "review-v1");
        assert_eq!(
            v[0].new,
            VersionOf {
                subset: "review-v2".into(),
                version: Some("v2".into()),
                backend: Some(("hands-on-gateway".into(), "review-v2".into())),
            }
        );
    }

    #[test]
    fn an_http_route_backend_is_read_by_its_service_or_else_by_version_under_its_parent() {
        // The metrics name the backend Services (the simulator's waypoint does): the failing
        // backend is named in the sentence.
        let e = run_gateway(
            &gateway_counters(true, 1200.0, 412.0, 28.428),
            &gateway_topology(),
        );
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(
            failures(&e),
            "review-v2 success rate 93.1 % < 99 % over 412 requests"
        );
        assert_eq!(e.targets[0].kind, RouteKind::HTTPRoute);
        assert_eq!(e.targets[0].new.subset, "review-v2");
        assert_eq!(e.targets[0].old.requests, 1200.0);
        // A proxy that reports the request's original host (review) with the workload's
        // version: the same numbers, read under the parent by the backends' selector versions.
        let e = run_gateway(
            &gateway_counters(false, 1200.0, 412.0, 28.428),
            &gateway_topology(),
        );
        assert_eq!(
            failures(&e),
            "review-v2 success rate 93.1 % < 99 % over 412 requests"
        );
        assert_eq!(e.targets[0].old.requests, 1200.0);
        // Healthy: a pass whose summary names the backend.
        let e = run_gateway(
            &gateway_counters(true, 1000.0, 400.0, 0.0),
            &gateway_topology(),
        );
        assert_eq!(e.verdict, Verdict::Pass, "{}", e.summary);
        assert!(
            e.summary.contains("review-v2 100.0 % success"),
            "{}",
            e.summary
        );
    }

    #[test]
    fn every_version_of_a_backend_service_counts_as_it() {
        // Pods behind review-v2 labelled otherwise still serve review-v2's traffic; requests no
        // workload answered (version unknown) count too, as failures when they failed.
        let mut c = gateway_counters(true, 1000.0, 100.0, 0.0);
        let key = |v: &str| {
            (
                "hands-on-gateway".to_owned(),
                "review-v2".to_owned(),
                v.to_owned(),
            )
        };
        c.add_requests(key("v2-canary"), "200", 50.0);
        c.add_requests(key("unknown"), "0", 10.0);
        let e = run_gateway(&c, &gateway_topology());
        assert_eq!(e.targets[0].new.requests, 160.0);
        assert_eq!(
            failures(&e),
            "review-v2 success rate 93.8 % < 99 % over 160 requests"
        );
    }

    #[test]
    fn an_http_route_without_readable_traffic_is_inconclusive() {
        // No traffic at all: too few requests.
        let e = run_gateway(&Counters::default(), &gateway_topology());
        assert_eq!(e.verdict, Verdict::Inconclusive);
        assert_eq!(
            doubts(&e),
            "review-v2 had 0 requests, fewer than the 50 an evaluation needs"
        );
        // Metrics by version only, and the backend's selector has no version label.
        let mut topology = gateway_topology();
        topology.service_versions.clear();
        let e = run_gateway(&gateway_counters(false, 1000.0, 400.0, 0.0), &topology);
        assert_eq!(e.verdict, Verdict::Inconclusive);
        assert_eq!(
            doubts(&e),
            "review-v2: no request names it as the destination service, and its selector has no version label to tell its traffic apart under review"
        );
        // The route lost its old/new rule.
        let mut topology = gateway_topology();
        topology.http_routes[0].routes.truncate(1);
        let e = run_gateway(&gateway_counters(true, 1000.0, 400.0, 0.0), &topology);
        assert_eq!(e.verdict, Verdict::Inconclusive);
        assert!(
            doubts(&e).starts_with(
                "HTTPRoute review: it has no rule split between its old and new backends"
            ),
            "{}",
            doubts(&e)
        );
    }
}
