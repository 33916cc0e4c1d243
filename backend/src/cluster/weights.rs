//! Pure planning of a weight change: checks the request against the console's policy and the route
//! as it is now, and builds the JSON Patch whose `test` operations guard the exact route, so a route
//! that someone else changed or moved in the meantime is never overwritten. The same for a
//! VirtualService's http route and an HTTPRoute's rule (`kinds`). No I/O.

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::weights::{validate_for_route, validate_values, WeightError};
use switchyard_protocol::{ExpectedDestination, RouteKind, SetWeightsRequest};

use super::history::{annotation_ops, LastChange};
use super::kinds;

/// Why a weight change cannot be made, before anything is sent to the cluster.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The request breaks the console's weight policy.
    #[error("{0}")]
    Invalid(String),
    /// The route object has no route (rule) at that index.
    #[error("{} {name} has no {} {index}", kinds::noun(*kind), kinds::route_noun(*kind))]
    NoSuchRoute {
        kind: RouteKind,
        name: String,
        index: usize,
    },
    /// The route is not as the client saw it; the sentence says what changed.
    #[error("{0}")]
    Changed(String),
}

/// A broken weight policy is an invalid request, in the policy's own sentence.
impl From<WeightError> for PlanError {
    fn from(error: WeightError) -> Self {
        PlanError::Invalid(error.to_string())
    }
}

/// What to send: `None` when the route already has exactly these weights.
#[derive(Debug, PartialEq)]
pub struct Plan {
    pub patch: Option<json_patch::Patch>,
    /// Human summary of the new split, e.g. `old 80 / new 20`.
    pub summary: String,
}

/// What must hold of a destination before traffic is sent to it.
#[derive(Clone, Copy, Debug)]
pub enum Exists<'a> {
    /// Nothing is checked (nothing is known).
    Unchecked,
    /// A VirtualService's subset must be defined: per host as written in the route, the subsets
    /// some DestinationRule defines.
    Subsets(&'a BTreeMap<String, Vec<String>>),
    /// An HTTPRoute's backend Service must exist: the backend keys (`name`, `namespace/name`) of
    /// the Services known.
    Services(&'a BTreeSet<String>),
}

/// Checks `request` against `object` (the VirtualService as last seen) and plans the patch.
/// `defined_subsets` lists, per host as written in the route, the subsets some DestinationRule
/// defines; `None` skips that check (no DestinationRules known).
pub fn plan(
    object: &Value,
    index: usize,
    request: &SetWeightsRequest,
    defined_subsets: Option<&BTreeMap<String, Vec<String>>>,
    stamp: Option<&LastChange>,
) -> Result<Plan, PlanError> {
    let exists = defined_subsets.map_or(Exists::Unchecked, Exists::Subsets);
    plan_route(
        RouteKind::VirtualService,
        object,
        index,
        request,
        exists,
        stamp,
    )
}

/// [`plan`] for a route object of either kind: route `index` is `spec.http[index]` of a
/// VirtualService or `spec.rules[index]` of an HTTPRoute, guarded and changed alike.
pub fn plan_route(
    kind: RouteKind,
    object: &Value,
    index: usize,
    request: &SetWeightsRequest,
    exists: Exists<'_>,
    stamp: Option<&LastChange>,
) -> Result<Plan, PlanError> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let home = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let base = format!("{}/{index}", kinds::routes_pointer(kind));
    let http_route = object
        .pointer(&base)
        .ok_or_else(|| PlanError::NoSuchRoute {
            kind,
            name: name.to_owned(),
            index,
        })?;
    let field = kinds::destinations_field(kind);
    let entries = http_route
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let current: Vec<ExpectedDestination> = entries
        .iter()
        .map(|e| kinds::expected_of(kind, e, home))
        .collect();

    validate_values(&request.weights)?;
    if request.expected.is_empty() {
        return Err(PlanError::Invalid(
            "the request must say which destinations (with their weights) you saw in `expected`"
                .into(),
        ));
    }
    if current.len() < 2 {
        return Err(PlanError::Invalid(match kind {
            RouteKind::VirtualService => format!(
                "route {index} of {name} has a single destination, which always gets 100% of its traffic"
            ),
            RouteKind::HTTPRoute => format!(
                "rule {index} of {name} has a single backendRef, which gets all of its traffic (or none at weight 0)"
            ),
        }));
    }
    if request.expected != current {
        return Err(PlanError::Changed(describe_change(
            name,
            index,
            &request.expected,
            &current,
        )));
    }
    // The console's policy, as the page checks it too (`switchyard_protocol::weights`).
    let keys: Vec<&str> = current.iter().map(key_of).collect();
    validate_for_route(&keys, &request.weights)?;
    for d in &current {
        let weight = request.weights.get(key_of(d)).copied().unwrap_or(0);
        if weight == 0 {
            continue;
        }
        match (exists, &d.subset) {
            (Exists::Subsets(defined), Some(subset)) => {
                let known = defined.get(&d.host).is_some_and(|s| s.contains(subset));
                if !known {
                    return Err(PlanError::Invalid(format!(
                        "subset {subset} of host {} is not defined by any DestinationRule; traffic sent to it would fail with 503",
                        d.host
                    )));
                }
            }
            (Exists::Services(services), _) if !services.contains(&d.host) => {
                return Err(PlanError::Invalid(format!(
                    "backend Service {} does not exist; Gateway API answers the traffic sent to it with 500",
                    d.host
                )));
            }
            _ => {}
        }
    }

    let summary = current
        .iter()
        .map(|d| format!("{} {}", key_of(d), request.weights[key_of(d)]))
        .collect::<Vec<_>>()
        .join(" / ");
    let unchanged = current
        .iter()
        .all(|d| d.weight == request.weights[key_of(d)])
        && entries.iter().all(|e| e.get("weight").is_some());
    if unchanged {
        return Ok(Plan {
            patch: None,
            summary,
        });
    }

    // Guard the whole http route as last seen: it pins hosts, subsets, order and previous weights,
    // and its position (a route inserted before this index shows up as a different route here).
    // Testing the whole entry, not a possibly absent `match`, keeps the guard valid under strict
    // RFC 6902 as well as under the API server's lenient JSON Patch.
    let mut ops = vec![json!({"op": "test", "path": base, "value": http_route})];
    for (j, d) in current.iter().enumerate() {
        ops.push(json!({"op": "add", "path": format!("{base}/{field}/{j}/weight"), "value": request.weights[key_of(d)]}));
    }
    if let Some(stamp) = stamp {
        ops.extend(annotation_ops(object, stamp));
    }
    let patch = serde_json::from_value(Value::Array(ops))
        .map_err(|e| PlanError::Invalid(format!("could not build the patch: {e}")))?;
    Ok(Plan {
        patch: Some(patch),
        summary,
    })
}

/// The key a destination is addressed by in weight maps: its subset, or its host without one.
pub fn key_of(d: &ExpectedDestination) -> &str {
    d.subset.as_deref().unwrap_or(&d.host)
}

/// `old 80 / new 20`.
pub fn split_text(ds: &[ExpectedDestination]) -> String {
    ds.iter()
        .map(|d| format!("{} {}", key_of(d), d.weight))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// One sentence saying how the route differs from what the client saw.
pub fn describe_change(
    name: &str,
    index: usize,
    seen: &[ExpectedDestination],
    now: &[ExpectedDestination],
) -> String {
    let targets = |ds: &[ExpectedDestination]| {
        ds.iter()
            .map(|d| format!("{}/{}", d.host, d.subset.as_deref().unwrap_or("-")))
            .collect::<Vec<_>>()
    };
    if seen == now {
        format!("route {index} of {name} was edited by someone else (its destinations are unchanged); nothing was written, reload and try again")
    } else if targets(seen) != targets(now) {
        format!(
            "route {index} of {name} changed since you loaded it: it now sends to {} (you saw {}); nothing was written",
            targets(now).join(", "),
            targets(seen).join(", ")
        )
    } else {
        format!(
            "route {index} of {name} was changed by someone else: the weights are now {} (you saw {}); nothing was written",
            split_text(now),
            split_text(seen)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(old: u32, new: u32) -> Value {
        json!({
            "metadata": {"name": "review", "namespace": "hands-on", "resourceVersion": "7"},
            "spec": {"hosts": ["review"], "http": [
                {"match": [{"headers": {"x-group": {"exact": "test"}}}],
                 "route": [{"destination": {"host": "review", "subset": "new"}}]},
                {"route": [
                    {"destination": {"host": "review", "subset": "old"}, "weight": old},
                    {"destination": {"host": "review", "subset": "new"}, "weight": new}]}
            ]}
        })
    }

    fn seen(old: u32, new: u32) -> Vec<ExpectedDestination> {
        vec![
            ExpectedDestination {
                host: "review".into(),
                subset: Some("old".into()),
                weight: old,
            },
            ExpectedDestination {
                host: "review".into(),
                subset: Some("new".into()),
                weight: new,
            },
        ]
    }

    fn request(old: u32, new: u32, expected: Vec<ExpectedDestination>) -> SetWeightsRequest {
        SetWeightsRequest {
            weights: BTreeMap::from([("old".into(), old), ("new".into(), new)]),
            expected,
        }
    }

    #[test]
    fn plans_a_guarded_patch() {
        let plan = plan(
            &review(100, 0),
            1,
            &request(80, 20, seen(100, 0)),
            None,
            None,
        )
        .unwrap();
        assert_eq!(plan.summary, "old 80 / new 20");
        let ops = serde_json::to_value(plan.patch.unwrap()).unwrap();
        assert_eq!(
            ops,
            json!([
                {"op": "test", "path": "/spec/http/1", "value": {"route": [
                    {"destination": {"host": "review", "subset": "old"}, "weight": 100},
                    {"destination": {"host": "review", "subset": "new"}, "weight": 0}]}},
                {"op": "add", "path": "/spec/http/1/route/0/weight", "value": 80},
                {"op": "add", "path": "/spec/http/1/route/1/weight", "value": 20}
            ])
        );
    }

    #[test]
    fn the_patch_applies_to_the_seen_object_and_not_to_a_changed_one() {
        let p = plan(
            &review(100, 0),
            1,
            &request(80, 20, seen(100, 0)),
            None,
            None,
        )
        .unwrap()
        .patch
        .unwrap();
        let mut doc = review(100, 0);
        json_patch::patch(&mut doc, &p).unwrap();
        assert_eq!(doc["spec"]["http"][1]["route"][1]["weight"], 20);
        let mut changed = review(50, 50);
        assert!(json_patch::patch(&mut changed, &p).is_err());
        assert_eq!(changed, review(50, 50));
    }

    #[test]
    fn unchanged_weights_need_no_write() {
        let plan = plan(
            &review(80, 20),
            1,
            &request(80, 20, seen(80, 20)),
            None,
            None,
        )
        .unwrap();
        assert!(plan.patch.is_none());
    }

    #[test]
    fn stale_view_is_a_change_with_a_sentence() {
        let err = plan(
            &review(50, 50),
            1,
            &request(80, 20, seen(100, 0)),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PlanError::Changed(
                "route 1 of review was changed by someone else: the weights are now old 50 / new 50 (you saw old 100 / new 0); nothing was written".into()
            )
        );
    }

    #[test]
    fn policy_violations_are_invalid() {
        let cases = [
            (
                request(80, 30, seen(100, 0)),
                "weights must add up to 100, these add up to 110",
            ),
            (
                request(120, 0, seen(100, 0)),
                "weight 120 for old is out of range: weights are 0 to 100",
            ),
        ];
        for (req, want) in cases {
            assert_eq!(
                plan(&review(100, 0), 1, &req, None, None).unwrap_err(),
                PlanError::Invalid(want.into())
            );
        }
        let mut extra = request(80, 20, seen(100, 0));
        extra.weights.insert("canary".into(), 0);
        let mut nothing_seen = request(80, 20, vec![]);
        assert!(
            matches!(plan(&review(100, 0), 1, &nothing_seen, None, None), Err(PlanError::Invalid(m)) if m.contains("expected"))
        );
        nothing_seen.weights.insert("huge".into(), u32::MAX);
        assert!(
            matches!(plan(&review(100, 0), 1, &nothing_seen, None, None), Err(PlanError::Invalid(m)) if m.contains("out of range"))
        );
        assert!(
            matches!(plan(&review(100, 0), 1, &extra, None, None), Err(PlanError::Invalid(m)) if m.contains("no destination canary"))
        );
        let mut missing = request(100, 0, seen(100, 0));
        missing.weights.remove("new");
        assert!(
            matches!(plan(&review(100, 0), 1, &missing, None, None), Err(PlanError::Invalid(m)) if m.contains("new is missing"))
        );
    }

    #[test]
    fn single_destination_and_missing_routes() {
        let single = SetWeightsRequest {
            weights: BTreeMap::from([("new".into(), 100)]),
            expected: vec![ExpectedDestination {
                host: "review".into(),
                subset: Some("new".into()),
                weight: 0,
            }],
        };
        assert!(matches!(
            plan(&review(100, 0), 0, &single, None, None),
            Err(PlanError::Invalid(_))
        ));
        assert_eq!(
            plan(
                &review(100, 0),
                5,
                &request(80, 20, seen(100, 0)),
                None,
                None
            )
            .unwrap_err(),
            PlanError::NoSuchRoute {
                kind: RouteKind::VirtualService,
                name: "review".into(),
                index: 5
            }
        );
        assert_eq!(
            plan(
                &review(100, 0),
                5,
                &request(80, 20, seen(100, 0)),
                None,
                None
            )
            .unwrap_err()
            .to_string(),
            "virtualservice review has no http route 5"
        );
    }

    #[test]
    fn weight_to_an_undefined_subset_is_refused() {
        let defined = BTreeMap::from([("review".to_owned(), vec!["old".to_owned()])]);
        let err = plan(
            &review(100, 0),
            1,
            &request(80, 20, seen(100, 0)),
            Some(&defined),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, PlanError::Invalid(m) if m.contains("subset new of host review is not defined"))
        );
        // Sending nothing to it is fine.
        assert!(plan(
            &review(50, 50),
            1,
            &request(100, 0, seen(50, 50)),
            Some(&defined),
            None
        )
        .is_ok());
    }

    #[test]
    fn the_patch_also_records_who_changed_it() {
        let stamp = LastChange {
            id: "c1".into(),
            time: "t".into(),
            user: "jane".into(),
            source: "console".into(),
            route_index: 1,
            before: BTreeMap::from([("old".into(), 100), ("new".into(), 0)]),
            after: BTreeMap::from([("old".into(), 80), ("new".into(), 20)]),
            operation: None,
        };
        let p = plan(
            &review(100, 0),
            1,
            &request(80, 20, seen(100, 0)),
            None,
            Some(&stamp),
        )
        .unwrap()
        .patch
        .unwrap();
        let mut doc = review(100, 0);
        json_patch::patch(&mut doc, &p).unwrap();
        assert_eq!(super::super::history::last_change(&doc), Some(stamp));
    }

    fn http_route(weights: [Option<u32>; 2]) -> Value {
        let backend = |name: &str, weight: Option<u32>| {
            let mut b = json!({"group": "", "kind": "Service", "name": name, "port": 80});
            if let Some(w) = weight {
                b["weight"] = json!(w);
            }
            b
        };
        json!({
            "metadata": {"name": "review", "namespace": "hands-on-gateway", "resourceVersion": "7"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "review"}], "rules": [
                {"matches": [{"headers": [{"name": "x-group", "value": "test"}]}],
                 "backendRefs": [backend("review-v2", Some(1))]},
                {"backendRefs": [backend("review-v1", weights[0]), backend("review-v2", weights[1])]}
            ]}
        })
    }

    fn backends_seen(v1: u32, v2: u32) -> Vec<ExpectedDestination> {
        ["review-v1", "review-v2"]
            .into_iter()
            .zip([v1, v2])
            .map(|(host, weight)| ExpectedDestination {
                host: host.into(),
                subset: None,
                weight,
            })
            .collect()
    }

    fn backend_request(v1: u32, v2: u32, expected: Vec<ExpectedDestination>) -> SetWeightsRequest {
        SetWeightsRequest {
            weights: BTreeMap::from([("review-v1".into(), v1), ("review-v2".into(), v2)]),
            expected,
        }
    }

    #[test]
    fn an_http_route_rule_gets_the_same_guarded_patch() {
        let services = BTreeSet::from(["review-v1".to_owned(), "review-v2".to_owned()]);
        let object = http_route([Some(1), Some(3)]);
        let p = plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(80, 20, backends_seen(1, 3)),
            Exists::Services(&services),
            None,
        )
        .unwrap();
        assert_eq!(p.summary, "review-v1 80 / review-v2 20");
        let ops = serde_json::to_value(p.patch.clone().unwrap()).unwrap();
        assert_eq!(ops[0]["op"], "test");
        assert_eq!(ops[0]["path"], "/spec/rules/1");
        assert_eq!(ops[0]["value"], object["spec"]["rules"][1]);
        assert_eq!(
            ops[1],
            json!({"op": "add", "path": "/spec/rules/1/backendRefs/0/weight", "value": 80})
        );
        assert_eq!(
            ops[2],
            json!({"op": "add", "path": "/spec/rules/1/backendRefs/1/weight", "value": 20})
        );
        let mut doc = object.clone();
        json_patch::patch(&mut doc, &p.patch.unwrap()).unwrap();
        assert_eq!(doc["spec"]["rules"][1]["backendRefs"][1]["weight"], 20);
        // Weights changed by someone else in the meantime: the test fails, nothing changes.
        let p = plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(80, 20, backends_seen(1, 3)),
            Exists::Unchecked,
            None,
        )
        .unwrap()
        .patch
        .unwrap();
        let mut changed = http_route([Some(1), Some(1)]);
        assert!(json_patch::patch(&mut changed, &p).is_err());
        assert_eq!(changed, http_route([Some(1), Some(1)]));
    }

    #[test]
    fn a_missing_weight_is_seen_as_one_and_written() {
        let object = http_route([None, Some(3)]);
        // The client saw 1 for the backend without a weight.
        let p = plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(25, 75, backends_seen(1, 3)),
            Exists::Unchecked,
            None,
        )
        .unwrap();
        // The same shares but not as written: the weights are written out.
        assert!(p.patch.is_some());
        let stale = plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(80, 20, backends_seen(0, 3)),
            Exists::Unchecked,
            None,
        )
        .unwrap_err();
        assert!(matches!(stale, PlanError::Changed(_)), "{stale:?}");
    }

    #[test]
    fn an_http_routes_backend_must_exist_and_its_rule_be_there() {
        let only_v1 = BTreeSet::from(["review-v1".to_owned()]);
        let object = http_route([Some(1), Some(0)]);
        let err = plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(80, 20, backends_seen(1, 0)),
            Exists::Services(&only_v1),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            PlanError::Invalid(
                "backend Service review-v2 does not exist; Gateway API answers the traffic sent to it with 500".into()
            )
        );
        // Sending it nothing is fine.
        assert!(plan_route(
            RouteKind::HTTPRoute,
            &object,
            1,
            &backend_request(100, 0, backends_seen(1, 0)),
            Exists::Services(&only_v1),
            None
        )
        .is_ok());
        let err = plan_route(
            RouteKind::HTTPRoute,
            &object,
            4,
            &backend_request(100, 0, backends_seen(1, 0)),
            Exists::Unchecked,
            None,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "httproute review has no rule 4");
        let single = plan_route(
            RouteKind::HTTPRoute,
            &object,
            0,
            &SetWeightsRequest {
                weights: BTreeMap::from([("review-v2".into(), 100)]),
                expected: vec![ExpectedDestination {
                    host: "review-v2".into(),
                    subset: None,
                    weight: 1,
                }],
            },
            Exists::Unchecked,
            None,
        )
        .unwrap_err();
        assert!(matches!(single, PlanError::Invalid(m) if m.contains("single backendRef")));
    }
}
