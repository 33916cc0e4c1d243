//! Gate evaluation, pure: which service version each plan target's old and new subsets are (from
//! the VirtualService's old/new route and its DestinationRule's `version` labels, as the graph
//! reads them), and what they served between two gate-counter snapshots: requests, success rate
//! (not 5xx, and a response at all), p99 latency, each against the plan's thresholds, with a
//! sentence for every gate that failed or could not be judged. Fewer requests than the plan's
//! minimum is inconclusive, never a pass or a fail. No I/O, no clock.

use switchyard_protocol::plans::{
    Evaluation, Gates, PlanTarget, TargetEvaluation, Verdict, VersionValues,
};
use switchyard_protocol::Subsets;

use crate::graph::Topology;
use crate::istio::host;
use crate::metrics::{histogram_quantile, Counters};

/// A subset and the version label it selects, when a DestinationRule says.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionOf {
    pub subset: String,
    pub version: Option<String>,
}

/// What a plan target's metrics are read from.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetVersions {
    pub target: PlanTarget,
    /// The Kubernetes Service its old/new route sends to: (namespace, name).
    pub service: Option<(String, String)>,
    pub old: VersionOf,
    pub new: VersionOf,
}

/// The service and versions of each target, from the cluster's topology.
pub fn versions(
    topology: &Topology,
    targets: &[PlanTarget],
    subsets: &Subsets,
) -> Vec<TargetVersions> {
    targets
        .iter()
        .map(|target| {
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
            };
            TargetVersions {
                target: target.clone(),
                service,
                old: of(subsets.old_name()),
                new: of(subsets.new_name()),
            }
        })
        .collect()
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

/// `review v2` (or `review new` when the version is not known).
fn label(target: &PlanTarget, version: &VersionOf) -> String {
    format!(
        "{} {}",
        target.name,
        version.version.as_deref().unwrap_or(&version.subset)
    )
}

fn values(
    window: Option<&Window<'_>>,
    service: Option<&(String, String)>,
    of: &VersionOf,
) -> VersionValues {
    let count = match (window, service, &of.version) {
        (Some(w), Some((namespace, name)), Some(version)) => Some(
            w.latest
                .since(w.base, &(namespace.clone(), name.clone(), version.clone())),
        ),
        _ => None,
    };
    let requests = count.as_ref().map_or(0.0, |c| c.requests);
    VersionValues {
        subset: of.subset.clone(),
        version: of.version.clone(),
        requests,
        success_rate: count
            .as_ref()
            .filter(|c| c.requests > 0.0)
            .map(|c| (c.requests - c.errors) * 100.0 / c.requests),
        p99_ms: count
            .as_ref()
            .and_then(|c| histogram_quantile(0.99, &c.buckets)),
    }
}

/// Judges one target's new version against the gates.
fn judge(
    t: &TargetVersions,
    window: Option<&Window<'_>>,
    gates: &Gates,
    unavailable: Option<&str>,
) -> TargetEvaluation {
    let new = values(window, t.service.as_ref(), &t.new);
    let old = values(window, t.service.as_ref(), &t.old);
    let who = label(&t.target, &t.new);
    let mut fails = Vec::new();
    let mut unsure = Vec::new();
    if let Some(why) = unavailable {
        unsure.push(format!("{who}: {why}"));
    } else if t.service.is_none() {
        unsure.push(format!(
            "{}: its old/new route names no Service of this cluster, so its traffic cannot be read",
            t.target.name
        ));
    } else if t.new.version.is_none() {
        unsure.push(format!(
            "{who}: no DestinationRule gives subset {} a version label, so its traffic cannot be told apart",
            t.new.subset
        ));
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
                fails.push(format!(
                    "{who} success rate {new_rate:.1} % is {:.1} points below {}'s {old_rate:.1} % (at most {} allowed)",
                    old_rate - new_rate,
                    t.old.version.as_deref().unwrap_or(&t.old.subset),
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
                    label(
                        &PlanTarget {
                            namespace: r.namespace.clone(),
                            name: r.name.clone(),
                            kind: Default::default()
                        },
                        &VersionOf {
                            subset: r.new.subset.clone(),
                            version: r.new.version.clone()
                        }
                    ),
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
    use switchyard_protocol::{Destination, HttpRoute, RouteKind, VirtualServiceRoutes};

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
        let versions = versions(&topology(), &[target()], &Subsets::default());
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
        let v = versions(&topology(), &[target()], &Subsets::default());
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
            &versions(&topology(), &[target()], &Subsets::default()),
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
}
