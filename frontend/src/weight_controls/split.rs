//! Pure weight arithmetic behind the linked sliders: when one destination's weight is set, the
//! others move so the route still sums to 100 (the weight policy of
//! `switchyard_protocol::weights`, which the server applies too). No DOM, no signals, so it is
//! unit-tested natively.

use switchyard_protocol::{backend_shares, requested_shares, weights::TOTAL, RouteKind};

/// A note for weights in the cluster that do not add up to 100 (a kubectl edit to 70/20, say):
/// they are shown as written, and Istio splits by their ratio, which this spells out:
/// "weights sum to 90; Istio sends 77.8 % / 22.2 %". `None` when they sum to 100 or there is
/// only one destination (it gets everything whatever its weight).
pub fn sum_note(weights: &[u32]) -> Option<String> {
    if weights.len() < 2 {
        return None;
    }
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if sum == u64::from(TOTAL) {
        return None;
    }
    if sum == 0 {
        return Some("weights sum to 0; no destination has a share to send traffic by".into());
    }
    let shares = requested_shares(weights)
        .iter()
        .map(|share| format!("{share:.1} %"))
        .collect::<Vec<_>>()
        .join(" / ");
    Some(format!("weights sum to {sum}; Istio sends {shares}"))
}

/// [`sum_note`] for a route object of `kind`. An HTTPRoute rule's weights are relative by design
/// (Gateway API: a missing weight is 1, the sum need not be 100), so the note says how they split
/// and that Apply writes whole numbers adding up to 100:
/// "weights sum to 4; Gateway API sends 25.0 % / 75.0 %; Apply writes whole numbers adding up to
/// 100".
pub fn sum_note_of(kind: RouteKind, weights: &[u32]) -> Option<String> {
    match kind {
        RouteKind::VirtualService => sum_note(weights),
        RouteKind::HTTPRoute => {
            if weights.len() < 2 {
                return None;
            }
            let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
            if sum == u64::from(TOTAL) {
                return None;
            }
            let sends = if sum == 0 {
                "no backend gets traffic".to_owned()
            } else {
                let shares = backend_shares(weights)
                    .iter()
                    .map(|share| format!("{share:.1} %"))
                    .collect::<Vec<_>>()
                    .join(" / ");
                format!("Gateway API sends {shares}")
            };
            Some(format!(
                "weights sum to {sum}; {sends}; Apply writes whole numbers adding up to {TOTAL}"
            ))
        }
    }
}

/// Sets destination `changed` to `value` (clamped to 0..=100) and spreads the rest of 100 over
/// the other destinations.
///
/// With two destinations the other simply gets `100 - value`. With more, the remainder is shared
/// in proportion to the others' current weights (equally when they are all zero), rounded with
/// the largest-remainder method so the result is whole numbers that sum to exactly 100; ties go
/// to the earlier destination, so the same input always gives the same output.
pub fn rebalance(weights: &[u32], changed: usize, value: u32) -> Vec<u32> {
    let value = value.min(TOTAL);
    if changed >= weights.len() {
        return weights.to_vec();
    }
    if weights.len() == 1 {
        // A lone destination takes all traffic whatever its weight; nothing to balance.
        return vec![value];
    }
    let others: Vec<usize> = (0..weights.len()).filter(|&i| i != changed).collect();
    let remainder = TOTAL - value;
    let other_sum: u64 = others.iter().map(|&i| u64::from(weights[i])).sum();
    // Proportional targets as (numerator, denominator) so rounding is exact integer arithmetic.
    let (numerators, denominator): (Vec<u64>, u64) = if other_sum == 0 {
        (
            others.iter().map(|_| u64::from(remainder)).collect(),
            others.len() as u64,
        )
    } else {
        (
            others
                .iter()
                .map(|&i| u64::from(remainder) * u64::from(weights[i]))
                .collect(),
            other_sum,
        )
    };
    let mut shares: Vec<u32> = numerators
        .iter()
        .map(|n| u32::try_from(n / denominator).unwrap_or(TOTAL))
        .collect();
    let assigned: u32 = shares.iter().sum();
    let mut leftover = remainder.saturating_sub(assigned);
    // Hand the units lost to flooring to the largest fractional parts first.
    let mut order: Vec<usize> = (0..others.len()).collect();
    order.sort_by(|&a, &b| {
        (numerators[b] % denominator)
            .cmp(&(numerators[a] % denominator))
            .then(a.cmp(&b))
    });
    for position in order {
        if leftover == 0 {
            break;
        }
        shares[position] += 1;
        leftover -= 1;
    }
    let mut result = weights.to_vec();
    result[changed] = value;
    for (slot, &i) in others.iter().enumerate() {
        result[i] = shares[slot];
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_destinations_mirror_each_other() {
        let cases: &[(&[u32], usize, u32, &[u32])] = &[
            (&[100, 0], 0, 80, &[80, 20]),
            (&[100, 0], 1, 20, &[80, 20]),
            (&[80, 20], 1, 50, &[50, 50]),
            (&[50, 50], 0, 0, &[0, 100]),
            (&[50, 50], 0, 100, &[100, 0]),
            (&[50, 50], 0, 250, &[100, 0]),
            // Server weights that did not sum to 100 are normalised by the first edit.
            (&[1, 3], 0, 30, &[30, 70]),
        ];
        for &(weights, changed, value, expected) in cases {
            assert_eq!(
                rebalance(weights, changed, value),
                expected,
                "rebalance({weights:?}, {changed}, {value})"
            );
        }
    }

    #[test]
    fn more_destinations_share_the_remainder_proportionally() {
        let cases: &[(&[u32], usize, u32, &[u32])] = &[
            (&[50, 30, 20], 0, 0, &[0, 60, 40]),
            (&[50, 30, 20], 0, 100, &[100, 0, 0]),
            (&[60, 20, 20], 0, 40, &[40, 30, 30]),
            // Others all zero: split equally, earlier destinations get the odd unit.
            (&[100, 0, 0], 0, 0, &[0, 50, 50]),
            (&[100, 0, 0, 0], 0, 0, &[0, 34, 33, 33]),
            // 70 * 1/3 = 23.33 each: one leftover unit goes to the earliest.
            (&[40, 20, 20, 20], 0, 30, &[30, 24, 23, 23]),
            // Largest fractional part wins the leftover: 90*10/60 = 15, 90*50/60 = 75.
            (&[40, 10, 50], 0, 10, &[10, 15, 75]),
            (&[10, 10, 80], 2, 50, &[25, 25, 50]),
        ];
        for &(weights, changed, value, expected) in cases {
            assert_eq!(
                rebalance(weights, changed, value),
                expected,
                "rebalance({weights:?}, {changed}, {value})"
            );
        }
    }

    #[test]
    fn result_always_sums_to_100() {
        let starts: &[&[u32]] = &[&[1, 1, 1], &[7, 0, 93], &[33, 33, 34], &[0, 0, 0, 0, 0]];
        for weights in starts {
            for changed in 0..weights.len() {
                for value in 0..=100 {
                    let result = rebalance(weights, changed, value);
                    assert_eq!(
                        result.iter().sum::<u32>(),
                        100,
                        "{weights:?} {changed} {value}"
                    );
                    assert_eq!(result[changed], value);
                }
            }
        }
    }

    #[test]
    fn weights_off_100_get_a_note_with_istios_shares() {
        assert_eq!(
            sum_note(&[70, 20]).as_deref(),
            Some("weights sum to 90; Istio sends 77.8 % / 22.2 %")
        );
        assert_eq!(
            sum_note(&[60, 60]).as_deref(),
            Some("weights sum to 120; Istio sends 50.0 % / 50.0 %")
        );
        assert!(sum_note(&[0, 0]).is_some_and(|n| n.starts_with("weights sum to 0")));
        assert_eq!(sum_note(&[80, 20]), None);
        assert_eq!(sum_note(&[40]), None);
    }

    #[test]
    fn http_route_weights_are_relative_and_the_note_says_what_apply_writes() {
        assert_eq!(
            sum_note_of(RouteKind::HTTPRoute, &[1, 3]).as_deref(),
            Some("weights sum to 4; Gateway API sends 25.0 % / 75.0 %; Apply writes whole numbers adding up to 100")
        );
        assert_eq!(sum_note_of(RouteKind::HTTPRoute, &[80, 20]), None);
        assert_eq!(sum_note_of(RouteKind::HTTPRoute, &[1]), None);
        assert_eq!(
            sum_note_of(RouteKind::HTTPRoute, &[0, 0]).as_deref(),
            Some("weights sum to 0; no backend gets traffic; Apply writes whole numbers adding up to 100")
        );
        assert_eq!(
            sum_note_of(RouteKind::VirtualService, &[70, 20]),
            sum_note(&[70, 20])
        );
    }

    #[test]
    fn edge_inputs_are_harmless() {
        assert_eq!(rebalance(&[100], 0, 40), vec![40]);
        assert_eq!(rebalance(&[80, 20], 5, 40), vec![80, 20]);
        assert_eq!(rebalance(&[], 0, 40), Vec::<u32>::new());
    }
}
