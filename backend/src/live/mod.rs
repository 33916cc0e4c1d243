//! One refresher for every viewer: polls the metrics source on an interval, assembles the graph
//! with the cluster's topology, keeps the latest snapshot, and publishes every snapshot and every
//! VirtualService change to all SSE viewers. Viewers never cause a metrics or cluster call.
//! Splits of routes changed less than a window ago are published as settling, and a
//! disagreement only once it persists (`graph::settling`). Besides the default rate window the
//! console may offer a few others (`LiveConfig::choices`): each refresh reads one query set per
//! offered window and publishes one graph per window, so the metrics load depends on the windows
//! offered, never on the viewers or on which windows they look at.

mod answers;
mod changes;

pub use answers::{AnswerKey, Answers, Encoded};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_protocol::{
    Contact, Freshness, Graph, HttpRouteRoutes, MetricsStatus, RateWindows, RouteKind,
    RoutesResponse, ServerEvent, VirtualServiceRoutes,
};
use tokio::sync::{broadcast, watch};

use crate::cluster::{Change, Cluster};
use crate::graph::{self, settling::RouteKey};
use crate::metrics::{Counters, Reporters, Samples, Source};
use changes::RouteChanges;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// How often the metrics are read.
    pub interval: Duration,
    /// Width of the default rate window.
    pub window: Duration,
    /// Other rate windows a viewer may choose (`--windows`); the default is always offered.
    pub choices: Vec<Duration>,
    /// The Istio reporters request metrics are read from (`--reporters`).
    pub reporters: Reporters,
}

impl LiveConfig {
    /// Every window offered, in whole seconds, shortest first, without repeats.
    pub fn windows(&self) -> Vec<u32> {
        let mut windows: Vec<u32> = std::iter::once(self.window)
            .chain(self.choices.iter().copied())
            .map(seconds)
            .filter(|&s| s > 0)
            .collect();
        windows.sort_unstable();
        windows.dedup();
        windows
    }

    /// The default window in whole seconds.
    pub fn default_window(&self) -> u32 {
        seconds(self.window)
    }
}

fn seconds(window: Duration) -> u32 {
    u32::try_from(window.as_secs()).unwrap_or(u32::MAX)
}

/// Handle on the refresher; cheap to clone.
#[derive(Clone)]
pub struct Live {
    cluster: Cluster,
    /// The latest graph of the default window.
    latest: watch::Receiver<Arc<Graph>>,
    /// The latest graph of every offered window (the default's too), by window in seconds.
    by_window: Arc<BTreeMap<u32, watch::Receiver<Arc<Graph>>>>,
    default_window: u32,
    events: broadcast::Sender<ServerEvent>,
    /// `GET /api/v1/graph`'s encoded answers (`answers.rs`).
    answers: Answers,
    /// The release plans' gate counters, one snapshot per refresh while a plan is active.
    counters: GateCounters,
    /// How often the metrics are read.
    interval: Duration,
}

/// Snapshots of the gate counters with the unix seconds they were read, oldest first; shared by
/// the refresher (which adds one per refresh while any release plan is active) and the plans
/// (which difference two of them over a gate's window).
#[derive(Clone, Default)]
pub struct GateCounters {
    snapshots: Arc<std::sync::Mutex<Snapshots>>,
}

/// Gate-counter snapshots with the unix seconds they were read, oldest first.
type Snapshots = std::collections::VecDeque<(f64, Arc<Counters>)>;

/// Most gate snapshots kept; past it, every other one of the older half is dropped, so a long
/// window keeps a coarser baseline (one refresh apart at first, further apart with age).
const MAX_GATE_SNAPSHOTS: usize = 2048;

/// The two snapshots a gate window is read from: the newest taken at or before its start (else
/// the oldest there is), and the latest.
#[derive(Clone, Debug)]
pub struct CounterWindow {
    pub base_at: f64,
    pub base: Arc<Counters>,
    pub latest_at: f64,
    pub latest: Arc<Counters>,
}

impl GateCounters {
    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshots> {
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the snapshot read at `at`.
    pub fn push(&self, at: f64, counters: Counters) {
        let mut snapshots = self.lock();
        snapshots.push_back((at, Arc::new(counters)));
        if snapshots.len() > MAX_GATE_SNAPSHOTS {
            let older: Vec<_> = snapshots.drain(..MAX_GATE_SNAPSHOTS / 2).collect();
            for (i, kept) in older.into_iter().enumerate().rev() {
                if i % 2 == 0 {
                    snapshots.push_front(kept);
                }
            }
        }
    }

    /// The snapshots for a window starting at `since`; `None` before the first snapshot.
    pub fn window(&self, since: f64) -> Option<CounterWindow> {
        let snapshots = self.lock();
        let (latest_at, latest) = snapshots.back().cloned()?;
        let (base_at, base) = snapshots
            .iter()
            .rev()
            .find(|(at, _)| *at <= since)
            .or_else(|| snapshots.front())
            .cloned()?;
        Some(CounterWindow {
            base_at,
            base,
            latest_at,
            latest,
        })
    }

    /// Unix seconds of the latest snapshot.
    pub fn latest_at(&self) -> Option<f64> {
        self.lock().back().map(|(at, _)| *at)
    }
}

impl Live {
    /// Starts the refresher. Without a source the graph shows topology and requested splits only.
    pub fn start(cluster: Cluster, source: Option<Source>, config: LiveConfig) -> Self {
        let (events, _) = broadcast::channel(256);
        let default_window = config.default_window();
        let mut windows = Vec::new();
        let mut by_window = BTreeMap::new();
        for window in config.windows() {
            let mut initial = graph::build(
                &cluster.topology(),
                None,
                MetricsStatus::default(),
                window,
                now(),
            );
            initial.freshness = Freshness {
                cluster: cluster.contact(),
                metrics: source
                    .as_ref()
                    .map(|_| metrics_contact(&initial.metrics, &config)),
            };
            let (latest_tx, latest) = watch::channel(Arc::new(initial));
            by_window.insert(window, latest);
            windows.push(WindowState {
                seconds: window,
                samples: None,
                status: MetricsStatus::default(),
                disagreed: BTreeSet::new(),
                latest: latest_tx,
            });
        }
        // The default window comes first: it annotates the route lists.
        windows.sort_by_key(|w| w.seconds != default_window);
        let latest = by_window[&default_window].clone();
        let counters = GateCounters::default();
        let interval = config.interval;
        tokio::spawn(refresh_loop(
            cluster.clone(),
            source,
            config,
            windows,
            events.clone(),
            counters.clone(),
        ));
        Live {
            cluster,
            latest,
            by_window: Arc::new(by_window),
            default_window,
            events,
            answers: Answers::default(),
            counters,
            interval,
        }
    }

    /// The release plans' gate counters (one snapshot per refresh while a plan is active).
    pub fn gate_counters(&self) -> &GateCounters {
        &self.counters
    }

    /// How often the metrics are read.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Sends an event to every viewer (the plans publish theirs here).
    pub fn publish(&self, event: ServerEvent) {
        // No viewers is fine.
        let _ = self.events.send(event);
    }

    /// The encoded graph answers, shared by every request.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// Every rate window offered, in seconds, shortest first.
    pub fn windows(&self) -> Vec<u32> {
        self.by_window.keys().copied().collect()
    }

    /// The default rate window, in seconds.
    pub fn default_window(&self) -> u32 {
        self.default_window
    }

    /// The windows offered and the default, as the page learns them.
    pub fn rate_windows(&self) -> RateWindows {
        RateWindows {
            default_seconds: self.default_window,
            offered_seconds: self.windows(),
        }
    }

    /// The latest graph over `window` seconds with the API server's contact as of now, or `None`
    /// when that window is not offered.
    pub fn graph_now_over(&self, window: u32) -> Option<Graph> {
        let mut graph = (**self.by_window.get(&window)?.borrow()).clone();
        graph.freshness.cluster = self.cluster.contact();
        Some(graph)
    }

    /// The latest graph over `window` seconds as the refresher published it (its `freshness`
    /// has the API server's contact as of then), or `None` when that window is not offered.
    pub fn latest_over(&self, window: u32) -> Option<Arc<Graph>> {
        Some(self.by_window.get(&window)?.borrow().clone())
    }

    /// The contact with the API server as of now.
    pub fn cluster_contact(&self) -> Contact {
        self.cluster.contact()
    }

    /// The latest graph snapshot.
    pub fn graph(&self) -> Arc<Graph> {
        self.latest.borrow().clone()
    }

    /// Every VirtualService in scope, with observed shares from the latest graph, stamped with
    /// the contact with the API server as of now (and the metrics' as of the latest graph).
    pub fn routes(&self) -> RoutesResponse {
        annotated_routes(&self.cluster, &self.graph())
    }

    pub fn annotate(&self, vs: &mut VirtualServiceRoutes) {
        graph::annotate_observed(std::slice::from_mut(vs), &self.graph());
    }

    /// Sets an HTTPRoute's observed shares from the latest graph.
    pub fn annotate_http_route(&self, route: &mut HttpRouteRoutes) {
        graph::annotate_http_routes(std::slice::from_mut(route), &self.graph());
    }

    /// Receiver for every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.events.subscribe()
    }

    /// Number of viewers currently subscribed.
    pub fn viewers(&self) -> usize {
        self.events.receiver_count()
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The metrics source's contact: stale when the last query failed, or answered longer ago than
/// two refresh intervals (a query gets one interval to answer).
fn metrics_contact(status: &MetricsStatus, config: &LiveConfig) -> Contact {
    let stale_after = 2.0 * config.interval.as_secs_f64();
    Contact {
        last_contact: status.last_success,
        stale: !status.fresh
            || status
                .last_success
                .is_none_or(|at| now() - at > stale_after),
        stale_after_seconds: stale_after,
        error: status.error.clone(),
    }
}

/// What the refresher keeps for one offered window.
struct WindowState {
    seconds: u32,
    /// Last samples that were read successfully, kept through outages.
    samples: Option<Samples>,
    status: MetricsStatus,
    /// Routes whose split disagreed at the last metrics refresh over this window.
    disagreed: BTreeSet<RouteKey>,
    latest: watch::Sender<Arc<Graph>>,
}

struct Refresher {
    cluster: Cluster,
    config: LiveConfig,
    /// Whether there is a metrics source at all (else the graph carries no metrics contact).
    has_source: bool,
    /// One per offered window, the default first.
    windows: Vec<WindowState>,
    events: broadcast::Sender<ServerEvent>,
    /// When each route's weights last changed.
    changes: RouteChanges,
    /// The gate counters' snapshots.
    counters: GateCounters,
}

impl Refresher {
    /// The latest graph of the default window.
    fn default_graph(&self) -> Arc<Graph> {
        self.windows[0].latest.borrow().clone()
    }

    /// Publishes a new snapshot for every window. `refreshed` says whether it follows a metrics
    /// refresh (which counts towards a persisting disagreement) or a cluster change (which does
    /// not).
    fn publish(&mut self, refreshed: bool) {
        let now = now();
        let topology = self.cluster.topology();
        let cluster = &self.cluster;
        let routes = topology
            .virtual_services
            .iter()
            .map(|vs| (RouteKind::VirtualService, vs))
            .chain(
                topology
                    .http_routes
                    .iter()
                    .map(|hr| (RouteKind::HTTPRoute, hr)),
            );
        self.changes.observe(routes, || cluster.history(), now);
        for window in &mut self.windows {
            let mut graph = graph::build(
                &topology,
                window.samples.as_ref(),
                window.status.clone(),
                window.seconds,
                now,
            );
            graph.freshness = Freshness {
                cluster: self.cluster.contact(),
                metrics: self
                    .has_source
                    .then(|| metrics_contact(&window.status, &self.config)),
            };
            let disagreeing =
                graph::settling::settle(&mut graph, self.changes.changed_at(), &window.disagreed);
            // Published with the digits the page uses, so a refresh moves only real changes.
            graph::wire::round(&mut graph);
            if refreshed {
                window.disagreed = disagreeing;
            }
            let graph = Arc::new(graph);
            window.latest.send_replace(graph.clone());
            // No viewers is fine.
            let _ = self.events.send(ServerEvent::Graph((*graph).clone()));
        }
    }

    /// Reads one query set per offered window, all at once; each answer counts for its window.
    /// While a release plan is active, also the gate counters (one more query set, whatever the
    /// number of plans).
    async fn refresh(&mut self, source: &Source) {
        let namespaces = self.cluster.namespaces();
        let interval = self.config.interval;
        let reporters = &self.config.reporters;
        // A slow source must not stall the loop: give it at most one interval.
        let reads = self.windows.iter().map(|w| {
            let window = Duration::from_secs(u64::from(w.seconds));
            tokio::time::timeout(interval, source.fetch(&namespaces, window, reporters))
        });
        let gates = async {
            if self.cluster.plans_active() {
                Some(tokio::time::timeout(interval, source.counters(&namespaces, reporters)).await)
            } else {
                None
            }
        };
        let (results, gates) = tokio::join!(futures::future::join_all(reads), gates);
        match gates {
            Some(Ok(Ok(counters))) => self.counters.push(now(), counters),
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "gate counters could not be read");
            }
            Some(Err(_)) => tracing::warn!("gate counters did not answer within {interval:?}"),
            None => {}
        }
        for (window, result) in self.windows.iter_mut().zip(results) {
            match result {
                Ok(Ok(samples)) => {
                    window.samples = Some(samples);
                    window.status = MetricsStatus {
                        fresh: true,
                        last_success: Some(now()),
                        error: None,
                    };
                }
                Ok(Err(e)) => mark_stale(window, e.to_string()),
                Err(_) => mark_stale(
                    window,
                    format!("metrics did not answer within {interval:?}"),
                ),
            }
        }
    }
}

fn mark_stale(window: &mut WindowState, error: String) {
    tracing::warn!(%error, window = window.seconds, "metrics refresh failed; keeping the last good samples");
    window.status.fresh = false;
    window.status.error = Some(error);
}

/// Every VirtualService and HTTPRoute in scope from the cache, with observed shares from
/// `graph`, stamped with the API server's contact now and the metrics' of `graph`.
fn annotated_routes(cluster: &Cluster, graph: &Graph) -> RoutesResponse {
    let mut virtual_services = cluster.virtual_services();
    graph::annotate_observed(&mut virtual_services, graph);
    let mut http_routes = cluster.http_routes();
    graph::annotate_http_routes(&mut http_routes, graph);
    RoutesResponse {
        virtual_services,
        http_routes,
        freshness: Freshness {
            cluster: cluster.contact(),
            metrics: graph.freshness.metrics.clone(),
        },
    }
}

async fn refresh_loop(
    cluster: Cluster,
    source: Option<Source>,
    config: LiveConfig,
    windows: Vec<WindowState>,
    events: broadcast::Sender<ServerEvent>,
    counters: GateCounters,
) {
    let mut changes = cluster.subscribe();
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut r = Refresher {
        cluster,
        config,
        has_source: source.is_some(),
        windows,
        events,
        changes: RouteChanges::default(),
        counters,
    };
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Some(source) = &source {
                    r.refresh(source).await;
                }
                // The observed split reaches the page in the graph (its cards read it there), so
                // a refresh re-sends no VirtualService or HTTPRoute.
                r.publish(true);
            }
            change = changes.recv() => {
                match change {
                    Ok(Change::VirtualServiceChanged(vs)) => {
                        let mut vs = vs;
                        graph::annotate_observed(std::slice::from_mut(&mut vs), &r.default_graph());
                        let _ = r.events.send(ServerEvent::VirtualServiceChanged(vs));
                    }
                    Ok(Change::VirtualServiceDeleted { namespace, name }) => {
                        let _ = r.events.send(ServerEvent::VirtualServiceDeleted { namespace, name });
                    }
                    Ok(Change::HttpRouteChanged(route)) => {
                        let mut route = route;
                        graph::annotate_http_routes(std::slice::from_mut(&mut route), &r.default_graph());
                        let _ = r.events.send(ServerEvent::HttpRouteChanged(route));
                    }
                    Ok(Change::HttpRouteDeleted { namespace, name }) => {
                        let _ = r.events.send(ServerEvent::HttpRouteDeleted { namespace, name });
                    }
                    // A re-list, a lag, or the API server's contact turning stale or fresh:
                    // viewers get the whole list with its stamp (and a graph, below).
                    Ok(Change::Resynced | Change::Freshness)
                    | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let routes = annotated_routes(&r.cluster, &r.default_graph());
                        let _ = r.events.send(ServerEvent::Routes(routes));
                    }
                    Ok(Change::TopologyChanged) => {}
                    Ok(Change::Recorded(record)) => {
                        let _ = r.events.send(ServerEvent::Change(record));
                        continue;
                    }
                    // Plans are published by `plans` (with their gate values as they accrue).
                    Ok(Change::PlanChanged(_) | Change::PlanDeleted { .. } | Change::PlanRecorded(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                // The requested side of the graph follows the cluster at once, not at the next tick.
                r.publish(false);
            }
        }
    }
}
