//! Builds the PromQL the console runs (pure). One reporter per series set, never two for one
//! request (see `docs/metrics.md`, "One reporter per series set"): the destination reporter (and
//! in ambient mode the waypoint) for traffic that reached a workload, the source reporter (and
//! the waypoint) only for requests that never did. Several reporters of one query are joined with
//! PromQL's `or`, which keeps a later reporter's series only where no earlier one has the same
//! labels.

use std::time::Duration;

use super::reporters::{Reporter, Reporters};

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

/// The matchers of a reached-traffic series set of `reporter`: a waypoint also reports requests
/// that reached no workload, which the unreached query reads, so they are left out here.
fn reached_matchers(reporter: Reporter) -> String {
    match reporter {
        Reporter::Destination => "reporter=\"destination\"".to_owned(),
        Reporter::Waypoint => "reporter=\"waypoint\",destination_workload!=\"unknown\"".to_owned(),
    }
}

/// One query per reporter's series set, joined with `or` (first reporter first).
fn either(parts: impl IntoIterator<Item = String>) -> String {
    parts.into_iter().collect::<Vec<_>>().join(" or ")
}

/// Request rate of traffic that reached a workload, as its server sidecar (or the waypoint that
/// routed it) saw it.
pub fn requests_reached(namespaces: &[String], range: &str, reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.reached().iter().map(|&r| {
        format!(
            "sum(rate(istio_requests_total{{{},{ns}}}[{range}])) by ({REQUEST_LABELS})",
            reached_matchers(r)
        )
    }))
}

/// Request rate of requests that never reached a workload (no healthy upstream, fault aborts), as
/// the client sidecar (or the waypoint) saw them; disjoint from `requests_reached`.
pub fn requests_unreached(namespaces: &[String], range: &str, reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.unreached().into_iter().map(|r| {
        format!(
            "sum(rate(istio_requests_total{{reporter=\"{r}\",destination_workload=\"unknown\",{ns}}}[{range}])) by ({REQUEST_LABELS})"
        )
    }))
}

/// 95th percentile latency per caller and service (the edges into a service node).
pub fn p95_by_caller(namespaces: &[String], range: &str, reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.reached().iter().map(|&r| {
        format!(
            "histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{{{},{ns}}}[{range}])) by (le,source_workload,source_workload_namespace,destination_service_name,destination_service_namespace))",
            reached_matchers(r)
        )
    }))
}

/// 95th percentile latency per service and workload (the edges out of a service node).
pub fn p95_by_workload(namespaces: &[String], range: &str, reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.reached().iter().map(|&r| {
        format!(
            "histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{{{},{ns}}}[{range}])) by (le,destination_service_name,destination_service_namespace,destination_workload,destination_workload_namespace))",
            reached_matchers(r)
        )
    }))
}

/// The labels the gate counters group by: a service's version, and the response code.
pub const COUNTER_LABELS: &str =
    "destination_service_namespace,destination_service_name,destination_version,response_code";

/// Cumulative requests per service version and response code that reached a workload (the
/// reporters of `requests_reached`, joined the same way), for the release plans' gates: no
/// `rate()`, so one snapshot per refresh serves every plan's window (differences of two
/// snapshots are the traffic between them).
pub fn counters_reached(namespaces: &[String], reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.reached().iter().map(|&r| {
        format!(
            "sum(istio_requests_total{{{},{ns}}}) by ({COUNTER_LABELS})",
            reached_matchers(r)
        )
    }))
}

/// Cumulative requests that never reached a workload (the reporters of `requests_unreached`),
/// disjoint from `counters_reached`; they count for a version only where the proxy knew it.
pub fn counters_unreached(namespaces: &[String], reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.unreached().into_iter().map(|r| {
        format!(
            "sum(istio_requests_total{{reporter=\"{r}\",destination_workload=\"unknown\",{ns}}}) by ({COUNTER_LABELS})"
        )
    }))
}

/// Cumulative latency histogram buckets per service version (the reached reporters), for p99.
pub fn duration_buckets(namespaces: &[String], reporters: &Reporters) -> String {
    let ns = namespace_matcher("destination_service_namespace", namespaces);
    either(reporters.reached().iter().map(|&r| {
        format!(
            "sum(istio_request_duration_milliseconds_bucket{{{},{ns}}}) by (le,destination_service_namespace,destination_service_name,destination_version)",
            reached_matchers(r)
        )
    }))
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
        // Sidecars only: exactly the query the console ran before waypoints.
        assert_eq!(
            requests_reached(&["hands-on".into()], "30s", &Reporters::destination_only()),
            format!("sum(rate(istio_requests_total{{reporter=\"destination\",destination_service_namespace=\"hands-on\"}}[30s])) by ({REQUEST_LABELS})")
        );
    }

    #[test]
    fn several_namespaces_are_an_escaped_regex() {
        let q = requests_unreached(
            &["a.b".into(), "c".into()],
            "1m",
            &Reporters::destination_only(),
        );
        assert!(q.contains(r#"reporter="source",destination_workload="unknown",destination_service_namespace=~"a\\.b|c""#), "{q}");
    }

    #[test]
    fn quantiles_keep_le() {
        let q = p95_by_workload(&["ns".into()], "30s", &Reporters::default());
        assert!(q.starts_with("histogram_quantile(0.95, sum(rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\""));
        assert!(q.contains("by (le,destination_service_name"));
    }

    #[test]
    fn waypoints_are_read_where_no_sidecar_reported_the_same_series() {
        let ns = ["hands-on-gateway".to_owned()];
        let reached = requests_reached(&ns, "30s", &Reporters::default());
        let parts: Vec<&str> = reached.split(" or ").collect();
        assert_eq!(parts.len(), 2, "{reached}");
        assert!(parts[0].starts_with("sum(rate(istio_requests_total{reporter=\"destination\","));
        assert!(
            parts[1].starts_with("sum(rate(istio_requests_total{reporter=\"waypoint\",destination_workload!=\"unknown\",destination_service_namespace=\"hands-on-gateway\"}"),
            "{reached}"
        );
        // Both sides group by the same labels, so `or` drops the waypoint's series that a
        // sidecar also reported.
        assert!(parts
            .iter()
            .all(|p| p.ends_with(&format!("by ({REQUEST_LABELS})"))));
        let unreached = requests_unreached(&ns, "30s", &Reporters::default());
        assert!(unreached.contains("reporter=\"source\",destination_workload=\"unknown\""));
        assert!(unreached.contains(" or sum(rate(istio_requests_total{reporter=\"waypoint\",destination_workload=\"unknown\""));
        // Ambient only: the waypoint alone for reached traffic.
        let ambient = Reporters::parse("waypoint").unwrap();
        let q = p95_by_caller(&ns, "30s", &ambient);
        assert!(!q.contains(" or "), "{q}");
        assert!(q.contains("{reporter=\"waypoint\",destination_workload!=\"unknown\","));
        // Reached and unreached never overlap: destination_workload is known in one, unknown
        // in the other, whatever the reporter.
        assert!(!requests_reached(&ns, "30s", &Reporters::default())
            .contains("destination_workload=\"unknown\""));
    }

    #[test]
    fn gate_counters_are_cumulative_with_the_graphs_reporters() {
        let ns = ["hands-on".to_owned()];
        let destination = Reporters::parse("destination").unwrap();
        assert_eq!(
            counters_reached(&ns, &destination),
            format!("sum(istio_requests_total{{reporter=\"destination\",destination_service_namespace=\"hands-on\"}}) by ({COUNTER_LABELS})")
        );
        assert!(counters_unreached(&ns, &destination)
            .contains(r#"reporter="source",destination_workload="unknown""#));
        let buckets = duration_buckets(&ns, &destination);
        assert!(!buckets.contains("rate("), "{buckets}");
        assert!(buckets.contains("by (le,"), "{buckets}");
        // Ambient: the waypoint's series where no sidecar reported the same ones, as the graph.
        let both = Reporters::default();
        let reached = counters_reached(&ns, &both);
        assert_eq!(reached.split(" or ").count(), 2, "{reached}");
        assert!(reached.contains(r#"reporter="waypoint",destination_workload!="unknown""#));
        assert!(counters_unreached(&ns, &both).contains(
            r#" or sum(istio_requests_total{reporter="waypoint",destination_workload="unknown""#
        ));
        assert_eq!(duration_buckets(&ns, &both).split(" or ").count(), 2);
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
