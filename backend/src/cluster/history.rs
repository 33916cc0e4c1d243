//! The change history, kept in the cluster so every replica of the console sees the same one:
//! a console write carries an annotation with who/why/before/after in the same patch as the new
//! weights, and every weight change seen through the watch — the console's or anyone else's — is
//! recorded as a Kubernetes Event on the VirtualService (or HTTPRoute), named after the
//! resourceVersion it produced so replicas that both see it write it once. Pure functions; the I/O
//! is in `cluster`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchyard_protocol::{ChangeRecord, RouteKind};

use super::kinds;

/// Annotation on the VirtualService describing the last change made through the console.
pub const LAST_CHANGE_ANNOTATION: &str = "switchyard.dev/last-change";
/// Label on the Events the console writes, to list and watch only those.
pub const EVENT_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "switchyard");
/// Annotation on an Event holding the full change record.
pub const EVENT_RECORD_ANNOTATION: &str = "switchyard.dev/change";
pub const EVENT_REASON: &str = "WeightsChanged";

/// What the console writes into the annotation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LastChange {
    pub id: String,
    pub time: String,
    pub user: String,
    pub source: String,
    pub route_index: usize,
    pub before: BTreeMap<String, u32>,
    pub after: BTreeMap<String, u32>,
    /// The operation (one bulk shift or rollback) this write belongs to; absent in annotations
    /// written before operations were recorded, and then the change is its own group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// Weight per destination key (subset, or host) of each http route.
pub fn route_weights(object: &Value) -> Vec<BTreeMap<String, u32>> {
    route_weights_of(RouteKind::VirtualService, object)
}

/// [`route_weights`] of a route object of either kind (an HTTPRoute's keyed by backend).
pub fn route_weights_of(kind: RouteKind, object: &Value) -> Vec<BTreeMap<String, u32>> {
    kinds::routes_view(kind, object)
        .routes
        .iter()
        .map(|r| {
            r.destinations
                .iter()
                .map(|d| (d.key().to_owned(), d.weight))
                .collect()
        })
        .collect()
}

pub fn last_change(object: &Value) -> Option<LastChange> {
    let text = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_CHANGE_ANNOTATION))
        .and_then(Value::as_str)?;
    serde_json::from_str(text).ok()
}

/// JSON Patch operations that set the last-change annotation.
pub fn annotation_ops(object: &Value, change: &LastChange) -> Vec<Value> {
    let text = serde_json::to_string(change).unwrap_or_default();
    if object
        .pointer("/metadata/annotations")
        .is_some_and(Value::is_object)
    {
        vec![
            json!({"op": "add", "path": "/metadata/annotations/switchyard.dev~1last-change", "value": text}),
        ]
    } else {
        vec![
            json!({"op": "add", "path": "/metadata/annotations", "value": {LAST_CHANGE_ANNOTATION: text}}),
        ]
    }
}

/// The field manager that wrote last, as the best available "who" for changes made elsewhere.
fn last_manager(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|m| Some((m.get("time")?.as_str()?, m.get("manager")?.as_str()?)))
        .max_by_key(|(time, _)| *time)
        .map(|(_, manager)| manager.to_owned())
}

/// The weight changes between two versions of a VirtualService, as history records.
pub fn changes_between(previous: &Value, next: &Value, now: &str) -> Vec<ChangeRecord> {
    changes_between_of(RouteKind::VirtualService, previous, next, now)
}

/// [`changes_between`] two versions of a route object of either kind.
pub fn changes_between_of(
    kind: RouteKind,
    previous: &Value,
    next: &Value,
    now: &str,
) -> Vec<ChangeRecord> {
    let before = route_weights_of(kind, previous);
    let after = route_weights_of(kind, next);
    let namespace = text(next, "/metadata/namespace");
    let name = text(next, "/metadata/name");
    let rv = text(next, "/metadata/resourceVersion");
    let changed: Vec<usize> = (0..after.len())
        .filter(|&i| before.get(i) != after.get(i) && after[i].len() >= 2)
        .collect();
    if changed.is_empty() {
        return vec![];
    }
    let stamp = last_change(next);
    let stamped = stamp.is_some()
        && stamp.as_ref().map(|s| &s.id) != last_change(previous).as_ref().map(|s| &s.id);
    match stamp.filter(|_| stamped) {
        // The console's own write: its annotation says who and why.
        Some(stamp) => vec![ChangeRecord {
            id: stamp.id,
            time: stamp.time,
            user: stamp.user,
            source: stamp.source,
            namespace,
            virtual_service: name,
            kind,
            route_index: stamp.route_index,
            before: stamp.before,
            after: stamp.after,
            resource_version: rv,
            operation: stamp.operation,
        }],
        None => {
            let who = last_manager(next).unwrap_or_else(|| "unknown".into());
            changed
                .into_iter()
                .map(|i| ChangeRecord {
                    id: format!("{name}-{rv}-{i}"),
                    time: now.to_owned(),
                    user: who.clone(),
                    source: "external".into(),
                    namespace: namespace.clone(),
                    virtual_service: name.clone(),
                    kind,
                    route_index: i,
                    before: before.get(i).cloned().unwrap_or_default(),
                    after: after[i].clone(),
                    resource_version: rv.clone(),
                    operation: None,
                })
                .collect()
        }
    }
}

fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn split_text(weights: &BTreeMap<String, u32>) -> String {
    weights
        .iter()
        .map(|(k, w)| format!("{k} {w}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The Kubernetes Event recording a change. Its name is derived from the VirtualService and the
/// resourceVersion the change produced, so it is written once however many replicas see it.
pub fn event_for(record: &ChangeRecord, uid: Option<&str>) -> Value {
    let message = format!(
        "{} set route {} of {} to {} (was {}) via {}",
        record.user,
        record.route_index,
        record.virtual_service,
        split_text(&record.after),
        split_text(&record.before),
        record.source
    );
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{}.sy{}r{}", record.virtual_service, record.resource_version, record.route_index),
            "namespace": record.namespace,
            "labels": {EVENT_LABEL.0: EVENT_LABEL.1},
            "annotations": {EVENT_RECORD_ANNOTATION: serde_json::to_string(record).unwrap_or_default()},
        },
        "involvedObject": {
            "apiVersion": match record.kind {
                RouteKind::VirtualService => "networking.istio.io/v1",
                RouteKind::HTTPRoute => "gateway.networking.k8s.io/v1",
            },
            "kind": record.kind.as_str(),
            "namespace": record.namespace,
            "name": record.virtual_service,
            "uid": uid,
            "resourceVersion": record.resource_version,
        },
        "reason": EVENT_REASON,
        "message": message,
        "type": "Normal",
        "source": {"component": "switchyard"},
        "reportingComponent": "switchyard",
        "reportingInstance": "switchyard",
        "firstTimestamp": record.time,
        "lastTimestamp": record.time,
        "count": 1,
    })
}

/// Reads a change record back from an Event written by `event_for`.
pub fn record_from_event(event: &Value) -> Option<ChangeRecord> {
    let text = event
        .pointer("/metadata/annotations")?
        .get(EVENT_RECORD_ANNOTATION)?
        .as_str()?;
    serde_json::from_str(text).ok()
}

/// History order: by time (microseconds, RFC 3339, so text order is time order), then by the
/// resourceVersion each change produced (numeric where it is, as on etcd-backed servers). For one
/// VirtualService both agree: a console write is planned against the version before it.
pub fn sort(records: &mut [ChangeRecord]) {
    let rv = |r: &ChangeRecord| r.resource_version.parse::<u64>().unwrap_or(u64::MAX);
    records.sort_by(|a, b| {
        (a.time.as_str(), rv(a), a.route_index).cmp(&(b.time.as_str(), rv(b), b.route_index))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(rv: &str, old: u32, new: u32, stamp: Option<&LastChange>) -> Value {
        let mut v = json!({
            "metadata": {"name": "review", "namespace": "hands-on", "resourceVersion": rv,
                "managedFields": [
                    {"manager": "kubectl-client-side-apply", "time": "2026-11-27T10:00:00Z"},
                    {"manager": "kubectl-patch", "time": "2026-11-27T10:05:00Z"}]},
            "spec": {"http": [
                {"route": [{"destination": {"host": "review", "subset": "new"}}]},
                {"route": [
                    {"destination": {"host": "review", "subset": "old"}, "weight": old},
                    {"destination": {"host": "review", "subset": "new"}, "weight": new}]}]}
        });
        if let Some(s) = stamp {
            v["metadata"]["annotations"] =
                json!({LAST_CHANGE_ANNOTATION: serde_json::to_string(s).unwrap()});
        }
        v
    }

    fn stamp(id: &str) -> LastChange {
        LastChange {
            id: id.into(),
            time: "2026-11-27T10:06:00Z".into(),
            user: "jane".into(),
            source: "console".into(),
            route_index: 1,
            before: BTreeMap::from([("old".into(), 100), ("new".into(), 0)]),
            after: BTreeMap::from([("old".into(), 80), ("new".into(), 20)]),
            operation: Some("op-1".into()),
        }
    }

    #[test]
    fn console_writes_are_recorded_from_their_annotation() {
        let records = changes_between(
            &vs("5", 100, 0, None),
            &vs("6", 80, 20, Some(&stamp("a"))),
            "now",
        );
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].user.as_str(), records[0].source.as_str()),
            ("jane", "console")
        );
        assert_eq!(records[0].resource_version, "6");
        assert_eq!(records[0].operation.as_deref(), Some("op-1"));
        assert_eq!(records[0].after["new"], 20);
    }

    #[test]
    fn other_writers_are_recorded_as_external() {
        // The annotation is still the old one: someone else changed the weights.
        let records = changes_between(
            &vs("6", 80, 20, Some(&stamp("a"))),
            &vs("7", 50, 50, Some(&stamp("a"))),
            "now",
        );
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].user.as_str(), records[0].source.as_str()),
            ("kubectl-patch", "external")
        );
        assert_eq!(
            records[0].before,
            BTreeMap::from([("old".into(), 80), ("new".into(), 20)])
        );
        assert_eq!(records[0].time, "now");
        assert_eq!(records[0].operation, None);
    }

    #[test]
    fn changes_without_weight_changes_are_not_history() {
        assert!(changes_between(
            &vs("6", 80, 20, None),
            &vs("7", 80, 20, Some(&stamp("b"))),
            "now"
        )
        .is_empty());
    }

    #[test]
    fn events_round_trip_and_are_named_by_resource_version() {
        let record = &changes_between(
            &vs("5", 100, 0, None),
            &vs("6", 80, 20, Some(&stamp("a"))),
            "now",
        )[0];
        let event = event_for(record, Some("uid-1"));
        assert_eq!(event["metadata"]["name"], "review.sy6r1");
        assert_eq!(event["involvedObject"]["kind"], "VirtualService");
        assert_eq!(
            event["message"],
            "jane set route 1 of review to new 20 / old 80 (was new 0 / old 100) via console"
        );
        assert_eq!(record_from_event(&event).as_ref(), Some(record));
    }

    #[test]
    fn events_written_before_operations_still_read() {
        let mut event = event_for(
            &changes_between(
                &vs("5", 100, 0, None),
                &vs("6", 80, 20, Some(&stamp("a"))),
                "now",
            )[0],
            None,
        );
        let old = r#"{"id":"c1","time":"2026-11-27T10:00:00Z","user":"jane","source":"bulk","namespace":"hands-on","virtual_service":"review","route_index":1,"before":{"old":100},"after":{"old":0},"resource_version":"9"}"#;
        event["metadata"]["annotations"][EVENT_RECORD_ANNOTATION] = json!(old);
        let record = record_from_event(&event).expect("an old record reads");
        assert_eq!((record.id.as_str(), record.operation), ("c1", None));
        let old_stamp = r#"{"id":"a","time":"t","user":"jane","source":"console","route_index":1,"before":{},"after":{}}"#;
        let old_stamp: LastChange = serde_json::from_str(old_stamp).expect("an old stamp reads");
        assert_eq!(old_stamp.operation, None);
    }

    #[test]
    fn annotation_ops_create_the_map_when_missing() {
        let ops = annotation_ops(&vs("1", 100, 0, None), &stamp("x"));
        assert_eq!(ops[0]["path"], "/metadata/annotations");
        let ops = annotation_ops(&vs("1", 100, 0, Some(&stamp("y"))), &stamp("x"));
        assert_eq!(
            ops[0]["path"],
            "/metadata/annotations/switchyard.dev~1last-change"
        );
    }

    fn http_route(rv: &str, v1: u32, v2: u32, stamp: Option<&LastChange>) -> Value {
        let mut v = json!({
            "metadata": {"name": "review", "namespace": "hands-on-gateway", "resourceVersion": rv},
            "spec": {"rules": [
                {"backendRefs": [{"name": "review-v2", "port": 80}]},
                {"backendRefs": [
                    {"name": "review-v1", "port": 80, "weight": v1},
                    {"name": "review-v2", "port": 80, "weight": v2}]}]}
        });
        if let Some(s) = stamp {
            v["metadata"]["annotations"] =
                json!({LAST_CHANGE_ANNOTATION: serde_json::to_string(s).unwrap()});
        }
        v
    }

    #[test]
    fn http_route_changes_are_recorded_on_the_http_route() {
        let external = changes_between_of(
            RouteKind::HTTPRoute,
            &http_route("5", 1, 3, None),
            &http_route("6", 100, 0, None),
            "now",
        );
        assert_eq!(external.len(), 1);
        let r = &external[0];
        assert_eq!(
            (r.kind, r.route_index, r.source.as_str()),
            (RouteKind::HTTPRoute, 1, "external")
        );
        assert_eq!(
            r.before,
            BTreeMap::from([("review-v1".into(), 1), ("review-v2".into(), 3)])
        );
        assert_eq!(
            r.after,
            BTreeMap::from([("review-v1".into(), 100), ("review-v2".into(), 0)])
        );
        let stamp = LastChange {
            before: BTreeMap::from([("review-v1".into(), 100), ("review-v2".into(), 0)]),
            after: BTreeMap::from([("review-v1".into(), 80), ("review-v2".into(), 20)]),
            ..stamp("h")
        };
        let console = changes_between_of(
            RouteKind::HTTPRoute,
            &http_route("6", 100, 0, None),
            &http_route("7", 80, 20, Some(&stamp)),
            "now",
        );
        assert_eq!(console[0].user, "jane");
        assert_eq!(console[0].kind, RouteKind::HTTPRoute);
        assert_eq!(console[0].operation.as_deref(), Some("op-1"));
        let event = event_for(&console[0], Some("uid-1"));
        assert_eq!(event["involvedObject"]["kind"], "HTTPRoute");
        assert_eq!(
            event["involvedObject"]["apiVersion"],
            "gateway.networking.k8s.io/v1"
        );
        assert_eq!(record_from_event(&event).as_ref(), Some(&console[0]));
    }
}
