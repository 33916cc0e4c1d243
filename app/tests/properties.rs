//! Property tests of the console's pure decoders on generated input: the JSON Patch planner
//! (`cluster::weights::plan`: any valid split gives a patch whose `test` op guards the route and
//! whose result adds up to 100; anything invalid is an error, never a panic) and the PromQL
//! response parser (`metrics::parse::instant_vector`: arbitrary JSON or bytes never panic;
//! well-formed vectors read back exactly), and the body decoder of the actions without parameters
//! (`routes::no_parameters`: nothing, blanks or `{}`; any other body is 422 naming what it carried).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Value};
use switchyard_console::cluster::weights::{plan, PlanError};
use switchyard_console::error::{Error, Failure};
use switchyard_console::metrics::parse::{instant_vector, ParseError};
use switchyard_console::routes::no_parameters;
use switchyard_protocol::{ExpectedDestination, SetWeightsRequest};

/// A VirtualService whose route `index` (after `index` single-destination routes) has one
/// destination per weight, subsets `s0`, `s1`, …; a missing weight is written without `weight`.
fn virtual_service(index: usize, weights: &[Option<u32>]) -> Value {
    let mut http: Vec<Value> = (0..index)
        .map(|i| json!({"match": [{"uri": {"prefix": format!("/p{i}")}}], "route": [{"destination": {"host": "review"}}]}))
        .collect();
    let route: Vec<Value> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut d = json!({"destination": {"host": "review", "subset": format!("s{i}")}});
            if let Some(w) = w {
                d["weight"] = json!(w);
            }
            d
        })
        .collect();
    http.push(json!({"route": route}));
    json!({
        "metadata": {"name": "review", "namespace": "hands-on", "resourceVersion": "7"},
        "spec": {"hosts": ["review"], "http": http}
    })
}

fn seen(weights: &[Option<u32>]) -> Vec<ExpectedDestination> {
    weights
        .iter()
        .enumerate()
        .map(|(i, w)| ExpectedDestination {
            host: "review".into(),
            subset: Some(format!("s{i}")),
            weight: w.unwrap_or(0),
        })
        .collect()
}

/// `n` whole numbers adding up to 100 (cut points in 0..=100).
fn split(n: usize) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0u32..=100, n - 1).prop_map(|mut cuts| {
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut last = 0;
        for c in cuts.into_iter().chain([100]) {
            out.push(c - last);
            last = c;
        }
        out
    })
}

/// Current weights (some unwritten) and a valid new split for a route of 2..=5 destinations.
fn route_and_split() -> impl Strategy<Value = (usize, Vec<Option<u32>>, Vec<u32>)> {
    (2usize..=5).prop_flat_map(|n| {
        (
            0usize..3,
            prop::collection::vec(prop::option::weighted(0.9, 0u32..=100), n),
            split(n),
        )
    })
}

fn request(new: &[u32], expected: Vec<ExpectedDestination>) -> SetWeightsRequest {
    SetWeightsRequest {
        weights: new
            .iter()
            .enumerate()
            .map(|(i, &w)| (format!("s{i}"), w))
            .collect(),
        expected,
    }
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,8}".prop_map(Value::from),
        prop_oneof![
            Just("success"),
            Just("error"),
            Just("vector"),
            Just("NaN"),
            Just("+Inf"),
            Just("1e-7")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("status".to_owned()),
                    Just("data".to_owned()),
                    Just("resultType".to_owned()),
                    Just("result".to_owned()),
                    Just("metric".to_owned()),
                    Just("value".to_owned()),
                    Just("errorType".to_owned()),
                    Just("error".to_owned()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_valid_split_plans_a_guarded_patch_whose_result_adds_up_to_100(
        (index, current, new) in route_and_split(),
    ) {
        let object = virtual_service(index, &current);
        let planned = plan(&object, index, &request(&new, seen(&current)), None, None).unwrap();
        let written: Vec<Option<u32>> = new.iter().map(|&w| Some(w)).collect();
        let Some(patch) = planned.patch else {
            // Nothing to send only when the route already has exactly these weights, written.
            prop_assert_eq!(current, written);
            return Ok(());
        };
        let ops = serde_json::to_value(&patch).unwrap();
        // The first op guards the whole route as it was seen.
        prop_assert_eq!(&ops[0], &json!({"op": "test", "path": format!("/spec/http/{index}"), "value": object["spec"]["http"][index]}));
        let mut after = object.clone();
        json_patch::patch(&mut after, &patch).unwrap();
        let weights: Vec<u64> = after["spec"]["http"][index]["route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["weight"].as_u64().unwrap())
            .collect();
        prop_assert_eq!(weights.iter().sum::<u64>(), 100);
        prop_assert_eq!(weights, new.iter().map(|&w| u64::from(w)).collect::<Vec<_>>());
        // The routes before it, and everything else, are untouched.
        for i in 0..index {
            prop_assert_eq!(&after["spec"]["http"][i], &object["spec"]["http"][i]);
        }
        prop_assert_eq!(&after["metadata"], &object["metadata"]);

        // The same patch on a route someone changed since fails its test op: nothing is written.
        let mut moved = virtual_service(index, &current);
        moved["spec"]["http"][index]["route"][0]["weight"] = json!(current[0].unwrap_or(0) + 1);
        let before = moved.clone();
        prop_assert!(json_patch::patch(&mut moved, &patch).is_err());
        prop_assert_eq!(moved, before);
    }

    #[test]
    fn a_split_against_a_stale_view_is_a_change_not_a_patch(
        (index, current, new) in route_and_split(),
        which in any::<prop::sample::Index>(),
        delta in 1u32..=100,
    ) {
        let mut stale = seen(&current);
        let i = which.index(stale.len());
        stale[i].weight = (stale[i].weight + delta) % 101;
        prop_assume!(stale != seen(&current));
        let result = plan(&virtual_service(index, &current), index, &request(&new, stale), None, None);
        prop_assert!(matches!(result, Err(PlanError::Changed(_))), "{:?}", result);
    }

    #[test]
    fn invalid_weights_are_errors_never_panics(
        (index, current, _) in route_and_split(),
        weights in prop::collection::btree_map("s[0-6]|[a-z]{1,3}", any::<u32>(), 0..6),
        at in 0usize..6,
    ) {
        let sum: u64 = weights.values().map(|&w| u64::from(w)).sum();
        let keys_fit = weights.len() == current.len()
            && (0..current.len()).all(|i| weights.contains_key(&format!("s{i}")));
        let valid = keys_fit && sum == 100 && weights.values().all(|&w| w <= 100);
        let request = SetWeightsRequest { weights, expected: seen(&current) };
        let result = plan(&virtual_service(index, &current), at, &request, None, None);
        if at != index {
            // No route there, or a single-destination one: refused either way.
            prop_assert!(result.is_err(), "{:?}", result);
        } else {
            prop_assert_eq!(result.is_ok(), valid, "{:?}", result);
        }
    }

    #[test]
    fn the_planner_never_panics_on_any_object(
        object in any_json(),
        index in 0usize..4,
        weights in prop::collection::btree_map("[a-z]{1,3}", 0u32..=100, 0..3),
        expected in prop::collection::vec(("[a-z]{1,3}", prop::option::of("[a-z]{1,3}"), 0u32..=100), 0..3),
    ) {
        let expected = expected
            .into_iter()
            .map(|(host, subset, weight)| ExpectedDestination { host, subset, weight })
            .collect();
        let _ = plan(&object, index, &SetWeightsRequest { weights, expected }, None, None);
    }

    #[test]
    fn the_promql_parser_never_panics_on_any_json_or_bytes(
        value in any_json(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let _ = instant_vector(serde_json::to_string(&value).unwrap().as_bytes());
        let wrapped = json!({"status": "success", "data": {"resultType": "vector", "result": value}});
        let _ = instant_vector(wrapped.to_string().as_bytes());
        let _ = instant_vector(&bytes);
    }

    #[test]
    fn well_formed_vectors_read_back_exactly(
        series in prop::collection::vec(
            (
                prop::collection::btree_map("[a-z_]{1,12}", "\\PC{0,12}", 0..4),
                prop_oneof![
                    any::<f64>().prop_filter("finite", |f| f.is_finite()),
                    Just(f64::INFINITY),
                    Just(f64::NEG_INFINITY),
                    Just(f64::NAN),
                ],
                any::<u32>(),
            ),
            0..6,
        ),
    ) {
        let result: Vec<Value> = series
            .iter()
            .map(|(labels, value, time)| {
                // As Prometheus writes them (Go's strconv): NaN, +Inf, -Inf or a number.
                let text = if value.is_nan() {
                    "NaN".to_owned()
                } else if *value == f64::INFINITY {
                    "+Inf".to_owned()
                } else if *value == f64::NEG_INFINITY {
                    "-Inf".to_owned()
                } else {
                    format!("{value:e}")
                };
                json!({"metric": labels, "value": [f64::from(*time) + 0.5, text]})
            })
            .collect();
        let body = json!({"status": "success", "data": {"resultType": "vector", "result": result}});
        let samples = instant_vector(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(samples.len(), series.len());
        for (sample, (labels, value, _)) in samples.iter().zip(&series) {
            prop_assert_eq!(&sample.labels, labels);
            prop_assert!(
                sample.value.to_bits() == value.to_bits() || (value.is_nan() && sample.value.is_nan()),
                "{} != {}", sample.value, value
            );
        }
    }

    #[test]
    fn error_bodies_read_back_as_query_errors(kind in "[a-z_]{1,12}", message in "\\PC{0,40}") {
        let body = json!({"status": "error", "errorType": kind, "error": message});
        prop_assert_eq!(
            instant_vector(body.to_string().as_bytes()).unwrap_err(),
            ParseError::Query { error_type: kind, message }
        );
    }
}

#[test]
fn the_generated_splits_add_up_to_100() {
    let mut runner = proptest::test_runner::TestRunner::default();
    for n in 2..=5 {
        for _ in 0..50 {
            let s = split(n).new_tree(&mut runner).unwrap().current();
            assert_eq!((s.len(), s.iter().sum::<u32>()), (n, 100), "{s:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn blanks_and_empty_objects_are_no_parameters(
        left in "[ \t\r\n]{0,3}", inner in "[ \t\r\n]{0,3}", right in "[ \t\r\n]{0,3}", object in any::<bool>(),
    ) {
        let body = if object { format!("{left}{{{inner}}}{right}") } else { format!("{left}{right}") };
        prop_assert!(no_parameters(body.as_bytes(), "a rollback").is_ok(), "{:?}", body);
    }

    #[test]
    fn any_field_is_refused_by_name(
        fields in prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", any::<i32>(), 1..4),
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        let error = no_parameters(&body, "a rollback").unwrap_err();
        let failure = Failure::from(error);
        prop_assert_eq!(failure.status.as_u16(), 422);
        for name in fields.keys() {
            let quoted = format!("`{name}`");
            prop_assert!(failure.message.contains(&quoted), "{}", failure.message);
        }
    }

    #[test]
    fn any_other_body_is_refused_never_a_panic(body in prop::collection::vec(any::<u8>(), 1..48)) {
        let blank = body.iter().all(u8::is_ascii_whitespace);
        let empty_object = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
            .is_ok_and(|m| m.is_empty());
        match no_parameters(&body, "signing out") {
            Ok(()) => prop_assert!(blank || empty_object, "{:?}", String::from_utf8_lossy(&body)),
            Err(Error::Invalid(message)) => prop_assert!(message.starts_with("signing out takes no parameters")),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}
