//! The console's weight policy, the one both sides apply: every weight it writes is a whole
//! number 0..=100 and a route's weights add up to 100 (Istio's own rule for several
//! destinations, `docs/shared-rules.md`). Also the one-click presets the page offers. The server
//! refuses a request that breaks the policy with 422 and the error's sentence; the page checks
//! the same before it sends, and says the same sentence.

use std::collections::BTreeMap;

/// What every route's weights add up to, and the largest single weight.
pub const TOTAL: u32 = 100;

/// The splits offered as one-click presets for a two-way route and for the bulk shift, as
/// (first, second) — (old, new) in the bulk shift, route order on a card.
pub const PRESETS: [(u32, u32); 4] = [(100, 0), (80, 20), (50, 50), (0, 100)];

/// How a set of weights breaks the policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    /// One weight is above [`TOTAL`].
    #[error("weight {weight} for {key} is out of range: weights are 0 to {TOTAL}")]
    OutOfRange { key: String, weight: u32 },
    /// The weights do not add up to [`TOTAL`].
    #[error("weights must add up to {TOTAL}, these add up to {sum}")]
    WrongSum { sum: u64 },
    /// A weight names a destination the route does not have.
    #[error("the route has no destination {key}; its destinations are {}", known.join(", "))]
    UnknownDestination { key: String, known: Vec<String> },
    /// A destination of the route has no weight.
    #[error("a weight for {key} is missing")]
    Missing { key: String },
    /// What was typed for a weight is not a whole number (a fraction, an exponent, a sign,
    /// letters, or nothing).
    #[error(
        "{key}: {} is not a weight: weights are whole numbers 0 to {TOTAL}",
        quoted(text)
    )]
    NotAWeight { key: String, text: String },
}

fn quoted(text: &str) -> String {
    if text.is_empty() {
        "an empty field".to_owned()
    } else {
        format!("\"{text}\"")
    }
}

/// What a person typed for the weight of `key`, strictly: ASCII digits only (surrounding blanks
/// allowed), 0 to [`TOTAL`]. Anything else is refused with the rule, never rounded, clamped or
/// read as something close: "150" is out of range, "12.5", "2e1", "-5" and "" are not weights.
pub fn parse_weight(key: &str, text: &str) -> Result<u32, WeightError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WeightError::NotAWeight {
            key: key.to_owned(),
            text: trimmed.to_owned(),
        });
    }
    // Digits only: the parse fails only on overflow, which is out of range too.
    let weight = trimmed.parse::<u32>().unwrap_or(u32::MAX);
    if weight > TOTAL {
        return Err(WeightError::OutOfRange {
            key: key.to_owned(),
            weight,
        });
    }
    Ok(weight)
}

/// Each weight 0..=[`TOTAL`] and all adding up to [`TOTAL`], whatever the route.
pub fn validate_values(weights: &BTreeMap<String, u32>) -> Result<(), WeightError> {
    if let Some((key, &weight)) = weights.iter().find(|(_, &w)| w > TOTAL) {
        return Err(WeightError::OutOfRange {
            key: key.clone(),
            weight,
        });
    }
    let sum: u64 = weights.values().map(|&w| u64::from(w)).sum();
    if sum != u64::from(TOTAL) {
        return Err(WeightError::WrongSum { sum });
    }
    Ok(())
}

/// The policy for one route: exactly one weight per destination key of the route (`keys`, in
/// route order), none for anything else, and [`validate_values`].
pub fn validate_for_route(
    keys: &[&str],
    weights: &BTreeMap<String, u32>,
) -> Result<(), WeightError> {
    if let Some(key) = weights.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(WeightError::UnknownDestination {
            key: key.clone(),
            known: keys.iter().map(|&k| k.to_owned()).collect(),
        });
    }
    if let Some(key) = keys.iter().find(|&&k| !weights.contains_key(k)) {
        return Err(WeightError::Missing {
            key: (*key).to_owned(),
        });
    }
    validate_values(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|&(k, w)| (k.to_owned(), w)).collect()
    }

    #[test]
    fn whole_numbers_up_to_100_adding_up_to_100() {
        assert_eq!(
            validate_values(&weights(&[("old", 80), ("new", 20)])),
            Ok(())
        );
        assert_eq!(validate_values(&weights(&[("old", 100)])), Ok(()));
        assert_eq!(
            validate_values(&weights(&[("old", 80), ("new", 30)])),
            Err(WeightError::WrongSum { sum: 110 })
        );
        assert_eq!(
            validate_values(&weights(&[])),
            Err(WeightError::WrongSum { sum: 0 })
        );
        assert_eq!(
            validate_values(&weights(&[("old", 120), ("new", 0)])),
            Err(WeightError::OutOfRange {
                key: "old".into(),
                weight: 120
            })
        );
        // Sums that would overflow a u32 are still counted right.
        assert_eq!(
            validate_values(&weights(&[("a", u32::MAX), ("b", u32::MAX)])),
            Err(WeightError::OutOfRange {
                key: "a".into(),
                weight: u32::MAX
            })
        );
    }

    #[test]
    fn a_route_needs_one_weight_per_destination() {
        let keys = ["old", "new"];
        assert_eq!(
            validate_for_route(&keys, &weights(&[("old", 50), ("new", 50)])),
            Ok(())
        );
        assert_eq!(
            validate_for_route(&keys, &weights(&[("old", 50), ("new", 50), ("canary", 0)])),
            Err(WeightError::UnknownDestination {
                key: "canary".into(),
                known: vec!["old".into(), "new".into()]
            })
        );
        assert_eq!(
            validate_for_route(&keys, &weights(&[("old", 100)])),
            Err(WeightError::Missing { key: "new".into() })
        );
        assert_eq!(
            validate_for_route(&keys, &weights(&[("old", 70), ("new", 20)])),
            Err(WeightError::WrongSum { sum: 90 })
        );
    }

    #[test]
    fn errors_read_as_sentences() {
        let cases = [
            (
                WeightError::WrongSum { sum: 110 },
                "weights must add up to 100, these add up to 110",
            ),
            (
                WeightError::OutOfRange {
                    key: "old".into(),
                    weight: 120,
                },
                "weight 120 for old is out of range: weights are 0 to 100",
            ),
            (
                WeightError::UnknownDestination {
                    key: "canary".into(),
                    known: vec!["old".into(), "new".into()],
                },
                "the route has no destination canary; its destinations are old, new",
            ),
            (
                WeightError::Missing { key: "new".into() },
                "a weight for new is missing",
            ),
        ];
        for (error, sentence) in cases {
            assert_eq!(error.to_string(), sentence);
        }
    }

    #[test]
    fn every_preset_keeps_the_policy() {
        for (first, second) in PRESETS {
            assert_eq!(
                validate_values(&weights(&[("a", first), ("b", second)])),
                Ok(()),
                "{first}/{second}"
            );
        }
        assert_eq!(PRESETS.first(), Some(&(TOTAL, 0)));
        assert_eq!(PRESETS.last(), Some(&(0, TOTAL)));
    }

    #[test]
    fn typed_weights_are_whole_numbers_0_to_100_and_nothing_else() {
        for (text, weight) in [("0", 0), ("20", 20), (" 7 ", 7), ("100", 100), ("080", 80)] {
            assert_eq!(parse_weight("new", text), Ok(weight), "{text:?}");
        }
        assert_eq!(
            parse_weight("new", "150").unwrap_err().to_string(),
            "weight 150 for new is out of range: weights are 0 to 100"
        );
        assert!(matches!(
            parse_weight("new", "99999999999999999999"),
            Err(WeightError::OutOfRange { .. })
        ));
        for text in ["12.5", "2e1", "-5", "+5", "abc", "", " ", "1 0", "٣"] {
            assert!(
                matches!(
                    parse_weight("new", text),
                    Err(WeightError::NotAWeight { .. })
                ),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_weight("new", "12.5").unwrap_err().to_string(),
            "new: \"12.5\" is not a weight: weights are whole numbers 0 to 100"
        );
        assert_eq!(
            parse_weight("old", "").unwrap_err().to_string(),
            "old: an empty field is not a weight: weights are whole numbers 0 to 100"
        );
    }
}
