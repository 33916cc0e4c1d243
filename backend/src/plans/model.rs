//! A plan as asked for, checked (pure): every rule `POST /api/v1/plans` applies before anything is
//! written, each broken rule a sentence the caller can act on (422), and the ReleasePlan spec the
//! console stores for a valid request. No I/O, no clock: who and when are arguments.

use std::collections::BTreeSet;
use switchyard_protocol::plans::{PlanRequest, MAX_STEPS, MAX_TARGETS};
use switchyard_protocol::{RouteKind, Subsets, VirtualServiceRoutes};

use crate::cluster::plan_object::Spec;

/// The longest hold a plan may ask for: a day.
pub const MAX_HOLD_SECONDS: u32 = 86_400;

/// Checks `request` against the console's rules and the VirtualServices in scope (`routes`, the
/// cache), and returns the namespace the plan lives in (its first target's) with the spec to
/// store; else the sentence saying what is wrong.
pub fn validate(
    request: &PlanRequest,
    routes: &[VirtualServiceRoutes],
    subsets: &Subsets,
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
        if target.kind == RouteKind::HTTPRoute {
            return Err(format!(
                "{}/{} is an HTTPRoute: HTTPRoute plan targets need Gateway API support, which this console does not have yet",
                target.namespace, target.name
            ));
        }
        if !seen.insert((&target.namespace, &target.name, target.kind)) {
            return Err(format!(
                "{}/{} is named twice in targets",
                target.namespace, target.name
            ));
        }
        let Some(vs) = routes
            .iter()
            .find(|vs| vs.namespace == target.namespace && vs.name == target.name)
        else {
            return Err(format!(
                "no VirtualService {}/{} in the namespaces this console watches",
                target.namespace, target.name
            ));
        };
        if subsets.shift_route(vs).is_none() {
            return Err(format!(
                "{}/{} has no route that splits between exactly {} and {}, so a plan cannot move it",
                target.namespace,
                target.name,
                subsets.old_name(),
                subsets.new_name()
            ));
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
    use switchyard_protocol::{Destination, HttpRoute};

    fn vs(name: &str) -> VirtualServiceRoutes {
        let d = |subset: &str, weight| Destination {
            host: name.into(),
            subset: Some(subset.into()),
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        };
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: name.into(),
            resource_version: "1".into(),
            hosts: vec![name.into()],
            routes: vec![HttpRoute {
                index: 0,
                name: None,
                match_summary: "all requests".into(),
                destinations: vec![d("old", 100), d("new", 0)],
            }],
            weight_managers: vec![],
        }
    }

    fn request(body: &str) -> PlanRequest {
        serde_json::from_str(body).unwrap()
    }

    fn check(body: &str) -> Result<(String, Spec), String> {
        validate(
            &request(body),
            &[vs("review"), vs("product")],
            &Subsets::default(),
            "jane",
            "2026-11-27T10:00:00Z",
        )
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
            (r#"{"targets":[{"namespace":"hands-on","name":"review"},{"namespace":"hands-on","name":"review"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "named twice"),
            (r#"{"targets":[{"namespace":"hands-on","name":"rating"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "no VirtualService hands-on/rating"),
            (r#"{"targets":[{"namespace":"hands-on","name":"review","kind":"HTTPRoute"}],"steps":[100],"hold_seconds":1}"#.to_owned(), "HTTPRoute plan targets need Gateway API support"),
        ] {
            let err = check(&body).unwrap_err();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn a_target_without_an_old_new_route_is_refused() {
        let mut single = vs("review");
        single.routes[0].destinations.truncate(1);
        let err = validate(
            &request(r#"{"targets":[{"namespace":"hands-on","name":"review"}],"steps":[100],"hold_seconds":1}"#),
            &[single],
            &Subsets::default(),
            "jane",
            "t",
        )
        .unwrap_err();
        assert!(
            err.contains("no route that splits between exactly old and new"),
            "{err}"
        );
    }
}
