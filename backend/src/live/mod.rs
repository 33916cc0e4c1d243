//! One refresher for every viewer: polls the metrics source on an interval, assembles the graph
//! with the cluster's topology, keeps the latest snapshot, and publishes every snapshot and every
//! VirtualService change to all SSE viewers. Viewers never cause a metrics or cluster call.
//! Splits of routes changed less than a window ago are published as settling, and a
//! disagreement only once it persists (`graph::settling`).

mod changes;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard_protocol::{
    Contact, Freshness, Graph, MetricsStatus, RoutesResponse, ServerEvent, VirtualServiceRoutes,
};
use tokio::sync::{broadcast, watch};

use crate::cluster::{Change, Cluster};
use crate::graph::{self, settling::RouteKey};
use crate::metrics::{Samples, Source};
use changes::RouteChanges;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// How often the metrics are read.
    pub interval: Duration,
    /// Width of the rate window.
    pub window: Duration,
}

/// Handle on the refresher; cheap to clone.
#[derive(Clone)]
pub struct Live {
    cluster: Cluster,
    latest: watch::Receiver<Arc<Graph>>,
    events: broadcast::Sender<ServerEvent>,
}

impl Live {
    /// Starts the refresher. Without a source the graph shows topology and requested splits only.
    pub fn start(cluster: Cluster, source: Option<Source>, config: LiveConfig) -> Self {
        let (events, _) = broadcast::channel(256);
        let mut initial = graph::build(
            &cluster.topology(),
            None,
            MetricsStatus::default(),
            window_seconds(&config),
            now(),
        );
        initial.freshness = Freshness {
            cluster: cluster.contact(),
            metrics: source
                .as_ref()
                .map(|_| metrics_contact(&initial.metrics, &config)),
        };
        let (latest_tx, latest) = watch::channel(Arc::new(initial));
        tokio::spawn(refresh_loop(
            cluster.clone(),
            source,
            config,
            latest_tx,
            events.clone(),
        ));
        Live {
            cluster,
            latest,
            events,
        }
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

    /// The latest graph snapshot, with the contact with the API server as of now.
    pub fn graph_now(&self) -> Graph {
        let mut graph = (*self.graph()).clone();
        graph.freshness.cluster = self.cluster.contact();
        graph
    }

    pub fn annotate(&self, vs: &mut VirtualServiceRoutes) {
        graph::annotate_observed(std::slice::from_mut(vs), &self.graph());
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

fn window_seconds(config: &LiveConfig) -> u32 {
    u32::try_from(config.window.as_secs()).unwrap_or(u32::MAX)
}

struct Refresher {
    /// Observed shares last sent per VirtualService (`ns/name`), so a refresh re-sends only the
    /// VirtualServices whose observed split moved.
    observed_sent: HashMap<String, Vec<Vec<Option<f64>>>>,
    cluster: Cluster,
    config: LiveConfig,
    /// Whether there is a metrics source at all (else the graph carries no metrics contact).
    has_source: bool,
    /// Last samples that were read successfully, kept through outages.
    samples: Option<Samples>,
    status: MetricsStatus,
    latest: watch::Sender<Arc<Graph>>,
    events: broadcast::Sender<ServerEvent>,
    /// When each route's weights last changed.
    changes: RouteChanges,
    /// Routes whose split disagreed at the last metrics refresh.
    disagreed: BTreeSet<RouteKey>,
}

impl Refresher {
    /// Sends the VirtualServices whose observed shares changed with the last refresh, so the
    /// weight controls show the same observed split as the graph.
    fn send_observed(&mut self) {
        let routes = annotated_routes(&self.cluster, &self.latest.borrow());
        for vs in routes.virtual_services {
            let observed: Vec<Vec<Option<f64>>> = vs
                .routes
                .iter()
                .map(|r| {
                    r.destinations
                        .iter()
                        .map(|d| d.observed_share.map(|s| (s * 10.0).round() / 10.0))
                        .collect()
                })
                .collect();
            let key = format!("{}/{}", vs.namespace, vs.name);
            if self.observed_sent.get(&key) != Some(&observed) {
                self.observed_sent.insert(key, observed);
                let _ = self.events.send(ServerEvent::VirtualServiceChanged(vs));
            }
        }
    }

    /// Publishes a new snapshot. `refreshed` says whether it follows a metrics refresh (which
    /// counts towards a persisting disagreement) or a cluster change (which does not).
    fn publish(&mut self, refreshed: bool) {
        let now = now();
        let topology = self.cluster.topology();
        let cluster = &self.cluster;
        self.changes
            .observe(&topology.virtual_services, || cluster.history(), now);
        let mut graph = graph::build(
            &topology,
            self.samples.as_ref(),
            self.status.clone(),
            window_seconds(&self.config),
            now,
        );
        graph.freshness = Freshness {
            cluster: self.cluster.contact(),
            metrics: self
                .has_source
                .then(|| metrics_contact(&self.status, &self.config)),
        };
        let disagreeing =
            graph::settling::settle(&mut graph, self.changes.changed_at(), &self.disagreed);
        if refreshed {
            self.disagreed = disagreeing;
        }
        let graph = Arc::new(graph);
        self.latest.send_replace(graph.clone());
        // No viewers is fine.
        let _ = self.events.send(ServerEvent::Graph((*graph).clone()));
    }

    async fn refresh(&mut self, source: &Source) {
        let namespaces = self.cluster.namespaces();
        // A slow source must not stall the loop: give it at most one interval.
        let result = tokio::time::timeout(
            self.config.interval,
            source.fetch(&namespaces, self.config.window),
        )
        .await;
        match result {
            Ok(Ok(samples)) => {
                self.samples = Some(samples);
                self.status = MetricsStatus {
                    fresh: true,
                    last_success: Some(now()),
                    error: None,
                };
            }
            Ok(Err(e)) => self.mark_stale(e.to_string()),
            Err(_) => self.mark_stale(format!(
                "metrics did not answer within {:?}",
                self.config.interval
            )),
        }
    }

    fn mark_stale(&mut self, error: String) {
        tracing::warn!(%error, "metrics refresh failed; keeping the last good samples");
        self.status.fresh = false;
        self.status.error = Some(error);
    }
}

/// Every VirtualService in scope from the cache, with observed shares from `graph`, stamped
/// with the API server's contact now and the metrics' of `graph`.
fn annotated_routes(cluster: &Cluster, graph: &Graph) -> RoutesResponse {
    let mut virtual_services = cluster.virtual_services();
    graph::annotate_observed(&mut virtual_services, graph);
    RoutesResponse {
        virtual_services,
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
    latest: watch::Sender<Arc<Graph>>,
    events: broadcast::Sender<ServerEvent>,
) {
    let mut changes = cluster.subscribe();
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut r = Refresher {
        observed_sent: HashMap::new(),
        cluster,
        config,
        has_source: source.is_some(),
        samples: None,
        status: MetricsStatus::default(),
        latest,
        events,
        changes: RouteChanges::default(),
        disagreed: BTreeSet::new(),
    };
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Some(source) = &source {
                    r.refresh(source).await;
                }
                r.publish(true);
                r.send_observed();
            }
            change = changes.recv() => {
                match change {
                    Ok(Change::VirtualServiceChanged(vs)) => {
                        let mut vs = vs;
                        graph::annotate_observed(std::slice::from_mut(&mut vs), &r.latest.borrow());
                        let _ = r.events.send(ServerEvent::VirtualServiceChanged(vs));
                    }
                    Ok(Change::VirtualServiceDeleted { namespace, name }) => {
                        let _ = r.events.send(ServerEvent::VirtualServiceDeleted { namespace, name });
                    }
                    // A re-list, a lag, or the API server's contact turning stale or fresh:
                    // viewers get the whole list with its stamp (and a graph, below).
                    Ok(Change::Resynced | Change::Freshness)
                    | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let routes = annotated_routes(&r.cluster, &r.latest.borrow());
                        let _ = r.events.send(ServerEvent::Routes(routes));
                    }
                    Ok(Change::TopologyChanged) => {}
                    Ok(Change::Recorded(record)) => {
                        let _ = r.events.send(ServerEvent::Change(record));
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                // The requested side of the graph follows the cluster at once, not at the next tick.
                r.publish(false);
            }
        }
    }
}
