//! Samples from the simulated mesh's own counters, for the demo without a Prometheus: each fetch
//! snapshots the counters and turns the difference to an earlier snapshot into rates and
//! quantiles, as Prometheus' `rate()` and `histogram_quantile()` would, from the reporters the
//! console's queries read and joined as their `or` joins them (a later reporter's series only
//! where no earlier one has the same labels). One history of snapshots serves every rate window,
//! thinned with age.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_console::metrics::{
    histogram_quantile, Counters, Latency, Reporter, Reporters, RequestRate, SampleSource, Samples,
    Workload,
};
use switchyard_sim::mesh::metrics::Series;
use switchyard_sim::mesh::Mesh;

/// Counter snapshots with the time they were taken, oldest first.
type History = VecDeque<(Instant, Arc<Vec<Series>>)>;
/// (namespace, name) of a workload or service.
type Named = (String, String);
/// Histogram bucket counts by upper bound (as bits, to be a map key).
type Buckets = BTreeMap<u64, f64>;

/// Reads the simulated mesh's counters.
#[derive(Clone)]
pub struct SimulatedSource {
    mesh: Mesh,
    history: Arc<Mutex<History>>,
    /// The longest window read so far: how much history to keep.
    longest: Arc<Mutex<Duration>>,
    queries: Arc<AtomicU64>,
}

impl SimulatedSource {
    pub fn new(mesh: Mesh) -> Self {
        SimulatedSource {
            mesh,
            history: Arc::default(),
            longest: Arc::default(),
            queries: Arc::default(),
        }
    }

    /// This source as the console's metrics source.
    pub fn into_source(self) -> switchyard_console::metrics::Source {
        switchyard_console::metrics::Source::Direct(Arc::new(self))
    }
}

impl SampleSource for SimulatedSource {
    fn queries_sent(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    fn counters(&self, namespaces: &[String], reporters: &Reporters) -> Counters {
        self.queries.fetch_add(1, Ordering::Relaxed);
        counters(&self.mesh.snapshot(), namespaces, reporters)
    }

    fn fetch(&self, namespaces: &[String], window: Duration, reporters: &Reporters) -> Samples {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let (baseline, current) = {
            let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
            // The windows of one refresh are read together: they share one snapshot.
            let current = match history.back() {
                Some((at, snapshot)) if now.duration_since(*at) < SAME_READ => snapshot.clone(),
                _ => {
                    let snapshot = Arc::new(self.mesh.snapshot());
                    history.push_back((now, snapshot.clone()));
                    snapshot
                }
            };
            let longest = {
                let mut longest = self.longest.lock().unwrap_or_else(|e| e.into_inner());
                *longest = (*longest).max(window);
                *longest
            };
            thin(&mut history, now, longest);
            (baseline(&history, now, window), current)
        };
        match baseline {
            Some((then, old)) => {
                let seconds = now.duration_since(then).as_secs_f64();
                rates(&old, &current, seconds, namespaces, reporters)
            }
            None => Samples::default(),
        }
    }
}

/// Reads closer together than this are one refresh reading several windows.
const SAME_READ: Duration = Duration::from_millis(250);

/// A kept snapshot is at least this share of its age apart from the next newer kept one: the
/// baseline of any window is then at most 1/10 older than the window asks, with a few dozen
/// snapshots for a 15-minute window instead of one per refresh.
const THINNING: u32 = 10;

/// The newest snapshot taken at least `window` before `now`, or the oldest while the history is
/// younger than the window (as Prometheus' `rate()` uses the samples it has).
fn baseline(
    history: &History,
    now: Instant,
    window: Duration,
) -> Option<(Instant, Arc<Vec<Series>>)> {
    history
        .iter()
        .rev()
        .find(|(at, _)| now.duration_since(*at) >= window)
        .or_else(|| history.front().filter(|(at, _)| *at < now))
        .cloned()
}

/// Drops snapshots no window needs: those older than the oldest one at or beyond `longest`, and
/// those whose neighbours are close enough without them (within 1/[`THINNING`] of the older
/// one's age), so no gap in what is kept is wider than that.
fn thin(history: &mut History, now: Instant, longest: Duration) {
    let newest_first: Vec<_> = history.drain(..).rev().collect();
    let mut kept: Vec<(Instant, Arc<Vec<Series>>)> = Vec::with_capacity(newest_first.len());
    for (i, (at, snapshot)) in newest_first.iter().enumerate() {
        if let (Some((newer, _)), Some((older, _))) = (kept.last(), newest_first.get(i + 1)) {
            if newer.duration_since(*older) <= now.duration_since(*older) / THINNING {
                continue;
            }
        }
        kept.push((*at, snapshot.clone()));
        if now.duration_since(*at) >= longest {
            break;
        }
    }
    *history = kept.into_iter().rev().collect();
}

fn key(series: &Series) -> String {
    series
        .labels
        .pairs()
        .iter()
        .map(|(_, v)| *v)
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Increase of a counter between two readings; a drop means the counter restarted from zero.
fn increase(before: u64, after: u64) -> u64 {
    if after >= before {
        after - before
    } else {
        after
    }
}

/// The labels the console's request queries group by (`promql::REQUEST_LABELS`), as one key.
fn request_key(l: &switchyard_sim::mesh::metrics::SeriesLabels) -> [String; 12] {
    [
        l.source_workload.clone(),
        l.source_workload_namespace.clone(),
        l.source_app.clone(),
        l.source_version.clone(),
        l.destination_service_name.clone(),
        l.destination_service_namespace.clone(),
        l.destination_workload.clone(),
        l.destination_workload_namespace.clone(),
        l.destination_app.clone(),
        l.destination_version.clone(),
        l.response_code.clone(),
        l.response_flags.clone(),
    ]
}

/// Which query set a series belongs to (reached or not), and the preference of its reporter
/// there (0 first), as the console's queries choose series: requests that reached a workload
/// from `reporters.reached()`, the others from `reporters.unreached()` (a series that reached
/// no workload has `destination_workload="unknown"`; the destination reporter never writes one).
fn query_of(
    l: &switchyard_sim::mesh::metrics::SeriesLabels,
    reporters: &Reporters,
) -> Option<(bool, usize)> {
    if l.destination_workload == "unknown" {
        reporters
            .unreached()
            .iter()
            .position(|r| *r == l.reporter)
            .map(|rank| (false, rank))
    } else {
        reporters
            .reached()
            .iter()
            .map(|r: &Reporter| r.label())
            .position(|r| r == l.reporter)
            .map(|rank| (true, rank))
    }
}

/// Rates and p95s between two snapshots `seconds` apart (pure), from `reporters`.
pub fn rates(
    old: &[Series],
    new: &[Series],
    seconds: f64,
    namespaces: &[String],
    reporters: &Reporters,
) -> Samples {
    if seconds <= 0.0 {
        return Samples::default();
    }
    let before: HashMap<String, &Series> = old.iter().map(|s| (key(s), s)).collect();
    // PromQL `a or b`: for each grouped label set, only the first reporter that has it.
    let mut first_request: HashMap<(bool, [String; 12]), usize> = HashMap::new();
    let mut first_caller: HashMap<(Named, Named), usize> = HashMap::new();
    let mut first_workload: HashMap<(Named, Named), usize> = HashMap::new();
    let in_scope = |s: &&Series| namespaces.contains(&s.labels.destination_service_namespace);
    for s in new.iter().filter(in_scope) {
        let l = &s.labels;
        let Some((reached, rank)) = query_of(l, reporters) else {
            continue;
        };
        let entry = first_request
            .entry((reached, request_key(l)))
            .or_insert(rank);
        *entry = (*entry).min(rank);
        if reached {
            let service = (
                l.destination_service_namespace.clone(),
                l.destination_service_name.clone(),
            );
            let caller = (
                l.source_workload_namespace.clone(),
                l.source_workload.clone(),
            );
            let workload = (
                l.destination_workload_namespace.clone(),
                l.destination_workload.clone(),
            );
            let c = first_caller
                .entry((caller, service.clone()))
                .or_insert(rank);
            *c = (*c).min(rank);
            let w = first_workload.entry((service, workload)).or_insert(rank);
            *w = (*w).min(rank);
        }
    }
    let mut samples = Samples::default();
    let mut by_caller: BTreeMap<(Named, Named), Buckets> = BTreeMap::new();
    let mut by_workload: BTreeMap<(Named, Named), Buckets> = BTreeMap::new();
    for s in new.iter().filter(in_scope) {
        let l = &s.labels;
        let Some((reached, rank)) = query_of(l, reporters) else {
            continue;
        };
        let grouped = request_key(l);
        if first_request.get(&(reached, grouped.clone())) != Some(&rank) {
            continue;
        }
        let prev = before.get(&key(s));
        let count = increase(prev.map_or(0, |p| p.requests), s.requests);
        if count > 0 {
            samples.requests.push(RequestRate {
                source: Workload {
                    name: l.source_workload.clone(),
                    namespace: l.source_workload_namespace.clone(),
                    app: l.source_app.clone(),
                    version: l.source_version.clone(),
                },
                service: l.destination_service_name.clone(),
                service_namespace: l.destination_service_namespace.clone(),
                destination: Workload {
                    name: l.destination_workload.clone(),
                    namespace: l.destination_workload_namespace.clone(),
                    app: l.destination_app.clone(),
                    version: l.destination_version.clone(),
                },
                response_code: l.response_code.clone(),
                response_flags: l.response_flags.clone(),
                rate: count as f64 / seconds,
            });
        }
        if !reached {
            continue;
        }
        let service = (
            l.destination_service_namespace.clone(),
            l.destination_service_name.clone(),
        );
        let caller = (
            l.source_workload_namespace.clone(),
            l.source_workload.clone(),
        );
        let workload = (
            l.destination_workload_namespace.clone(),
            l.destination_workload.clone(),
        );
        let caller_key = (caller, service.clone());
        let workload_key = (service, workload);
        let to_caller = first_caller.get(&caller_key) == Some(&rank);
        let to_workload = first_workload.get(&workload_key) == Some(&rank);
        for (i, &(le, cumulative)) in s.duration_buckets.iter().enumerate() {
            let earlier = prev
                .and_then(|p| p.duration_buckets.get(i))
                .map_or(0, |b| b.1);
            let delta = increase(earlier, cumulative) as f64;
            let bound = le.to_bits();
            if to_caller {
                *by_caller
                    .entry(caller_key.clone())
                    .or_default()
                    .entry(bound)
                    .or_default() += delta;
            }
            if to_workload {
                *by_workload
                    .entry(workload_key.clone())
                    .or_default()
                    .entry(bound)
                    .or_default() += delta;
            }
        }
    }
    let to_vec = |b: &Buckets| {
        let mut v: Vec<(f64, f64)> = b
            .iter()
            .map(|(bits, c)| (f64::from_bits(*bits), *c))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    for ((caller, service), b) in &by_caller {
        if let Some(p95) = histogram_quantile(0.95, &to_vec(b)) {
            samples.latencies.push(Latency {
                caller: Some(caller.clone()),
                service: service.clone(),
                workload: None,
                p95_ms: p95,
            });
        }
    }
    for ((service, workload), b) in &by_workload {
        if let Some(p95) = histogram_quantile(0.95, &to_vec(b)) {
            samples.latencies.push(Latency {
                caller: None,
                service: service.clone(),
                workload: Some(workload.clone()),
                p95_ms: p95,
            });
        }
    }
    samples
}

/// The release plans' gate counters of a snapshot (pure): cumulative requests, failures and
/// latency buckets per service version, with the reporter rules of the graph (destination for
/// requests that reached a workload, source for those that never did), as the gate queries read
/// them from Prometheus.
pub fn counters(snapshot: &[Series], namespaces: &[String], reporters: &Reporters) -> Counters {
    // PromQL `a or b` over the grouped label sets, as the gate queries join the reporters: per
    // (reached, service version, code) and per (service version, bucket), the first reporter
    // that has the set.
    type Key = (String, String, String);
    let mut requests: BTreeMap<(bool, Key, String), (usize, f64)> = BTreeMap::new();
    let mut buckets: BTreeMap<(Key, u64), (usize, f64)> = BTreeMap::new();
    // A slot keeps the sum of its first reporter (lowest rank) only.
    let add = |slot: &mut (usize, f64), rank: usize, count: f64| {
        if rank < slot.0 {
            *slot = (rank, count);
        } else if rank == slot.0 {
            slot.1 += count;
        }
    };
    for s in snapshot {
        let l = &s.labels;
        if !namespaces.contains(&l.destination_service_namespace) {
            continue;
        }
        let Some((reached, rank)) = query_of(l, reporters) else {
            continue;
        };
        let key = (
            l.destination_service_namespace.clone(),
            l.destination_service_name.clone(),
            l.destination_version.clone(),
        );
        let slot = requests
            .entry((reached, key.clone(), l.response_code.clone()))
            .or_insert((rank, 0.0));
        add(slot, rank, s.requests as f64);
        if reached {
            for &(le, count) in &s.duration_buckets {
                let slot = buckets
                    .entry((key.clone(), le.to_bits()))
                    .or_insert((rank, 0.0));
                add(slot, rank, count as f64);
            }
        }
    }
    let mut out = Counters::default();
    for ((_, key, code), (_, count)) in requests {
        out.add_requests(key, &code, count);
    }
    for ((key, le), (_, count)) in buckets {
        out.add_bucket(key, f64::from_bits(le), count);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history with one snapshot every 5 s for `seconds` before `now`, thinned as `fetch` does.
    fn history(now: Instant, seconds: u64, longest: Duration) -> History {
        let mut history = History::new();
        for age in (0..=seconds).rev().step_by(5) {
            history.push_back((now - Duration::from_secs(age), Arc::new(Vec::new())));
            thin(&mut history, now - Duration::from_secs(age), longest);
        }
        history
    }

    #[test]
    fn one_thinned_history_serves_every_window() {
        let now = Instant::now() + Duration::from_secs(3_600);
        let longest = Duration::from_secs(900);
        let h = history(now, 1_200, longest);
        let ages: Vec<u64> = h
            .iter()
            .map(|(at, _)| now.duration_since(*at).as_secs())
            .collect();
        assert!(h.len() < 50, "thinned to {} snapshots: {ages:?}", h.len());
        for window in [30, 60, 300, 900] {
            let window = Duration::from_secs(window);
            let (at, _) = baseline(&h, now, window).expect("a baseline");
            let age = now.duration_since(at);
            assert!(age >= window, "{window:?}: baseline {age:?} old");
            assert!(
                age <= window + window / THINNING + Duration::from_secs(5),
                "{window:?}: {age:?}"
            );
        }
        // Nothing older than needed for the longest window is kept.
        let oldest = now.duration_since(h.front().unwrap().0);
        assert!(
            oldest >= longest && oldest <= longest + longest / 10,
            "{oldest:?}"
        );
        // Younger than the window: the oldest snapshot, as rate() over what there is.
        let young = history(now, 20, longest);
        let (at, _) = baseline(&young, now, Duration::from_secs(60)).unwrap();
        assert_eq!(now.duration_since(at), Duration::from_secs(20));
    }

    #[test]
    fn counter_drops_are_restarts() {
        assert_eq!(increase(10, 15), 5);
        assert_eq!(increase(10, 3), 3);
    }
}
