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
