//! The only module that speaks to Prometheus (or, in the demo without one, reads samples from a
//! [`SampleSource`] the binary plugs in): turns Istio's standard metrics into typed samples.
//! `promql` builds queries, `parse` reads answers and `reporters` says which Istio reporters are
//! read (all pure); `source` does the I/O.

pub mod parse;
pub mod promql;
pub mod reporters;
pub mod source;

pub use reporters::{Reporter, Reporters};
pub use source::{PrometheusSource, SampleSource, Source};

use std::collections::BTreeMap;

/// A workload as Istio labels it; `unknown` fields when the proxy could not tell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub app: String,
    pub version: String,
}

impl Workload {
    pub fn is_unknown(&self) -> bool {
        self.name == "unknown" || self.name.is_empty()
    }
}

/// Requests per second between a source workload and a destination workload of a service, with
/// one response code and flag combination.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRate {
    pub source: Workload,
    pub service: String,
    pub service_namespace: String,
    /// `unknown` when the request never reached a workload.
    pub destination: Workload,
    pub response_code: String,
    pub response_flags: String,
    pub rate: f64,
}

impl RequestRate {
    /// 5xx and "no response" (code 0) count as errors; 4xx are the client's (`docs/metrics.md`,
    /// "What counts as an error").
    pub fn is_error(&self) -> bool {
        self.response_code.starts_with('5') || self.response_code == "0"
    }
}

/// 95th percentile latency of the requests a caller sent to a service (`workload` empty), or that
/// a service's workload served (`caller` empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Latency {
    pub caller: Option<(String, String)>,
    pub service: (String, String),
    pub workload: Option<(String, String)>,
    pub p95_ms: f64,
}

/// Everything one refresh reads.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Samples {
    pub requests: Vec<RequestRate>,
    pub latencies: Vec<Latency>,
}

/// A service version as the gate counters key it: (service namespace, service, version).
pub type VersionKey = (String, String, String);

/// What one version of a service has served since its proxies started, cumulative: requests,
/// failed requests (5xx or no response) and the latency histogram. The difference of two
/// snapshots is the traffic between them (`Counters::since`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VersionCount {
    pub requests: f64,
    pub errors: f64,
    /// `(upper bound in ms, cumulative count)`, ascending, ending with `+Inf` when known.
    pub buckets: Vec<(f64, f64)>,
}

impl VersionCount {
    /// Adds `other`'s requests, errors and buckets to these (buckets of the same bound add up;
    /// the histogram of two disjoint sets of requests is the sum of theirs).
    pub fn add(&mut self, other: &VersionCount) {
        self.requests += other.requests;
        self.errors += other.errors;
        for &(le, count) in &other.buckets {
            match self.buckets.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, c)) => *c += count,
                None => {
                    self.buckets.push((le, count));
                    self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
            }
        }
    }
}

/// One snapshot of the gate counters of every service version in scope (one query set per
/// refresh, whatever the number of plans: `docs/release-plans.md`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    pub versions: BTreeMap<VersionKey, VersionCount>,
}

impl Counters {
    /// Adds the requests of one (service version, response code) sample.
    pub fn add_requests(&mut self, key: VersionKey, response_code: &str, count: f64) {
        if !count.is_finite() || count < 0.0 {
            return;
        }
        let entry = self.versions.entry(key).or_default();
        entry.requests += count;
        if response_code.starts_with('5') || response_code == "0" {
            entry.errors += count;
        }
    }

    /// Adds one cumulative latency bucket of a service version.
    pub fn add_bucket(&mut self, key: VersionKey, le: f64, count: f64) {
        if !count.is_finite() || count < 0.0 || le.is_nan() {
            return;
        }
        let buckets = &mut self.versions.entry(key).or_default().buckets;
        match buckets.iter_mut().find(|(bound, _)| *bound == le) {
            Some((_, c)) => *c += count,
            None => {
                buckets.push((le, count));
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
    }

    /// The traffic of every version of Service `namespace/name` between `earlier` and this
    /// snapshot, added up (each version's as [`Counters::since`] reads it): an HTTPRoute backend
    /// Service stands for one version whatever its pods' labels say.
    pub fn since_service(&self, earlier: &Counters, namespace: &str, name: &str) -> VersionCount {
        let mut total = VersionCount::default();
        for key in self
            .versions
            .keys()
            .filter(|(ns, service, _)| ns == namespace && service == name)
        {
            total.add(&self.since(earlier, key));
        }
        total
    }

    /// The traffic of `key` between `earlier` and this snapshot. A counter that went down means
    /// its proxies restarted: the newer value alone is what was counted since (as Prometheus'
    /// `increase()` reads a reset).
    pub fn since(&self, earlier: &Counters, key: &VersionKey) -> VersionCount {
        let now = self.versions.get(key).cloned().unwrap_or_default();
        let Some(before) = earlier.versions.get(key) else {
            return now;
        };
        let increase = |after: f64, before: f64| {
            if after >= before {
                after - before
            } else {
                after
            }
        };
        if now.requests < before.requests {
            return now;
        }
        VersionCount {
            requests: increase(now.requests, before.requests),
            errors: increase(now.errors, before.errors).min(now.requests - before.requests),
            buckets: now
                .buckets
                .iter()
                .map(|&(le, c)| {
                    let was = before
                        .buckets
                        .iter()
                        .find(|(b, _)| *b == le)
                        .map_or(0.0, |(_, c)| *c);
                    (le, increase(c, was))
                })
                .collect(),
        }
    }
}

/// Prometheus' `histogram_quantile` over cumulative `(upper bound, count)` buckets ending with
/// `+Inf`: linear interpolation inside the bucket, the highest finite bound when the quantile
/// falls in `+Inf`, `None` without observations.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower_bound = 0.0;
    let mut lower_count = 0.0;
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower_bound);
            }
            let in_bucket = count - lower_count;
            if in_bucket <= 0.0 {
                return Some(le);
            }
            return Some(lower_bound + (le - lower_bound) * (rank - lower_count) / in_bucket);
        }
        lower_bound = le;
        lower_count = count;
    }
    Some(lower_bound)
}

/// The gate key of a counter sample: its service version.
fn version_key(labels: &BTreeMap<String, String>) -> VersionKey {
    (
        label(labels, "destination_service_namespace"),
        label(labels, "destination_service_name"),
        label(labels, "destination_version"),
    )
}

/// Reads the three gate queries' answers (`promql::counters_reached`, `counters_unreached`,
/// `duration_buckets`) into one snapshot.
pub fn counters(
    reached: &[parse::VectorSample],
    unreached: &[parse::VectorSample],
    buckets: &[parse::VectorSample],
) -> Counters {
    let mut counters = Counters::default();
    for s in reached.iter().chain(unreached) {
        counters.add_requests(
            version_key(&s.labels),
            &label(&s.labels, "response_code"),
            s.value,
        );
    }
    for s in buckets {
        let le = match s.labels.get("le").map(String::as_str) {
            Some("+Inf") | Some("Inf") => f64::INFINITY,
            Some(text) => match text.parse::<f64>() {
                Ok(v) => v,
                Err(_) => continue,
            },
            None => continue,
        };
        counters.add_bucket(version_key(&s.labels), le, s.value);
    }
    counters
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("prometheus at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("prometheus did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
}

fn label(labels: &BTreeMap<String, String>, name: &str) -> String {
    labels
        .get(name)
        .cloned()
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Reads one sample of a request-rate query (grouped by `promql::REQUEST_LABELS`).
pub fn request_rate(sample: &parse::VectorSample) -> Option<RequestRate> {
    let l = &sample.labels;
    if !sample.value.is_finite() || sample.value < 0.0 {
        return None;
    }
    Some(RequestRate {
        source: Workload {
            name: label(l, "source_workload"),
            namespace: label(l, "source_workload_namespace"),
            app: label(l, "source_app"),
            version: label(l, "source_version"),
        },
        service: label(l, "destination_service_name"),
        service_namespace: label(l, "destination_service_namespace"),
        destination: Workload {
            name: label(l, "destination_workload"),
            namespace: label(l, "destination_workload_namespace"),
            app: label(l, "destination_app"),
            version: label(l, "destination_version"),
        },
        response_code: label(l, "response_code"),
        response_flags: label(l, "response_flags"),
        rate: sample.value,
    })
}

/// Reads one sample of a latency quantile query; NaN (no requests in the window) is no sample.
pub fn latency(sample: &parse::VectorSample, by_caller: bool) -> Option<Latency> {
    let l = &sample.labels;
    if !sample.value.is_finite() {
        return None;
    }
    let service = (
        label(l, "destination_service_namespace"),
        label(l, "destination_service_name"),
    );
    Some(if by_caller {
        Latency {
            caller: Some((
                label(l, "source_workload_namespace"),
                label(l, "source_workload"),
            )),
            service,
            workload: None,
            p95_ms: sample.value,
        }
    } else {
        Latency {
            caller: None,
            service,
            workload: Some((
                label(l, "destination_workload_namespace"),
                label(l, "destination_workload"),
            )),
            p95_ms: sample.value,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pairs: &[(&str, &str)], value: f64) -> parse::VectorSample {
        parse::VectorSample {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    #[test]
    fn reads_request_rates_with_unknown_defaults() {
        let s = sample(
            &[
                ("destination_service_name", "review"),
                ("destination_workload", "review-v2"),
                ("response_code", "503"),
            ],
            2.5,
        );
        let r = request_rate(&s).unwrap();
        assert_eq!(r.service, "review");
        assert_eq!(r.destination.name, "review-v2");
        assert!(r.source.is_unknown());
        assert!(r.is_error());
        assert!(request_rate(&sample(&[], f64::NAN)).is_none());
    }

    #[test]
    fn classifies_errors_like_kiali() {
        let mut r = request_rate(&sample(&[("response_code", "404")], 1.0)).unwrap();
        assert!(!r.is_error());
        r.response_code = "0".into();
        assert!(r.is_error());
    }

    #[test]
    fn counters_add_up_per_version_and_differences_are_traffic() {
        let key = |v: &str| ("hands-on".to_owned(), "review".to_owned(), v.to_owned());
        let labels = |v: &str, code: &str| {
            vec![
                ("destination_service_namespace", "hands-on"),
                ("destination_service_name", "review"),
                ("destination_version", v),
                ("response_code", code),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<BTreeMap<_, _>>()
        };
        let at = |v: &str, code: &str, n: f64| parse::VectorSample {
            labels: labels(v, code),
            value: n,
        };
        let bucket = |le: &str, n: f64| {
            let mut l = labels("v2", "200");
            l.remove("response_code");
            l.insert("le".into(), le.into());
            parse::VectorSample {
                labels: l,
                value: n,
            }
        };
        let before = counters(
            &[at("v2", "200", 100.0), at("v2", "503", 1.0)],
            &[at("v2", "0", 1.0)],
            &[bucket("10", 90.0), bucket("+Inf", 102.0)],
        );
        let after = counters(
            &[
                at("v2", "200", 180.0),
                at("v2", "503", 11.0),
                at("v1", "200", 5.0),
            ],
            &[at("v2", "0", 3.0)],
            &[bucket("10", 150.0), bucket("+Inf", 194.0)],
        );
        let d = after.since(&before, &key("v2"));
        assert_eq!((d.requests, d.errors), (92.0, 12.0));
        assert_eq!(d.buckets, vec![(10.0, 60.0), (f64::INFINITY, 92.0)]);
        // A version the earlier snapshot did not have: all of it is new.
        assert_eq!(after.since(&before, &key("v1")).requests, 5.0);
        // A counter that went down restarted: the newer totals are the traffic since.
        let reset = counters(&[at("v2", "200", 4.0)], &[], &[]);
        assert_eq!(reset.since(&after, &key("v2")).requests, 4.0);
        assert_eq!(
            histogram_quantile(0.5, &d.buckets),
            Some(10.0 * 46.0 / 60.0)
        );
        // Every version of a Service, added up (an HTTPRoute backend Service's traffic).
        let all = after.since_service(&before, "hands-on", "review");
        assert_eq!((all.requests, all.errors), (97.0, 12.0));
        assert_eq!(all.buckets, d.buckets, "v1 has no buckets to add");
        assert_eq!(
            after.since_service(&before, "hands-on", "rating"),
            VersionCount::default()
        );
    }

    #[test]
    fn version_counts_add_up_bucket_by_bucket() {
        let mut a = VersionCount {
            requests: 10.0,
            errors: 1.0,
            buckets: vec![(10.0, 6.0), (f64::INFINITY, 10.0)],
        };
        a.add(&VersionCount {
            requests: 5.0,
            errors: 2.0,
            buckets: vec![(5.0, 1.0), (10.0, 4.0), (f64::INFINITY, 5.0)],
        });
        assert_eq!((a.requests, a.errors), (15.0, 3.0));
        assert_eq!(
            a.buckets,
            vec![(5.0, 1.0), (10.0, 10.0), (f64::INFINITY, 15.0)]
        );
    }

    #[test]
    fn quantile_interpolates_like_prometheus() {
        let b = [
            (10.0, 50.0),
            (50.0, 90.0),
            (100.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert_eq!(histogram_quantile(0.95, &b), Some(75.0));
        assert_eq!(histogram_quantile(0.5, &b), Some(10.0));
        assert_eq!(
            histogram_quantile(0.99, &[(10.0, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(histogram_quantile(0.99, &[]), None);
    }

    #[test]
    fn nan_latency_is_no_sample() {
        assert!(latency(&sample(&[], f64::NAN), true).is_none());
        let l = latency(
            &sample(&[("destination_workload", "review-v1")], 42.0),
            false,
        )
        .unwrap();
        assert_eq!(l.workload.unwrap().1, "review-v1");
    }
}
