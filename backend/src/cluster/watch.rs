//! The watch loops behind the caches: each feeds a reflector's store and announces what changed
//! on the cluster's broadcast channel. The VirtualService and HTTPRoute loops also hand every
//! weight change they see to the `recorder`, so the history is written whoever made the change.
//! HTTPRoutes are optional: on a cluster without the Gateway API CRDs their list is 404, and the
//! cache then counts as listed and empty, and asks again every [`ABSENT_RETRY`].
//!
//! Each loop restarts its watcher from a full list when the watch keeps failing or when the
//! API server comes back after an outage (`contact`): kube-runtime's watcher alone retries from
//! its last resourceVersion forever, and a restarted API server with a fresh etcd answers that
//! with "Too large resource version" (`docs/kubernetes-api.md`), so the cache would stay old.
//! A re-list replaces the store at its end (`InitDone`) and is never recorded as a change.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::DynamicObject;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use switchyard_protocol::RouteKind;
use tokio::sync::broadcast;

use super::contact::Tracker;
use super::plan_object::{self, PlanObject};
use super::{history, kinds, recorder, view, write::now_rfc3339, Change};

/// Consecutive watch errors after which the watcher starts over from a list.
const RELIST_AFTER_FAILURES: u32 = 3;
/// Pause before such a restart, so a watch that cannot work (say, forbidden) does not spin.
const RELIST_PAUSE: Duration = Duration::from_secs(1);
/// How often an optional resource the API server does not serve (404) is asked for again.
pub(super) const ABSENT_RETRY: Duration = Duration::from_secs(30);

/// Why a watcher starts over.
enum Restart {
    /// It kept failing.
    Failing,
    /// The API server came back after an outage.
    Recovered,
    /// Its optional resource is not served; time to ask again.
    Absent,
}

/// Whether a cache's resource must be served, or may be absent (a CRD not installed).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Served {
    Always,
    Optional,
}

fn key_of(obj: &DynamicObject) -> String {
    format!(
        "{}/{}",
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default()
    )
}

/// Runs one cache: a watcher feeding `writer`, restarted from a list when it keeps failing or
/// the API server recovers; every event counts as contact and is handed to `on_event` after the
/// store applied it. `cache` names it (`namespace/resource`) in logs and in `/readyz`.
async fn keep<K, F>(
    api: Api<K>,
    config: watcher::Config,
    mut writer: Writer<K>,
    tracker: Tracker,
    (cache, served): (String, Served),
    mut on_event: F,
) where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
    F: FnMut(&watcher::Event<K>),
{
    let mut recoveries = tracker.recoveries();
    // Whether the last start found the resource not served: asking again then keeps the cache
    // listed (empty) and announces nothing until the answer changes.
    let mut absent = false;
    loop {
        // A recovery before this start is covered by this list.
        recoveries.borrow_and_update();
        if !absent {
            tracker.listing(&cache);
        }
        let stream = watcher(api.clone(), config.clone()).default_backoff();
        futures::pin_mut!(stream);
        let mut failures = 0;
        let failing = loop {
            tokio::select! {
                event = stream.next() => match event {
                    Some(Ok(event)) => {
                        if absent && matches!(event, watcher::Event::InitApply(_) | watcher::Event::InitDone) {
                            // Served now (the CRD was installed): listed as any start.
                            absent = false;
                        }
                        // `Init` is the watcher's own marker before it lists, not an answer.
                        if !matches!(event, watcher::Event::Init) {
                            failures = 0;
                            tracker.contacted();
                        }
                        writer.apply_watcher_event(&event);
                        if matches!(event, watcher::Event::InitDone) {
                            tracker.listed(&cache);
                        }
                        on_event(&event);
                    }
                    Some(Err(watcher::Error::InitialListFailed(kube::Error::Api(status))))
                        if status.code == 404 && served == Served::Optional =>
                    {
                        // Not served here (no CRD): an answer, and an empty cache.
                        tracker.contacted();
                        if !absent {
                            for event in [watcher::Event::Init, watcher::Event::InitDone] {
                                writer.apply_watcher_event(&event);
                                on_event(&event);
                            }
                            tracker.listed(&cache);
                            tracing::info!(%cache, "not served by the API server (CRD not installed?); empty, asking again every {ABSENT_RETRY:?}");
                        }
                        absent = true;
                        tokio::select! {
                            _ = tokio::time::sleep(ABSENT_RETRY) => {}
                            Ok(()) = recoveries.changed() => {}
                        }
                        break Restart::Absent;
                    }
                    Some(Err(e)) => {
                        failures += 1;
                        tracing::warn!(error = %e, %cache, failures, "watch failed; retrying");
                        if failures >= RELIST_AFTER_FAILURES {
                            break Restart::Failing;
                        }
                    }
                    // The watcher's stream never ends; if it did, start over.
                    None => break Restart::Failing,
                },
                Ok(()) = recoveries.changed() => break Restart::Recovered,
            }
        };
        match failing {
            Restart::Failing => {
                tracing::info!(%cache, "the watch keeps failing; starting over from a list");
                tokio::time::sleep(RELIST_PAUSE).await;
            }
            Restart::Recovered => tracing::info!(%cache, "the API server is back; re-listing"),
            Restart::Absent => {}
        }
    }
}

/// Keeps the cache of one kind of route object (VirtualServices, or HTTPRoutes, which may be
/// absent), announces changes and deletions, and records every weight change as an Event.
pub(super) async fn routes(
    kind: RouteKind,
    api: Api<DynamicObject>,
    writer: Writer<DynamicObject>,
    changes: broadcast::Sender<Change>,
    events: Api<Event>,
    tracker: Tracker,
    cache: String,
) {
    let served = match kind {
        RouteKind::VirtualService => Served::Always,
        RouteKind::HTTPRoute => Served::Optional,
    };
    // Last version seen of each VirtualService, to tell what a change changed. Filled by lists
    // and never compared against them: what a re-list finds different from the cache (after an
    // outage, or a fresh etcd) is not a change anyone made through a watch, so it is not recorded.
    let mut previous: HashMap<String, Value> = HashMap::new();
    keep(
        api,
        watcher::Config::default(),
        writer,
        tracker,
        (cache, served),
        move |event| {
            // Nobody listening is fine.
            let _ = match event {
                watcher::Event::Apply(obj) => {
                    let Ok(v) = serde_json::to_value(obj) else {
                        return;
                    };
                    let key = key_of(obj);
                    if let Some(before) = previous.get(&key) {
                        for record in history::changes_between_of(kind, before, &v, &now_rfc3339())
                        {
                            tokio::spawn(recorder::record(
                                events.clone(),
                                record,
                                obj.metadata.uid.clone(),
                            ));
                        }
                    }
                    previous.insert(key, v.clone());
                    changes.send(match kind {
                        RouteKind::VirtualService => {
                            Change::VirtualServiceChanged(view::virtual_service_routes(&v))
                        }
                        RouteKind::HTTPRoute => {
                            Change::HttpRouteChanged(kinds::http_route_routes(&v))
                        }
                    })
                }
                watcher::Event::Init => {
                    // Objects the new list does not name are gone.
                    previous.clear();
                    return;
                }
                watcher::Event::InitApply(obj) => {
                    if let Ok(v) = serde_json::to_value(obj) {
                        previous.insert(key_of(obj), v);
                    }
                    return;
                }
                watcher::Event::Delete(obj) => {
                    let namespace = obj.metadata.namespace.clone().unwrap_or_default();
                    let name = obj.metadata.name.clone().unwrap_or_default();
                    previous.remove(&format!("{namespace}/{name}"));
                    changes.send(match kind {
                        RouteKind::VirtualService => {
                            Change::VirtualServiceDeleted { namespace, name }
                        }
                        RouteKind::HTTPRoute => Change::HttpRouteDeleted { namespace, name },
                    })
                }
                watcher::Event::InitDone => changes.send(Change::Resynced),
            };
        },
    )
    .await
}

/// Keeps the history cache (Events the console wrote) and announces new records. A re-list
/// announces nothing: the records it holds were announced when written, or belong to a cluster
/// the console no longer talks to.
pub(super) async fn history(
    api: Api<Event>,
    writer: Writer<Event>,
    changes: broadcast::Sender<Change>,
    tracker: Tracker,
    cache: String,
) {
    let label = format!("{}={}", history::EVENT_LABEL.0, history::EVENT_LABEL.1);
    let config = watcher::Config::default().labels(&label);
    keep(
        api,
        config,
        writer,
        tracker,
        (cache, Served::Always),
        move |event| {
            if let watcher::Event::Apply(e) = event {
                let Ok(value) = serde_json::to_value(e) else {
                    return;
                };
                if let Some(record) = history::record_from_event(&value) {
                    let _ = changes.send(Change::Recorded(record));
                } else if let Some(record) = plan_object::record_from_event(&value) {
                    let _ = changes.send(Change::PlanRecorded(Box::new(record)));
                }
            }
        },
    )
    .await
}

/// Keeps the release plans' cache and announces every plan created, changed or deleted.
pub(super) async fn plans(
    api: Api<DynamicObject>,
    writer: Writer<DynamicObject>,
    changes: broadcast::Sender<Change>,
    tracker: Tracker,
    cache: String,
) {
    keep(
        api,
        watcher::Config::default(),
        writer,
        tracker,
        // A cluster without the ReleasePlan CRD has no plans (and the console stays ready);
        // creating one there is refused by the API server with its own answer.
        (cache, Served::Optional),
        move |event| {
            let plan = |obj: &DynamicObject| {
                serde_json::to_value(obj)
                    .ok()
                    .and_then(|v| PlanObject::from_value(&v))
            };
            // Nobody listening is fine.
            let _ = match event {
                watcher::Event::Apply(obj) => match plan(obj) {
                    Some(p) => changes.send(Change::PlanChanged(Box::new(p.view()))),
                    None => return,
                },
                watcher::Event::Delete(obj) => changes.send(Change::PlanDeleted {
                    namespace: obj.metadata.namespace.clone().unwrap_or_default(),
                    id: obj.metadata.name.clone().unwrap_or_default(),
                }),
                watcher::Event::InitDone => changes.send(Change::Resynced),
                _ => return,
            };
        },
    )
    .await
}

/// Keeps a cache of objects the graph's topology is built from; any change there is a hint so the
/// graph is redrawn without waiting for the next metrics refresh.
pub(super) async fn quietly<K>(
    api: Api<K>,
    writer: Writer<K>,
    changes: broadcast::Sender<Change>,
    tracker: Tracker,
    cache: String,
) where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    keep(
        api,
        watcher::Config::default(),
        writer,
        tracker,
        (cache, Served::Always),
        move |event| {
            if matches!(
                event,
                watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone
            ) {
                let _ = changes.send(Change::TopologyChanged);
            }
        },
    )
    .await
}
