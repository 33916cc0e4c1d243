//! Events as the console's history writes and reads them: create (the exact shape
//! `cluster::history::event_for` builds), AlreadyExists for the second replica that records the
//! same change, list by the history label and by `involvedObject`, and the server's defaults.

use super::support::{Clusters, Compare, Message, Req};
use serde_json::{json, Value};
use switchyard_testkit::User;

const EVENTS: &str = "/api/v1/namespaces/{ns}/events";

/// An Event as the console writes it for a weight change.
fn history_event(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": "{ns}",
            "labels": {"app.kubernetes.io/managed-by": "switchyard"},
            "annotations": {"switchyard.dev/change": "{\"user\":\"operator\"}"},
        },
        "involvedObject": {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "namespace": "{ns}",
            "name": "review",
            "resourceVersion": "42",
        },
        "reason": "WeightsChanged",
        "message": "operator set route 1 of review to new 20 / old 80 (was new 0 / old 100) via console",
        "type": "Normal",
        "source": {"component": "switchyard"},
        "reportingComponent": "switchyard",
        "reportingInstance": "switchyard",
        "firstTimestamp": "2026-11-27T10:00:00.123456Z",
        "lastTimestamp": "2026-11-27T10:00:00.123456Z",
        "count": 1,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consoles_history_event_is_created_and_read_back_alike() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::post(EVENTS, &history_event("review.sy42r1")).user(User::Operator))
        .await;
    Compare::object(&[
        "/metadata/name",
        "/metadata/labels",
        "/metadata/annotations",
        "/metadata/generation",
        "/involvedObject",
        "/reason",
        "/message",
        "/type",
        "/source",
        "/reportingComponent",
        "/reportingInstance",
        "/count",
        // metav1.Time has second precision: the microseconds are dropped on the way in.
        "/firstTimestamp",
        "/lastTimestamp",
        "/eventTime",
    ])
    .check("create the history event", &both);
    assert_eq!(both.real.status, 201);
    assert_eq!(both.real.json["firstTimestamp"], "2026-11-27T10:00:00Z");

    // The second replica to see the change writes the same name: 409 AlreadyExists, which the
    // console ignores.
    let both = c
        .send(&Req::post(EVENTS, &history_event("review.sy42r1")).user(User::Operator))
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("the same change recorded twice", &both);
    assert_eq!(both.real.status, 409);
    assert_eq!(both.real.reason(), "AlreadyExists");

    // The history watch lists by label; kubectl describe lists by involvedObject.
    for query in [
        "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dswitchyard",
        "fieldSelector=involvedObject.name%3Dreview,involvedObject.kind%3DVirtualService",
        "fieldSelector=reason%3DWeightsChanged,type%3DNormal",
        // With the kind too: the real server's ClusterIP repair loop may post its own Events
        // about the namespace's Services ("ClusterIPNotAllocated … repairing").
        "fieldSelector=involvedObject.namespace%3D{ns},involvedObject.kind%3DVirtualService",
    ] {
        let both = c
            .send(&Req::get(&format!("{EVENTS}?{query}")).user(User::Viewer))
            .await;
        Compare::object(&["/items/0/message", "/items/0/involvedObject"]).check(query, &both);
        assert_eq!(both.sim.names(), both.real.names(), "{query}");
        assert_eq!(both.real.names(), ["review.sy42r1"], "{query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minimal_event_gets_the_same_defaults() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::post(
            EVENTS,
            &json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "bare"},
                    "involvedObject": {"kind": "VirtualService", "name": "review", "namespace": "{ns}"},
                    "reason": "X", "message": "m", "type": "Normal"}),
        ))
        .await;
    Compare::object(&[
        "/source",
        "/firstTimestamp",
        "/lastTimestamp",
        "/eventTime",
        "/reportingComponent",
        "/reportingInstance",
        "/count",
        "/metadata/generation",
    ])
    .check("a bare Event", &both);
    assert_eq!(both.real.status, 201);
}
