//! The graph's measured numbers as they go on the wire: four significant digits. Rates,
//! shares, error shares, latencies and sample sizes come out of divisions with seventeen, which
//! made most of a 1,000-node graph's bytes and most of every `graph_delta`, and moved on every
//! refresh in digits nobody reads: the page shows at most two decimals, and four significant
//! digits keep a share to within 0.05 % of itself. Timestamps and requested shares (set by the
//! route's weights) are left as they are.

use switchyard_protocol::Graph;

/// Significant digits every measured number of a published graph keeps.
pub const SIGNIFICANT_DIGITS: i32 = 4;

/// `value` with [`SIGNIFICANT_DIGITS`] significant digits; zero and non-finite values as they
/// are. The rounding divides or multiplies by an exact power of ten, so the result is the
/// double nearest the rounded decimal and prints as it (`18.33`, not `18.330000000000002`).
pub fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let shift = SIGNIFICANT_DIGITS - 1 - magnitude;
    if shift >= 0 {
        let scale = 10f64.powi(shift);
        (value * scale).round() / scale
    } else {
        let step = 10f64.powi(-shift);
        (value / step).round() * step
    }
}

fn significant_opt(value: &mut Option<f64>) {
    if let Some(v) = value {
        *v = significant(*v);
    }
}

/// Rounds every measured number of `graph` to [`SIGNIFICANT_DIGITS`]: node and edge rates,
/// requests distribution, error shares, p95, and each split's rate, samples, tolerance,
/// observed shares and settling progress.
pub fn round(graph: &mut Graph) {
    for node in &mut graph.nodes {
        node.rate_in = significant(node.rate_in);
    }
    for edge in &mut graph.edges {
        edge.rate = significant(edge.rate);
        significant_opt(&mut edge.share);
        edge.error_share = significant(edge.error_share);
        significant_opt(&mut edge.p95_ms);
    }
    for split in &mut graph.splits {
        split.rate = significant(split.rate);
        split.samples = significant(split.samples);
        split.tolerance = significant(split.tolerance);
        for version in &mut split.versions {
            significant_opt(&mut version.observed);
        }
        if let Some(settling) = &mut split.settling {
            settling.progress = significant(settling.progress);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_significant_digits_print_as_written() {
        let cases = [
            (18.333_333_333_333_332, "18.33"),
            (0.049_999_999, "0.05"),
            (0.001_234_56, "0.001235"),
            (99.999_9, "100.0"),
            (12_345.6, "12350.0"),
            (1_234_567.0, "1235000.0"),
            (-4.567_89, "-4.568"),
            (100.0, "100.0"),
            (0.0, "0.0"),
        ];
        for (value, printed) in cases {
            let rounded = significant(value);
            assert_eq!(serde_json::to_string(&rounded).unwrap(), printed, "{value}");
            // Rounding again changes nothing: a stable number never shows up in a delta.
            assert_eq!(significant(rounded).to_bits(), rounded.to_bits(), "{value}");
        }
        assert!(significant(f64::INFINITY).is_infinite());
        assert!(significant(f64::NAN).is_nan());
    }

    #[test]
    fn every_measured_number_is_rounded_and_timestamps_are_not() {
        let mut graph: Graph =
            serde_json::from_str(include_str!("testdata/demo_graph.json")).unwrap();
        graph.generated_at = 1_765_000_000.123_456;
        // Numbers as divisions leave them (the fixture's are round).
        let noisy = |v: f64| v / 3.0 + 0.123_456_789;
        for n in &mut graph.nodes {
            n.rate_in = noisy(n.rate_in);
        }
        for e in &mut graph.edges {
            e.rate = noisy(e.rate);
            e.share = Some(noisy(e.share.unwrap_or(1.0)));
            e.error_share = noisy(e.error_share);
            e.p95_ms = Some(noisy(e.p95_ms.unwrap_or(1.0)));
        }
        for s in &mut graph.splits {
            s.rate = noisy(s.rate);
            s.samples = noisy(s.samples);
            s.tolerance = noisy(s.tolerance);
            for v in &mut s.versions {
                v.observed = Some(noisy(v.observed.unwrap_or(1.0)));
            }
        }
        let requested: Vec<f64> = graph
            .splits
            .iter()
            .flat_map(|s| s.versions.iter().map(|v| v.requested))
            .collect();
        round(&mut graph);
        let fine = |v: f64| significant(v).to_bits() == v.to_bits();
        assert!(graph.nodes.iter().all(|n| fine(n.rate_in)));
        assert!(graph.edges.iter().all(|e| fine(e.rate)
            && e.share.is_none_or(fine)
            && fine(e.error_share)
            && e.p95_ms.is_none_or(fine)));
        assert!(graph.splits.iter().all(|s| fine(s.rate)
            && fine(s.samples)
            && fine(s.tolerance)
            && s.versions.iter().all(|v| v.observed.is_none_or(fine))));
        assert_eq!(graph.generated_at, 1_765_000_000.123_456);
        let after: Vec<f64> = graph
            .splits
            .iter()
            .flat_map(|s| s.versions.iter().map(|v| v.requested))
            .collect();
        assert_eq!(requested, after);
        assert!(!graph.edges.is_empty() && !graph.splits.is_empty());
    }
}
