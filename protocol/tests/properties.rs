//! Property tests of the request decoders both sides share: the strict weight parser
//! (`weights::parse_weight`), the weight policy (`weights::validate_values`) and the strict JSON
//! bodies (`SetWeightsRequest`, `ShiftRequest`: unknown fields and repeated keys refused), on
//! generated input rather than a few hand-picked cases.

use proptest::prelude::*;
use std::collections::BTreeMap;
use switchyard_protocol::weights::{parse_weight, validate_values, WeightError, TOTAL};
use switchyard_protocol::{ExpectedDestination, SetWeightsRequest, ShiftRequest, ShiftTarget};

/// What `parse_weight` must answer for `text`, said independently of how it is written.
fn expected_weight(text: &str) -> Option<u32> {
    let t = text.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = t.trim_start_matches('0');
    if digits.len() > 3 {
        return None;
    }
    let n: u32 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    (n <= TOTAL).then_some(n)
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}"
}

fn expected() -> impl Strategy<Value = Vec<ExpectedDestination>> {
    prop::collection::vec(
        (key(), prop::option::of(key()), 0u32..=100).prop_map(|(host, subset, weight)| {
            ExpectedDestination {
                host,
                subset,
                weight,
            }
        }),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_weight_takes_exactly_the_whole_numbers_0_to_100(text in "\\PC{0,6}|[ 0-9+.e-]{0,6}|[ \t]?[0-9]{1,4}[ \t]?") {
        match (parse_weight("new", &text), expected_weight(&text)) {
            (Ok(w), Some(e)) => prop_assert_eq!(w, e),
            (Err(WeightError::NotAWeight { key, .. }), None) => prop_assert_eq!(key, "new"),
            (Err(WeightError::OutOfRange { weight, .. }), None) => prop_assert!(weight > TOTAL),
            (got, want) => prop_assert!(false, "{text:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn every_weight_written_with_blanks_and_zeros_reads_back(
        n in 0u32..=100, zeros in 0usize..4, left in "[ \t]{0,2}", right in "[ \t]{0,2}",
    ) {
        let text = format!("{left}{}{n}{right}", "0".repeat(zeros));
        prop_assert_eq!(parse_weight("old", &text), Ok(n));
    }

    #[test]
    fn numbers_up_to_100_read_as_themselves_and_above_are_out_of_range(
        n in prop_oneof![95u64..=105, 0u64..=1000, any::<u64>()],
    ) {
        let got = parse_weight("old", &n.to_string());
        if n <= u64::from(TOTAL) {
            prop_assert_eq!(got, Ok(n as u32));
        } else {
            // Never clamped, never wrapped: the number as typed, or u32::MAX past it.
            let weight = u32::try_from(n).unwrap_or(u32::MAX);
            prop_assert_eq!(got, Err(WeightError::OutOfRange { key: "old".into(), weight }));
        }
    }

    #[test]
    fn the_policy_is_each_weight_at_most_100_and_all_adding_up_to_100(
        weights in prop::collection::btree_map(key(), prop_oneof![0u32..=100, any::<u32>()], 0..5),
    ) {
        let sum: u64 = weights.values().map(|&w| u64::from(w)).sum();
        let valid = weights.values().all(|&w| w <= TOTAL) && sum == u64::from(TOTAL);
        prop_assert_eq!(validate_values(&weights).is_ok(), valid, "{:?}", weights);
    }

    #[test]
    fn weight_bodies_read_back_and_refuse_repeated_keys(
        weights in prop::collection::btree_map(key(), any::<u32>(), 1..5),
        expected in expected(),
        pick in any::<prop::sample::Index>(),
        again in any::<u32>(),
    ) {
        let request = SetWeightsRequest { weights: weights.clone(), expected };
        let json = serde_json::to_string(&request).unwrap();
        prop_assert_eq!(serde_json::from_str::<SetWeightsRequest>(&json).unwrap(), request.clone());

        // The same body with one key of `weights` written twice: refused, whatever the values.
        let repeated = pick.get(&weights.keys().collect::<Vec<_>>()).to_string();
        let mut fields: Vec<String> = weights.iter().map(|(k, w)| format!("{k:?}:{w}")).collect();
        fields.push(format!("{repeated:?}:{again}"));
        let body = format!(
            r#"{{"weights":{{{}}},"expected":{}}}"#,
            fields.join(","),
            serde_json::to_string(&request.expected).unwrap()
        );
        let error = serde_json::from_str::<SetWeightsRequest>(&body).unwrap_err().to_string();
        prop_assert!(error.contains("duplicate"), "{}: {}", body, error);
    }

    #[test]
    fn unknown_fields_are_refused_by_name_at_every_level(
        field in "[a-z_]{1,10}",
        weights in prop::collection::btree_map(key(), 0u32..=100, 1..3),
        expected in expected(),
    ) {
        prop_assume!(!["weights", "expected", "host", "subset", "weight", "targets", "namespace", "name", "kind"].contains(&field.as_str()));
        let mut body = serde_json::to_value(SetWeightsRequest { weights: weights.clone(), expected }).unwrap();
        body[field.as_str()] = serde_json::json!(1);
        let error = serde_json::from_value::<SetWeightsRequest>(body).unwrap_err().to_string();
        prop_assert!(error.contains("unknown field") && error.contains(&field), "{}", error);

        let shift = ShiftRequest {
            targets: vec![ShiftTarget { namespace: "hands-on".into(), name: "review".into(), kind: Default::default(), expected: None }],
            weights,
        };
        let mut body = serde_json::to_value(&shift).unwrap();
        prop_assert_eq!(serde_json::from_value::<ShiftRequest>(body.clone()).unwrap(), shift);
        body["targets"][0][field.as_str()] = serde_json::json!("x");
        let error = serde_json::from_value::<ShiftRequest>(body).unwrap_err().to_string();
        prop_assert!(error.contains("unknown field") && error.contains(&field), "{}", error);
    }

    #[test]
    fn arbitrary_bodies_are_refused_or_read_never_a_panic(body in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = serde_json::from_slice::<SetWeightsRequest>(&body);
        let _ = serde_json::from_slice::<ShiftRequest>(&body);
    }
}

#[test]
fn the_independent_reading_agrees_on_the_edges() {
    let cases: BTreeMap<&str, Option<u32>> = BTreeMap::from([
        ("100", Some(100)),
        ("0100", Some(100)),
        ("101", None),
        ("", None),
        ("1e2", None),
    ]);
    for (text, want) in cases {
        assert_eq!(expected_weight(text), want, "{text:?}");
        assert_eq!(parse_weight("k", text).ok(), want, "{text:?}");
    }
}
