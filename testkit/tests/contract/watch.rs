//! Watches as kube-rs's watcher and kubectl use them: resumed from a resourceVersion, bookmarks
//! (`allowWatchBookmarks`, and the initial-events-end bookmark of a streaming list), and a
//! resourceVersion too old to resume from (an ERROR event carrying 410 Expired, then a re-list).

use super::support::{get_json, shape, watch_one, Both, Clusters, Compare, Message, Req, Watch};
use serde_json::{json, Value};
use switchyard_testkit::TestCluster;

const VS: &str = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices";

fn has_bookmark(events: &[Value]) -> bool {
    events.iter().any(|e| e["type"] == "BOOKMARK")
}

fn has_error(events: &[Value]) -> bool {
    events.iter().any(|e| e["type"] == "ERROR")
}

fn has_deleted(events: &[Value]) -> bool {
    events.iter().any(|e| e["type"] == "DELETED")
}

/// The list's resourceVersion on one cluster: where a watch resumes.
async fn list_rv(cluster: &TestCluster) -> String {
    get_json(cluster, VS).await["metadata"]["resourceVersion"]
        .as_str()
        .expect("a list has a resourceVersion")
        .to_owned()
}

/// `(type, name)` of the events that are not bookmarks.
fn changes(watch: &Watch) -> Vec<(String, String)> {
    watch
        .summary()
        .into_iter()
        .filter(|(kind, _)| kind != "BOOKMARK")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_from_a_resource_version_sends_only_later_changes() {
    let c = Clusters::start().await;
    let rv = Both {
        sim: list_rv(&c.sim).await,
        real: list_rv(&c.real).await,
    };
    c.send(&Req::patch(
        &format!("{VS}/review"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"step":"1"}}}"#,
    ))
    .await;
    c.send(&Req::post(
        VS,
        &json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "later"}, "spec": {"hosts": ["later"]}}),
    ))
    .await;
    c.send(&Req::new(reqwest::Method::DELETE, &format!("{VS}/later")))
        .await;
    let mut watches = Vec::new();
    for cluster in [&c.sim, &c.real] {
        let req = Req::get(&format!(
            "{VS}?watch=true&resourceVersion={}&timeoutSeconds=20",
            rv.get(cluster.kind)
        ));
        let one = watch_one(cluster, &req, has_deleted).await;
        watches.push(one);
    }
    let real = watches.pop().expect("two watches");
    let sim = watches.pop().expect("two watches");
    let expected = vec![
        ("MODIFIED".to_owned(), "review".to_owned()),
        ("ADDED".to_owned(), "later".to_owned()),
        ("DELETED".to_owned(), "later".to_owned()),
    ];
    assert_eq!(changes(&real), expected, "real: {:?}", real.events);
    assert_eq!(changes(&sim), changes(&real), "sim: {:?}", sim.events);
    // Each event carries the object at that change, in the watched version.
    for watch in [&sim, &real] {
        let modified = &watch.events[0]["object"];
        assert_eq!(
            modified["apiVersion"], "networking.istio.io/v1",
            "{}",
            watch.kind
        );
        assert_eq!(
            modified["metadata"]["labels"]["step"], "1",
            "{}",
            watch.kind
        );
        let deleted = watch
            .events
            .iter()
            .find(|e| e["type"] == "DELETED")
            .expect("deleted");
        let added = watch
            .events
            .iter()
            .find(|e| e["type"] == "ADDED")
            .expect("added");
        let rv = |e: &Value| {
            e.pointer("/object/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse::<u64>().ok())
                .expect("numeric resourceVersion")
        };
        assert!(
            rv(deleted) > rv(added),
            "{}: a deletion has its own resourceVersion",
            watch.kind
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_list_ends_its_initial_events_with_a_bookmark() {
    let c = Clusters::start().await;
    let req = Req::get(&format!(
        "{VS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=20"
    ));
    let both = c.watch(&req, has_bookmark).await;
    assert_eq!(changes(&both.sim), changes(&both.real));
    for watch in [&both.sim, &both.real] {
        let last = watch.events.last().expect("events");
        assert_eq!(
            last["type"], "BOOKMARK",
            "{}: {:?}",
            watch.kind, watch.events
        );
        assert_eq!(
            last.pointer("/object/metadata/annotations/k8s.io~1initial-events-end"),
            Some(&json!("true")),
            "{}",
            watch.kind
        );
        assert_eq!(last["object"]["kind"], "VirtualService", "{}", watch.kind);
        assert_eq!(
            last["object"]["apiVersion"], "networking.istio.io/v1",
            "{}",
            watch.kind
        );
        // A bookmark carries only the resourceVersion (and the annotation).
        let meta: Vec<&String> = last["object"]["metadata"]
            .as_object()
            .expect("metadata")
            .keys()
            .collect();
        assert_eq!(meta, ["annotations", "resourceVersion"], "{}", watch.kind);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_with_bookmarks_marks_the_end_of_the_initial_state() {
    // kube-apiserver 1.37 ends the synthetic ADDED events of any watch that allows bookmarks
    // with the initial-events-end bookmark, not only streaming lists.
    let c = Clusters::start().await;
    let req = Req::get(&format!(
        "{VS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=20"
    ));
    let both = c.watch(&req, has_bookmark).await;
    assert_eq!(changes(&both.sim), changes(&both.real));
    assert_eq!(changes(&both.real).len(), 3);
    for watch in [&both.sim, &both.real] {
        let last = watch.events.last().expect("events");
        assert_eq!(
            last["type"], "BOOKMARK",
            "{}: {:?}",
            watch.kind, watch.events
        );
        assert_eq!(
            last.pointer("/object/metadata/annotations/k8s.io~1initial-events-end"),
            Some(&json!("true")),
            "{}",
            watch.kind
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn send_initial_events_needs_resource_version_match() {
    // The API server's ValidateListOptions: a streaming list needs
    // resourceVersionMatch=NotOlderThan, a watch takes a match rule only with sendInitialEvents,
    // a list takes one only with a resourceVersion, and never with continue. kube-rs always sends
    // sendInitialEvents and resourceVersionMatch together.
    let c = Clusters::start().await;
    for query in [
        "watch=true&sendInitialEvents=true&allowWatchBookmarks=true",
        "watch=true&sendInitialEvents=false",
        "watch=true&resourceVersionMatch=NotOlderThan",
        "watch=true&sendInitialEvents=true&resourceVersionMatch=Exact",
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&continue=abc",
        "sendInitialEvents=true",
        "resourceVersionMatch=NotOlderThan",
        "resourceVersion=0&resourceVersionMatch=Exact",
        "resourceVersion=1&resourceVersionMatch=Bogus",
        "resourceVersion=1&resourceVersionMatch=NotOlderThan&continue=abc",
    ] {
        let both = c
            .send(&Req::get(&format!("{VS}?{query}&timeoutSeconds=20")))
            .await;
        Compare::status()
            .message(Message::Exact)
            .check(query, &both);
        assert_eq!(
            (both.real.status, both.real.reason()),
            (422, "Invalid"),
            "{query}: {}",
            both.real.text
        );
    }
    // A watch client sees the same refusal instead of a stream.
    let req = Req::get(&format!(
        "{VS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&timeoutSeconds=20"
    ));
    let both = c.watch(&req, has_bookmark).await;
    assert_eq!((both.sim.status, both.real.status), (422, 422));
    assert_eq!(both.sim.error, both.real.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_from_a_too_old_resource_version_is_an_expired_error_event() {
    let c = Clusters::start().await;
    // The real watch cache starts after the cluster's set-up, so resourceVersion 1 is long gone;
    // the simulator keeps 10 000 changes, so push the first ones out.
    let sim = c.sim.sim.as_ref().expect("the simulated cluster");
    for i in 0..switchyard_sim::store::HISTORY_LEN + 1 {
        sim.store
            .create(
                switchyard_sim::store::Key::new("events", &c.sim.namespace, &format!("e{i}")),
                json!({}),
            )
            .expect("an event is stored");
    }
    let req = Req::get(&format!(
        "{VS}?watch=true&resourceVersion=1&timeoutSeconds=20"
    ));
    let both = c.watch(&req, has_error).await;
    for watch in [&both.sim, &both.real] {
        assert_eq!(
            watch.status, 200,
            "{}: the error comes as an event",
            watch.kind
        );
        assert_eq!(watch.events.len(), 1, "{}: {:?}", watch.kind, watch.events);
        assert_eq!(watch.events[0]["type"], "ERROR", "{}", watch.kind);
    }
    let status = |w: &Watch| w.events[0]["object"].clone();
    let (s, r) = (status(&both.sim), status(&both.real));
    for field in ["kind", "apiVersion", "status", "reason", "code"] {
        assert_eq!(s[field], r[field], "{field}: sim {s} real {r}");
    }
    assert_eq!(r["code"], 410);
    assert_eq!(r["reason"], "Expired");
    // kube-rs re-lists on 410 whatever the text; the template is the same anyway.
    let text = |v: &Value, ns: &str| shape(v["message"].as_str().unwrap_or(""), ns);
    assert_eq!(text(&s, &c.sim.namespace), text(&r, &c.real.namespace));
    assert_eq!(s.get("details"), r.get("details"));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_at_an_exact_resource_version() {
    // A list with resourceVersionMatch=Exact is the list as it was at that version (410 Expired
    // once the history no longer reaches back that far: etcd's compaction on the real server,
    // the kept changes on the simulator; a version not reached yet is a 504 Timeout).
    let c = Clusters::start().await;
    let rv = Both {
        sim: list_rv(&c.sim).await,
        real: list_rv(&c.real).await,
    };
    c.send(&Req::post(
        VS,
        &json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "later"}, "spec": {"hosts": ["later"]}}),
    ))
    .await;
    c.send(&Req::patch(
        &format!("{VS}/review"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"step":"1"}}}"#,
    ))
    .await;
    c.send(&Req::new(reqwest::Method::DELETE, &format!("{VS}/product")))
        .await;
    let exact = |rv: &str| {
        Req::get(&format!(
            "{VS}?resourceVersion={rv}&resourceVersionMatch=Exact"
        ))
    };
    let both = c
        .send_each(&Both {
            sim: exact(&rv.sim),
            real: exact(&rv.real),
        })
        .await;
    Compare::object(&["/items/2/metadata/labels"]).check("list at an exact version", &both);
    assert_eq!(both.real.status, 200, "{}", both.real.text);
    assert_eq!(both.real.names(), ["product", "recommendation", "review"]);
    assert_eq!(both.sim.names(), both.real.names());
    assert_eq!(both.sim.json["metadata"]["resourceVersion"], json!(rv.sim));
    assert_eq!(
        both.real.json["metadata"]["resourceVersion"],
        json!(rv.real)
    );
    // A version neither has reached.
    let ahead = |rv: &str| exact(&(rv.parse::<u64>().expect("numeric") + 100_000).to_string());
    let both = c
        .send_each(&Both {
            sim: ahead(&rv.sim),
            real: ahead(&rv.real),
        })
        .await;
    Compare::status()
        .message(Message::Shape)
        .check("list at a version not reached", &both);
    assert_eq!(both.real.status, 504);
    // Without a match rule, resourceVersion=0 means "any version" (the real server may answer
    // from its watch cache, a moment behind): both serve the list.
    let both = c.send(&Req::get(&format!("{VS}?resourceVersion=0"))).await;
    Compare::object(&[]).check("list at resourceVersion 0", &both);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_watch_parameters_are_400() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get(&format!("{VS}?watch=true&timeoutSeconds=abc")))
        .await;
    Compare::status()
        .message(Message::Any)
        .check("timeoutSeconds not a number", &both);
    assert_eq!(both.real.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_initial_events_false_starts_from_now() {
    // A streaming watch that declines the initial events gets none (and no initial-events-end
    // bookmark): it starts from now. Any value but `false` or `0` counts as true, as Go's query
    // decoder reads booleans.
    let c = Clusters::start().await;
    for value in ["false", "FALSE", "0"] {
        let req = Req::get(&format!(
            "{VS}?watch=true&sendInitialEvents={value}&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2"
        ));
        let both = c.watch(&req, |_| false).await;
        assert_eq!((both.sim.status, both.real.status), (200, 200), "{value}");
        assert!(
            both.real.events.is_empty(),
            "{value}: {:?}",
            both.real.events
        );
        assert_eq!(both.sim.summary(), both.real.summary(), "{value}");
    }
    for value in ["", "f", "yes"] {
        let req = Req::get(&format!(
            "{VS}?watch=true&sendInitialEvents={value}&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=20"
        ));
        let both = c.watch(&req, has_bookmark).await;
        assert_eq!(
            changes(&both.real).len(),
            3,
            "{value}: {:?}",
            both.real.events
        );
        assert_eq!(changes(&both.sim), changes(&both.real), "{value}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_from_a_resource_version_that_is_not_a_number() {
    // Divergence "watch resourceVersion not a number" (stays): the real server fails with a
    // reasonless 500 (its parse error escapes as an internal error); the simulator answers 400
    // BadRequest. No client sends such a version.
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get(&format!("{VS}?watch=true&resourceVersion=abc")))
        .await;
    assert_eq!(both.real.status, 500, "{}", both.real.text);
    assert!(both.real.json.get("reason").is_none());
    assert_eq!((both.sim.status, both.sim.reason()), (400, "BadRequest"));
}
