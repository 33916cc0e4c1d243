//! The simulator's workload annotations (calls, latency, error rate, error code) and the
//! duration, latency and rate formats they use.

use super::{Behaviour, DEFAULT_ERROR_CODE, DEFAULT_P50_MS, DEFAULT_P95_MS};
use std::collections::BTreeMap;

/// Services a workload calls for every request it serves: comma-separated service names, short
/// (`review`, same namespace), `name.namespace`, or a full `*.svc.cluster.local` host.
pub const ANNOTATION_CALLS: &str = "sim.switchyard.dev/calls";
/// A workload's own latency: `p50=20ms,p95=60ms`, or a single duration taken as the median (p95
/// is then twice it). Durations take `us`, `ms` (the default unit) or `s`.
pub const ANNOTATION_LATENCY: &str = "sim.switchyard.dev/latency";
/// Share of requests the workload answers with an error: `0.05` or `5%`.
pub const ANNOTATION_ERROR_RATE: &str = "sim.switchyard.dev/error-rate";
/// The status of those errors; default 500.
pub const ANNOTATION_ERROR_CODE: &str = "sim.switchyard.dev/error-code";

pub(super) fn parse_behaviour(
    annotations: &BTreeMap<&str, &str>,
    context: &str,
    warnings: &mut Vec<String>,
) -> Behaviour {
    let (mut p50, mut p95) = (DEFAULT_P50_MS, DEFAULT_P95_MS);
    if let Some(latency) = annotations.get(ANNOTATION_LATENCY) {
        match parse_latency(latency) {
            Some((a, b)) => (p50, p95) = (a, b),
            None => warnings.push(format!(
                "{context}: annotation {ANNOTATION_LATENCY}={latency:?} is not like \"p50=20ms,p95=60ms\"; using p50={DEFAULT_P50_MS}ms,p95={DEFAULT_P95_MS}ms"
            )),
        }
    }
    let mut error_rate = 0.0;
    if let Some(rate) = annotations.get(ANNOTATION_ERROR_RATE) {
        match parse_rate(rate) {
            Some(r) => error_rate = r,
            None => warnings.push(format!(
                "{context}: annotation {ANNOTATION_ERROR_RATE}={rate:?} is not a share like 0.05 or 5%; using 0"
            )),
        }
    }
    let mut error_code = DEFAULT_ERROR_CODE;
    if let Some(code) = annotations.get(ANNOTATION_ERROR_CODE) {
        match code.trim().parse::<u16>() {
            Ok(c) if (200..=599).contains(&c) => error_code = c,
            _ => warnings.push(format!(
                "{context}: annotation {ANNOTATION_ERROR_CODE}={code:?} is not an HTTP status 200-599; using {DEFAULT_ERROR_CODE}"
            )),
        }
    }
    Behaviour::from_percentiles(p50, p95, error_rate, error_code)
}

/// `p50=20ms,p95=60ms` (either order), `p50=20ms`, or `20ms`; a missing p95 is twice the median.
/// Returns milliseconds; p95 below p50 is refused.
pub(crate) fn parse_latency(text: &str) -> Option<(f64, f64)> {
    let (mut p50, mut p95) = (None, None);
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) if k.trim() == "p50" => p50 = Some(parse_duration_us(v, "ms")?),
            Some((k, v)) if k.trim() == "p95" => p95 = Some(parse_duration_us(v, "ms")?),
            Some(_) => return None,
            None if p50.is_none() => p50 = Some(parse_duration_us(part, "ms")?),
            None => return None,
        }
    }
    let p50 = p50? as f64 / 1000.0;
    let p95 = p95.map_or(p50 * 2.0, |us| us as f64 / 1000.0);
    (p50 > 0.0 && p95 >= p50).then_some((p50, p95))
}

/// A duration like `5s`, `100ms`, `250us`, `1.5s`, `1m`; a bare number takes `default_unit`
/// (none: refused). Returns microseconds.
pub(crate) fn parse_duration_us(text: &str, default_unit: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let unit = if unit.is_empty() { default_unit } else { unit };
    let scale = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        "m" => 60_000_000.0,
        "h" => 3_600_000_000.0,
        _ => return None,
    };
    let us = value * scale;
    (us.is_finite() && us >= 0.0).then_some(us.round() as u64)
}

/// `0.05` or `5%`, within 0..=1.
pub(crate) fn parse_rate(text: &str) -> Option<f64> {
    let text = text.trim();
    let rate = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    (0.0..=1.0).contains(&rate).then_some(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_annotation_forms() {
        let cases: [(&str, Option<(f64, f64)>); 7] = [
            ("p50=20ms,p95=60ms", Some((20.0, 60.0))),
            ("p95=1s, p50=250ms", Some((250.0, 1000.0))),
            ("30", Some((30.0, 60.0))),
            ("p50=500us", Some((0.5, 1.0))),
            ("p50=60ms,p95=20ms", None),
            ("fast", None),
            ("p99=1s", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_latency(text), want, "{text}");
        }
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration_us("5s", ""), Some(5_000_000));
        assert_eq!(parse_duration_us("1.5ms", ""), Some(1_500));
        assert_eq!(parse_duration_us("7", ""), None);
        assert_eq!(parse_duration_us("7", "ms"), Some(7_000));
        assert_eq!(parse_rate("0.05"), Some(0.05));
        assert_eq!(parse_rate("5%"), Some(0.05));
        assert_eq!(parse_rate("1.5"), None);
        assert_eq!(parse_rate("-1%"), None);
    }
}
