//! The watch loops behind the caches: each feeds a reflector's store and announces what changed
//! on the cluster's broadcast channel. The VirtualService loop also hands every weight change it
//! sees to the `recorder`, so the history is written whoever made the change.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::broadcast;

use super::{history, recorder, view, write::now_rfc3339, Change};

fn key_of(obj: &DynamicObject) -> String {
    format!(
        "{}/{}",
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default()
    )
}

/// Keeps the VirtualService cache, announces changes and deletions, and records every weight
/// change as an Event.
pub(super) async fn virtual_services(
    api: Api<DynamicObject>,
    writer: Writer<DynamicObject>,
    changes: broadcast::Sender<Change>,
    events: Api<Event>,
) {
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    futures::pin_mut!(stream);
    // Last version seen of each VirtualService, to tell what a change changed.
    let mut previous: HashMap<String, Value> = HashMap::new();
    while let Some(event) = stream.next().await {
        // Nobody listening is fine; errors are retried by the backoff and only logged.
        let _ = match event {
            Ok(watcher::Event::Apply(obj)) => {
                let Ok(v) = serde_json::to_value(&obj) else {
                    continue;
                };
                let key = key_of(&obj);
                if let Some(before) = previous.get(&key) {
                    for record in history::changes_between(before, &v, &now_rfc3339()) {
                        tokio::spawn(recorder::record(
                            events.clone(),
                            record,
                            obj.metadata.uid.clone(),
                        ));
                    }
                }
                previous.insert(key, v.clone());
                changes.send(Change::VirtualServiceChanged(view::virtual_service_routes(
                    &v,
                )))
            }
            Ok(watcher::Event::InitApply(obj)) => {
                if let Ok(v) = serde_json::to_value(&obj) {
                    previous.insert(key_of(&obj), v);
                }
                continue;
            }
            Ok(watcher::Event::Delete(obj)) => {
                let namespace = obj.metadata.namespace.clone().unwrap_or_default();
                let name = obj.metadata.name.clone().unwrap_or_default();
                previous.remove(&format!("{namespace}/{name}"));
                changes.send(Change::VirtualServiceDeleted { namespace, name })
            }
            Ok(watcher::Event::InitDone) => changes.send(Change::Resynced),
            Ok(watcher::Event::Init) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "virtualservice watch failed; retrying");
                continue;
            }
        };
    }
}

/// Keeps the history cache (Events the console wrote) and announces new records.
pub(super) async fn history(
    api: Api<Event>,
    writer: Writer<Event>,
    changes: broadcast::Sender<Change>,
) {
    let label = format!("{}={}", history::EVENT_LABEL.0, history::EVENT_LABEL.1);
    let config = watcher::Config::default().labels(&label);
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(e)) => {
                if let Some(record) = serde_json::to_value(&e)
                    .ok()
                    .and_then(|v| history::record_from_event(&v))
                {
                    let _ = changes.send(Change::Recorded(record));
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "history watch failed; retrying"),
        }
    }
}

/// Keeps a cache of objects the graph's topology is built from; any change there is a hint so the
/// graph is redrawn without waiting for the next metrics refresh.
pub(super) async fn quietly<K>(
    api: Api<K>,
    writer: Writer<K>,
    what: &'static str,
    changes: broadcast::Sender<Change>,
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
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone) => {
                let _ = changes.send(Change::TopologyChanged);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, resource = what, "watch failed; retrying"),
        }
    }
}
