//! Builds the PromQL the console runs (pure). One reporter per query, never both (see
//! `docs/metrics.md`, "One reporter per series set"): the destination reporter for traffic that
//! reached a workload, the source reporter only for requests that never did.

use std::time::Duration;

/// Labels the request-rate queries group by: enough to place an edge source → service → workload
/// and to classify the response.
pub const REQUEST_LABELS: &str = "source_workload,source_workload_namespace,source_app,source_version,\
destination_service_name,destination_service_namespace,destination_workload,destination_workload_namespace,\
destination_app,destination_version,response_code,response_flags";

/// A PromQL range like `30s`, never shorter than two scrape intervals (rate() needs two samples).
pub fn range(window: Duration, scrape_interval: Duration) -> String {
    let secs = window.as_secs().max(2 * scrape_interval.as_secs()).max(1);
    format!("{secs}s")
}

/// Matcher on the destination service namespace for the namespaces in scope.
fn namespace_matcher(label: &str, namespaces: &[String]) -> String {
    if let [only] = namespaces {
        format!("{label}=\"{}\"", escape(only))
    } else {
        let alternatives: Vec<String> = namespaces
            .iter()
            .map(|n| escape(&regex::escape(n)))
            .collect();
        format!("{label}=~\"{}\"", alternatives.join("|"))
    }
}

/// Escapes a PromQL double-quoted string.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Request rate of traffic that reached a workload, as its server sidecar saw it.
pub fn requests_reached(namespaces: &[String], range: &str) -> String {
    format!(
        "sum(rate(istio_requests_total{{reporter=\"destination\",{}}}[{range}])) by ({REQUEST_LABELS})",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// Request rate of requests that never reached a workload (no healthy upstream, fault aborts), as
/// the client sidecar saw them; disjoint from `requests_reached`.
pub fn requests_unreached(namespaces: &[String], range: &str) -> String {
    format!(
        "sum(rate(istio_requests_total{{reporter=\"source\",destination_workload=\"unknown\",{}}}[{range}])) by ({REQUEST_LABELS})",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// 95th percentile latency per caller and service (the edges into a service node).
pub fn p95_by_caller(namespaces: &[String], range: &str) -> String {
    format!(
        "histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{{reporter=\"destination\",{}}}[{range}])) by (le,source_workload,source_workload_namespace,destination_service_name,destination_service_namespace))",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// 95th percentile latency per service and workload (the edges out of a service node).
pub fn p95_by_workload(namespaces: &[String], range: &str) -> String {
    format!(
        "histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{{reporter=\"destination\",{}}}[{range}])) by (le,destination_service_name,destination_service_namespace,destination_workload,destination_workload_namespace))",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// The labels the gate counters group by: a service's version, and the response code.
pub const COUNTER_LABELS: &str =
    "destination_service_namespace,destination_service_name,destination_version,response_code";

/// Cumulative requests per service version and response code that reached a workload (the
/// destination reporter), for the release plans' gates: no `rate()`, so one snapshot per refresh
/// serves every plan's window (differences of two snapshots are the traffic between them).
pub fn counters_reached(namespaces: &[String]) -> String {
    format!(
        "sum(istio_requests_total{{reporter=\"destination\",{}}}) by ({COUNTER_LABELS})",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// Cumulative requests that never reached a workload (the source reporter), disjoint from
/// `counters_reached`; they count for a version only where the proxy knew it.
pub fn counters_unreached(namespaces: &[String]) -> String {
    format!(
        "sum(istio_requests_total{{reporter=\"source\",destination_workload=\"unknown\",{}}}) by ({COUNTER_LABELS})",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

/// Cumulative latency histogram buckets per service version (destination reporter), for p99.
pub fn duration_buckets(namespaces: &[String]) -> String {
    format!(
        "sum(istio_request_duration_milliseconds_bucket{{reporter=\"destination\",{}}}) by (le,destination_service_namespace,destination_service_name,destination_version)",
        namespace_matcher("destination_service_namespace", namespaces)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_at_least_two_scrapes() {
        assert_eq!(
            range(Duration::from_secs(30), Duration::from_secs(5)),
            "30s"
        );
        assert_eq!(
            range(Duration::from_secs(10), Duration::from_secs(15)),
            "30s"
        );
        assert_eq!(
            range(Duration::from_secs(60), Duration::from_secs(15)),
            "60s"
        );
    }

    #[test]
    fn one_namespace_is_an_equality_match() {
        assert_eq!(
            requests_reached(&["hands-on".into()], "30s"),
            format!("sum(rate(istio_requests_total{{reporter=\"destination\",destination_service_namespace=\"hands-on\"}}[30s])) by ({REQUEST_LABELS})")
        );
    }

    #[test]
    fn several_namespaces_are_an_escaped_regex() {
        let q = requests_unreached(&["a.b".into(), "c".into()], "1m");
        assert!(q.contains(r#"reporter="source",destination_workload="unknown",destination_service_namespace=~"a\\.b|c""#), "{q}");
    }

    #[test]
    fn quantiles_keep_le() {
        let q = p95_by_workload(&["ns".into()], "30s");
        assert!(q.starts_with("histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\""));
        assert!(q.contains("by (le,destination_service_name"));
    }

    #[test]
    fn gate_counters_are_cumulative_and_one_reporter_each() {
        let ns = ["hands-on".to_owned()];
        assert_eq!(
            counters_reached(&ns),
            format!("sum(istio_requests_total{{reporter=\"destination\",destination_service_namespace=\"hands-on\"}}) by ({COUNTER_LABELS})")
        );
        assert!(
            counters_unreached(&ns).contains(r#"reporter="source",destination_workload="unknown""#)
        );
        let buckets = duration_buckets(&ns);
        assert!(!buckets.contains("rate("), "{buckets}");
        assert!(buckets.contains("by (le,"), "{buckets}");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
