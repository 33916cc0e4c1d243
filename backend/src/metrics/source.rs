//! Where samples come from: a Prometheus over its HTTP API (POST form, bounded by a timeout), or
//! in the demo without one, any in-process [`SampleSource`] (the simulated mesh's counters).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{latency, parse, promql, request_rate, Counters, Error, Reporters, Samples};

/// Samples read in-process rather than from Prometheus, e.g. the simulated mesh's own counters in
/// the demo. Reads must be quick: the refresher calls `fetch` on its own task.
pub trait SampleSource: Send + Sync {
    /// Request rates and latencies of the namespaces over the window from these reporters, as
    /// Prometheus would answer the console's queries.
    fn fetch(&self, namespaces: &[String], window: Duration, reporters: &Reporters) -> Samples;
    /// The gate counters of the namespaces now (cumulative totals per service version) from
    /// these reporters, as the three gate queries would answer (`promql::counters_reached` and
    /// its siblings).
    fn counters(&self, namespaces: &[String], reporters: &Reporters) -> Counters;
    /// How many reads this source has answered so far.
    fn queries_sent(&self) -> u64;
}

/// A source of samples; cheap to clone.
#[derive(Clone)]
pub enum Source {
    Prometheus(PrometheusSource),
    /// An in-process source (the demo without Prometheus).
    Direct(Arc<dyn SampleSource>),
}

impl Source {
    /// Reads request rates and latencies of the namespaces over the window, from `reporters`.
    pub async fn fetch(
        &self,
        namespaces: &[String],
        window: Duration,
        reporters: &Reporters,
    ) -> Result<Samples, Error> {
        match self {
            Source::Prometheus(p) => p.fetch(namespaces, window, reporters).await,
            Source::Direct(s) => Ok(s.fetch(namespaces, window, reporters)),
        }
    }

    /// Reads the release plans' gate counters of the namespaces from `reporters` (those of the
    /// graph): one query set (three queries), whatever the number of plans.
    pub async fn counters(
        &self,
        namespaces: &[String],
        reporters: &Reporters,
    ) -> Result<Counters, Error> {
        match self {
            Source::Prometheus(p) => p.counters(namespaces, reporters).await,
            Source::Direct(s) => Ok(s.counters(namespaces, reporters)),
        }
    }

    /// How many queries this source has sent so far (for tests and diagnostics).
    pub fn queries_sent(&self) -> u64 {
        match self {
            Source::Prometheus(p) => p.queries.load(Ordering::Relaxed),
            Source::Direct(s) => s.queries_sent(),
        }
    }
}

/// Prometheus HTTP API client.
#[derive(Clone)]
pub struct PrometheusSource {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
    scrape_interval: Duration,
    queries: Arc<AtomicU64>,
}

impl PrometheusSource {
    /// `base` like `http://127.0.0.1:9090`; `scrape_interval` bounds the shortest usable window.
    pub fn new(base: &str, timeout: Duration, scrape_interval: Duration) -> Self {
        PrometheusSource {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            timeout,
            scrape_interval,
            queries: Arc::new(AtomicU64::new(0)),
        }
    }

    /// One instant query.
    pub async fn query(&self, promql: &str) -> Result<Vec<parse::VectorSample>, Error> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}/api/v1/query", self.base);
        let send = self.http.post(&url).form(&[("query", promql)]).send();
        let response = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| Error::Timeout(self.timeout))?
            .map_err(|e| Error::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?;
        let body = tokio::time::timeout(self.timeout, response.bytes())
            .await
            .map_err(|_| Error::Timeout(self.timeout))?
            .map_err(|e| Error::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?;
        // Error statuses carry the same JSON envelope; parse decides.
        Ok(parse::instant_vector(&body)?)
    }

    async fn counters(
        &self,
        namespaces: &[String],
        reporters: &Reporters,
    ) -> Result<Counters, Error> {
        let queries = [
            promql::counters_reached(namespaces, reporters),
            promql::counters_unreached(namespaces, reporters),
            promql::duration_buckets(namespaces, reporters),
        ];
        let (reached, unreached, buckets) = tokio::try_join!(
            self.query(&queries[0]),
            self.query(&queries[1]),
            self.query(&queries[2]),
        )?;
        Ok(super::counters(&reached, &unreached, &buckets))
    }

    async fn fetch(
        &self,
        namespaces: &[String],
        window: Duration,
        reporters: &Reporters,
    ) -> Result<Samples, Error> {
        let range = promql::range(window, self.scrape_interval);
        let queries = [
            promql::requests_reached(namespaces, &range, reporters),
            promql::requests_unreached(namespaces, &range, reporters),
            promql::p95_by_caller(namespaces, &range, reporters),
            promql::p95_by_workload(namespaces, &range, reporters),
        ];
        let (reached, unreached, by_caller, by_workload) = tokio::try_join!(
            self.query(&queries[0]),
            self.query(&queries[1]),
            self.query(&queries[2]),
            self.query(&queries[3]),
        )?;
        let requests = reached
            .iter()
            .chain(&unreached)
            .filter_map(request_rate)
            .collect();
        let latencies = by_caller
            .iter()
            .filter_map(|s| latency(s, true))
            .chain(by_workload.iter().filter_map(|s| latency(s, false)))
            .collect();
        Ok(Samples {
            requests,
            latencies,
        })
    }
}
