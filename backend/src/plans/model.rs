//! A plan as asked for, checked (pure): every rule `POST /api/v1/plans` applies before anything is
//! written, each broken rule a sentence the caller can act on (422), and the ReleasePlan spec the
//! console stores for a valid request. No I/O, no clock: who and when are arguments.

use std::collections::BTreeSet;
use switchyard_protocol::backends::old_new;
use switchyard_protocol::plans::{PlanRequest, MAX_STEPS, MAX_TARGETS};
use switchyard_protocol::{RouteKind, VirtualServiceRoutes};

use crate::cluster::plan_object::Spec;
use crate::cluster::OldNewNames;

/// The longest hold a plan may ask for: a day.
pub const MAX_HOLD_SECONDS: u32 = 86_400;

/// Checks `request` against the console's rules and the route objects in scope (`routes`, the
/// cache: VirtualServices and HTTPRoutes as their views, each with its kind), and returns the
/// namespace the plan lives in (its first target's) with the spec to store; else the sentence
/// saying what is wrong. A target must have an old/new route as bulk shift finds it
/// (`switchyard_protocol::backends::old_new`): a VirtualService's route split between exactly the
/// old and new subsets, an HTTPRoute's rule split between its old and new backends. VirtualServices
/// and HTTPRoutes may be mixed in one plan.
pub fn validate(
    request: &PlanRequest,
    routes: &[(RouteKind, VirtualServiceRoutes)],
    names: OldNewNames<'_>,
    created_by: &str,
    created_at: &str,
) -> Result<(String, Spec), String> {
    let Some(first) = request.targets.first() else {
        return Err("targets is empty: name at least one route for the plan to move".into());
    };
    if request.targets.len() > MAX_TARGETS {
        return Err(format!(
            "a plan moves at most {MAX_TARGETS} targets; this one names {}",
            request.targets.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for target in &request.targets {
        if !seen.insert((&target.namespace, &target.name, target.kind)) {
            return Err(format!(
                "{} {}/{} is named twice in targets",
                target.kind, target.namespace, target.name
            ));
        }
        let Some((_, routes)) = routes.iter().find(|(kind, r)| {
            *kind == target.kind && r.namespace == target.namespace && r.name == target.name
        }) else {
            return Err(format!(
                "no {} {}/{} in the namespaces this console watches",
                target.kind, target.namespace, target.name
            ));
        };
        if old_new(target.kind, routes, names.subsets, names.backends).is_none() {
            return Err(match target.kind {
                RouteKind::VirtualService => format!(
                    "{}/{} has no route that splits between exactly {} and {}, so a plan cannot move it",
                    target.namespace,
                    target.name,
                    names.subsets.old_name(),
                    names.subsets.new_name()
                ),
                RouteKind::HTTPRoute => format!(
                    "HTTPRoute {}/{} has no rule that splits between exactly two backends {{service}}-{} and {{service}}-{} (e.g. {}-{} and {}-{}), so a plan cannot move it",
                    target.namespace,
                    target.name,
                    names.backends.old_suffix(),
                    names.backends.new_suffix(),
                    target.name,
                    names.backends.old_suffix(),
                    target.name,
                    names.backends.new_suffix()
                ),
            });
        }
    }
    let steps = &request.steps;
    if steps.is_empty() {
        return Err("steps is empty: give the new version's weight at each step, ending at 100 (e.g. 5, 25, 50, 100)".into());
    }
    if steps.len() > MAX_STEPS {
        return Err(format!(
            "a plan has at most {MAX_STEPS} steps; this one has {}",
            steps.len()
        ));
    }
    if let Some(bad) = steps.iter().find(|w| !(1..=100).contains(*w)) {
        return Err(format!(
            "step weight {bad} is out of range: each step gives the new version 1 to 100"
        ));
    }
    if steps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(format!(
            "steps must rise: {} does not",
            steps
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if steps.last() != Some(&100) {
        return Err(
            "the last step must be 100: a plan ends with the new version taking all the traffic"
                .into(),
        );
    }
    if request.hold_seconds == 0 || request.hold_seconds > MAX_HOLD_SECONDS {
        return Err(format!(
            "hold_seconds must be 1 to {MAX_HOLD_SECONDS} (a day); it is {}",
            request.hold_seconds
        ));
    }
    let g = &request.gates;
    if !(0.0..=100.0).contains(&g.min_success_rate) {
        return Err(format!(
            "gates.min_success_rate is a percentage, 0 to 100; it is {}",
            g.min_success_rate
        ));
    }
    if !g.max_p99_ms.is_finite() || g.max_p99_ms <= 0.0 {
        return Err(format!(
            "gates.max_p99_ms must be more than 0 ms; it is {}",
            g.max_p99_ms
        ));
    }
    if g.min_requests == 0 {
        return Err(
            "gates.min_requests must be at least 1: a plan never promotes or aborts on no data"
                .into(),
        );
    }
    if let Some(drop) = g.max_drop_vs_old {
        if !(0.0..=100.0).contains(&drop) {
            return Err(format!(
                "gates.max_drop_vs_old is in percentage points, 0 to 100; it is {drop}"
            ));
        }
    }
    if g.failures_to_abort == 0 {
        return Err("gates.failures_to_abort must be at least 1".into());
    }
    if g.max_inconclusive > 1000 {
        return Err(format!(
            "gates.max_inconclusive is at most 1000; it is {}",
            g.max_inconclusive
        ));
    }
    let mut approvals = BTreeSet::new();
    for &index in &request.approval_before {
        if index >= steps.len() {
            return Err(format!(
                "approval_before names step index {index}, but the plan's steps are indices 0 to {}",
                steps.len() - 1
            ));
        }
        if !approvals.insert(index) {
            return Err(format!("approval_before names step index {index} twice"));
        }
    }
    Ok((
        first.namespace.clone(),
        Spec {
            targets: request.targets.clone(),
            steps: steps.clone(),
            hold_seconds: request.hold_seconds,
            gates: request.gates.clone(),
            on_abort: request.on_abort,
            approval_before: approvals.into_iter().collect(),
            created_by: created_by.to_owned(),
            created_at: created_at.to_owned(),
            commands: Vec::new(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Backends, Destination, HttpRoute, Subsets};

    fn destination(host: &str, subset: Option<&str>, weight: u32) -> Destination {
        Destination {
            host: host.into(),
            subset: subset.map(Into::into),
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        }
    }

    fn routes(namespace: &str, name: &str, destinations: Vec<Destination>) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: namespace.into(),
            name: name.into(),
            resource_version: "1".into(),
            hosts: vec![name.into()],
            routes: vec![HttpRoute {
                index: 0,
                name: None,
                match_summary: "all requests".into(),
                destinations,
            }],
            weight_managers: vec![],
        }
    }

    fn vs(name: &str) -> (RouteKind, VirtualServiceRoutes) {
        let d = |subset| destination(name, Some(subset), if subset == "old" { 100 } else { 0 });
        (
            RouteKind::VirtualService,
            routes("hands-on", name, vec![d("old"), d("new")]),
        )
    }

    /// The gateway demo's HTTPRoute `name`: backends `{name}-v1` and `{name}-v2` with relative
    /// weights 1 and 3.
    fn http_route(name: &str) -> (RouteKind, VirtualServiceRoutes) {
        (
            RouteKind::HTTPRoute,
            routes(
                "hands-on-gateway",
                name,
                vec![
                    destination(&format!("{name}-v1"), None, 1),
                    destination(&format!("{name}-v2"), None, 3),
                ],
            ),
        )
    }

    fn request(body: &str) -> PlanRequest {
        serde_json::from_str(body).unwrap()
    }

    fn check_with(
        body: &str,
        routes: &[(RouteKind, VirtualServiceRoutes)],
    ) -> Result<(String, Spec), String> {
        validate(
            &request(body),
            routes,
            OldNewNames {
                subsets: &Subsets::default(),
                backends: &Backends::default(),
            },
            "jane",
            "2026-11-27T10:00:00Z",
        )
    }

    fn check(body: &str) -> Result<(String, Spec), String> {
        check_with(body, &[vs("review"), vs("product"), http_route("review")])
    }

    #[test]
    fn a_valid_plan_becomes_a_spec_in_its_first_target_s_namespace() {
        let (namespace, spec) = check(
            r#"{"targets":[{"namespace":"hands-on","name":"review"},{"namespace":"hands-on","name":"product"}],
                "steps":[5,25,50,100],"hold_seconds":60,"approval_before":[3,2]}"#,
        )
        .unwrap();
        assert_eq!(namespace, "hands-on");
        assert_eq!(spec.approval_before, vec![2, 3]);
        assert_eq!(spec.created_by, "jane");
        assert!(spec.commands.is_empty());
    }

    #[test]
    fn http_route_targets_and_mixed_plans_are_accepted() {
        let (namespace, spec) = check(
            r#"{"targets":[{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"},
                {"namespace":"hands-on","name":"review"}],"steps":[5,100],"hold_seconds":60}"#,
        )
        .unwrap();
        assert_eq!(namespace, "hands-on-gateway");
        assert_eq!(
            spec.targets
                .iter()
                .map(|t| (t.kind, t.namespace.as_str(), t.name.as_str()))
                .collect::<Vec<_>>(),
            [
                (RouteKind::HTTPRoute, "hands-on-gateway", "review"),
                (RouteKind::VirtualService, "hands-on", "review")
            ]
        );
    }

    #[test]
    fn every_broken_rule_is_a_sentence() {
        let t = r#""targets":[{"namespace":"hands-on","name":"review"}]"#;
        for (body, says) in [
            (r#"{"targets":[],"steps":[100],"hold_seconds":1}"#.to_owned(), "targets is empty"),
            (format!(r#"{{{t},"steps":[],"hold_seconds":1}}"#), "steps is empty"),
            (format!(r#"{{{t},"steps":[5,5,100],"hold_seconds":1}}"#), "steps must rise: 5, 5, 100"),
            (format!(r#"{{{t},"steps":[0,100],"hold_seconds":1}}"#), "step weight 0 is out of range"),
            (format!(r#"{{{t},"steps":[5,50],"hold_seconds":1}}"#), "the last step must be 100"),
            (format!(r#"{{{t},"steps":[100],"hold_seconds":0}}"#), "hold_seconds must be 1 to 86400"),
            (format!(r#"{{{t},"steps":[100],"hold_seconds":1,"gates":{{"min_success_rate":101}}}}"#), "percentage, 0 to 100"),
            (format!(r#"{{{t},"steps":[100],"hold_seconds":1,"gates":{{"max_p99_ms":0}}}}"#), "max_p99_ms must be more than 0"),
            (format!(r#"{{{t},"steps":[100],"hold_seconds":1,"gates":{{"min_requests":0}}}}"#), "never promotes or aborts on no data"),
            (format!(r#"{{{t},"steps":[100],"hold_seconds":1,"gates":{{"failures_to_abort":0}}}}"#), "failures_to_abort"),
            (format!(r#"{{{t},"steps":[50,100],"hold_seconds":1,"approval_before":[2]}}"#), "indices 0 to 1"),
            (r#"{"targets":[{"namespace":"hands-on","name":"review"},{"namespace":"hands-on","name":"review"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "VirtualService hands-on/review is named twice"),
            (r#"{"targets":[{"namespace":"hands-on","name":"rating"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "no VirtualService hands-on/rating"),
            // The kind is part of a target: the VirtualService review is no HTTPRoute.
            (r#"{"targets":[{"namespace":"hands-on","name":"review","kind":"HTTPRoute"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "no HTTPRoute hands-on/review in the namespaces this console watches"),
            (r#"{"targets":[{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"},{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "HTTPRoute hands-on-gateway/review is named twice"),
        ] {
            let err = check(&body).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn a_target_without_an_old_new_route_is_refused() {
        let (kind, mut single) = vs("review");
        single.routes[0].destinations.truncate(1);
        let err = check_with(
            r#"{"targets":[{"namespace":"hands-on","name":"review"}],"steps":[100],"hold_seconds":1}"#,
            &[(kind, single)],
        )
        .unwrap_err();
        assert!(
            err.contains("no route that splits between exactly old and new"),
            "{err}"
        );
        // An HTTPRoute whose backends are not a {service}-v1/{service}-v2 pair.
        let (kind, mut other) = http_route("review");
        other.routes[0].destinations[1].host = "rating-v2".into();
        let err = check_with(
            r#"{"targets":[{"namespace":"hands-on-gateway","name":"review","kind":"HTTPRoute"}],"steps":[100],"hold_seconds":1}"#,
            &[(kind, other)],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "HTTPRoute hands-on-gateway/review has no rule that splits between exactly two backends {service}-v1 and {service}-v2 (e.g. review-v1 and review-v2), so a plan cannot move it"
        );
    }
}
