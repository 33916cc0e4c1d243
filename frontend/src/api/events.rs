//! The live event stream (`GET /api/v1/events`, server-sent events). Each event patches the
//! routes store; when the stream drops, the app closes it, says so, and reconnects with
//! exponential backoff. On (re)connect the server sends the full list, which heals anything
//! missed while away.
//!
//! This uses `web_sys::EventSource` directly: the browser retries a dropped stream on its own,
//! but silently and on its own schedule, and gloo-net's wrapper hides those attempts. Closing on
//! every error and retrying here is what lets the page show "connection lost — reconnecting".
//!
//! The stream follows the rate window in view (`?window=S`): choosing another window closes it
//! and opens it again at once on that window, whose first graph replaces the one shown.

use crate::state::{
    access::{AccessStore, Session},
    graph::{GraphStore, ReceivedGraph},
    history::HistoryStore,
    routes::RoutesStore,
    view_url::View,
};
use futures::{channel::mpsc, StreamExt};
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Deserialize};
use switchyard_protocol::{events, Freshness, ServerEvent};
use wasm_bindgen::{closure::Closure, JsCast};

const EVENTS_URL: &str = "/api/v1/events";

/// `path` asking for the rate window `window` (seconds), or the server's default.
pub fn with_window(path: &str, window: Option<u32>) -> String {
    match window {
        Some(seconds) => format!("{path}?window={seconds}"),
        None => path.to_owned(),
    }
}

/// First retry delay and the ceiling the doubling stops at.
const FIRST_RETRY_MS: u32 = 500;
const MAX_RETRY_MS: u32 = 15_000;

/// Where the stream stands, for the banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first connection is being made; nothing was lost yet, so nothing is shown.
    Connecting,
    Live,
    /// The stream dropped; the next try is `attempt`, in `retry_in_ms`.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u32,
    },
}

/// The stream's state plus the last event that could not be read (shown, never swallowed).
#[derive(Clone, Copy)]
pub struct Connection {
    pub state: RwSignal<ConnectionState>,
    pub problem: RwSignal<Option<String>>,
}

pub fn provide_connection() -> Connection {
    let connection = Connection {
        state: RwSignal::new(ConnectionState::Connecting),
        problem: RwSignal::new(None),
    };
    provide_context(connection);
    connection
}

pub fn use_connection() -> Connection {
    expect_context::<Connection>()
}

/// The server's last freshness stamp (from the latest route list or graph), for the stale banner.
#[derive(Clone, Copy)]
struct FreshnessSignal(RwSignal<Option<Freshness>>);

pub fn provide_freshness() {
    provide_context(FreshnessSignal(RwSignal::new(None)));
}

pub fn use_freshness() -> RwSignal<Option<Freshness>> {
    expect_context::<FreshnessSignal>().0
}

/// Delay before reconnect attempt `attempt` (1-based): 0.5 s doubling up to 15 s, so a server
/// restart is picked up quickly and a long outage does not hammer it.
pub fn backoff_ms(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(16);
    FIRST_RETRY_MS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_MS)
}

/// The envelope every event's data comes in: `{"type": <event name>, "data": …}`.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "type")]
    kind: String,
    data: T,
}

#[derive(Deserialize)]
struct Deleted {
    namespace: String,
    name: String,
}

#[derive(Deserialize)]
struct PlanDeleted {
    namespace: String,
    id: String,
}

/// Reads one event: `name` is the SSE event name (the `ServerEvent` tag), `data` the whole
/// `ServerEvent` JSON. Decoding by name into the one expected type, rather than through
/// `ServerEvent`'s adjacently tagged `Deserialize`, avoids serde's buffering of the content (a
/// graph snapshot can be large).
pub fn decode_event(name: &str, data: &str) -> Result<ServerEvent, String> {
    fn envelope<T: DeserializeOwned>(name: &str, data: &str) -> Result<T, String> {
        let envelope: Envelope<T> = serde_json::from_str(data).map_err(|e| e.to_string())?;
        if envelope.kind == name {
            Ok(envelope.data)
        } else {
            Err(format!("event {name} carries type {}", envelope.kind))
        }
    }
    match name {
        events::ROUTES => envelope(name, data).map(ServerEvent::Routes),
        events::VIRTUAL_SERVICE_CHANGED => {
            envelope(name, data).map(ServerEvent::VirtualServiceChanged)
        }
        events::CHANGE => envelope(name, data).map(ServerEvent::Change),
        events::GRAPH => envelope(name, data).map(ServerEvent::Graph),
        events::GRAPH_DELTA => envelope(name, data).map(ServerEvent::GraphDelta),
        events::VIRTUAL_SERVICE_DELETED => {
            envelope(name, data).map(|deleted: Deleted| ServerEvent::VirtualServiceDeleted {
                namespace: deleted.namespace,
                name: deleted.name,
            })
        }
        events::HTTP_ROUTE_CHANGED => envelope(name, data).map(ServerEvent::HttpRouteChanged),
        events::HTTP_ROUTE_DELETED => {
            envelope(name, data).map(|deleted: Deleted| ServerEvent::HttpRouteDeleted {
                namespace: deleted.namespace,
                name: deleted.name,
            })
        }
        events::PLAN => envelope(name, data).map(ServerEvent::Plan),
        events::PLAN_EVENT => envelope(name, data).map(ServerEvent::PlanEvent),
        events::PLAN_DELETED => {
            envelope(name, data).map(|deleted: PlanDeleted| ServerEvent::PlanDeleted {
                namespace: deleted.namespace,
                id: deleted.id,
            })
        }
        other => Err(format!("unexpected event {other}")),
    }
}

/// Starts following the stream for the life of the page.
pub fn start(store: RoutesStore, connection: Connection) {
    // Taken here, inside the app's owner: the spawned task runs outside it.
    let history = use_context::<HistoryStore>();
    let graph = use_context::<GraphStore>();
    let access = use_context::<AccessStore>();
    let freshness = use_context::<FreshnessSignal>().map(|f| f.0);
    let plans = use_context::<crate::plans::store::PlansStore>();
    let view = use_context::<View>();
    // Another window chosen: the open stream is for the old one.
    let (restart, restarts) = mpsc::unbounded::<()>();
    if let Some(view) = view {
        Effect::new(move |previous: Option<Option<u32>>| {
            let window = view.0.with(|v| v.window);
            if previous.is_some_and(|p| p != window) {
                let _ = restart.unbounded_send(());
            }
            window
        });
    }
    let window = move || view.and_then(|v| v.0.with_untracked(|v| v.window));
    let streams = Streams {
        store,
        connection,
        history,
        graph,
        freshness,
        plans,
    };
    leptos::task::spawn_local(follow(streams, access, window, restarts));
}

/// Where the events of a stream go.
#[derive(Clone, Copy)]
struct Streams {
    store: RoutesStore,
    connection: Connection,
    history: Option<HistoryStore>,
    graph: Option<GraphStore>,
    freshness: Option<RwSignal<Option<Freshness>>>,
    plans: Option<crate::plans::store::PlansStore>,
}

/// How one connection ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// It failed; whether it had been open.
    Failed { was_open: bool },
    /// The window in view changed: reconnect now.
    Restart,
}

/// After the stream failed in token mode: asks whether the session still holds, and when it
/// ended (signed out elsewhere, expired) puts the page back to the sign-in form with the reason,
/// instead of retrying with credentials that are gone.
async fn recheck_session(access: Option<AccessStore>) {
    let Some(access) = access else { return };
    let token_mode = access
        .session
        .with_untracked(|s| s.who().is_some_and(|w| w.auth_mode == "token"));
    if !token_mode {
        return;
    }
    let session = Session::from_answer(super::rollout::fetch_whoami().await);
    if matches!(session, Session::SignedOut { .. }) {
        access.session.set(session);
    }
}

async fn follow(
    streams: Streams,
    access: Option<AccessStore>,
    window: impl Fn() -> Option<u32>,
    mut restarts: mpsc::UnboundedReceiver<()>,
) {
    let mut attempt = 0;
    loop {
        match stream_once(streams, &with_window(EVENTS_URL, window()), &mut restarts).await {
            Ended::Restart => {
                attempt = 0;
                continue;
            }
            // The stream was up, so this is a fresh outage: start the backoff from the bottom.
            Ended::Failed { was_open: true } => attempt = 0,
            Ended::Failed { was_open: false } => {}
        }
        recheck_session(access).await;
        attempt += 1;
        let retry_in_ms = backoff_ms(attempt);
        streams.connection.state.set(ConnectionState::Reconnecting {
            attempt,
            retry_in_ms,
        });
        gloo_timers::future::TimeoutFuture::new(retry_in_ms).await;
    }
}

/// A JS event listener kept alive for as long as the connection is followed.
type Listener = Closure<dyn FnMut(web_sys::Event)>;

enum Incoming {
    Opened,
    /// SSE event name and data.
    Message(&'static str, String),
    Failed,
}

/// Follows one connection until it fails or another window is chosen.
async fn stream_once(
    streams: Streams,
    url: &str,
    restarts: &mut mpsc::UnboundedReceiver<()>,
) -> Ended {
    let Streams {
        store,
        connection,
        history,
        graph,
        freshness,
        plans,
    } = streams;
    let source = match web_sys::EventSource::new(url) {
        Ok(source) => source,
        Err(error) => {
            connection
                .problem
                .set(Some(format!("could not open the event stream: {error:?}")));
            return Ended::Failed { was_open: false };
        }
    };
    let (sender, mut receiver) = mpsc::unbounded();
    let mut listeners: Vec<(&'static str, Listener)> = Vec::new();
    let mut listen = |name: &'static str, make: fn(&'static str, web_sys::Event) -> Incoming| {
        let sender = sender.clone();
        let closure = Listener::new(move |event: web_sys::Event| {
            // The receiver lives as long as this connection; a send after it is gone is moot.
            let _ = sender.unbounded_send(make(name, event));
        });
        // Cannot fail for a live EventSource and a function argument.
        let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        listeners.push((name, closure));
    };
    listen("open", |_, _| Incoming::Opened);
    listen("error", |_, _| Incoming::Failed);
    // The names the server writes (`switchyard_protocol::events`, used by its SSE writer too).
    for name in events::ALL {
        listen(name, |name, event| {
            let data = event
                .dyn_into::<web_sys::MessageEvent>()
                .ok()
                .and_then(|message| message.data().as_string())
                .unwrap_or_default();
            Incoming::Message(name, data)
        });
    }

    let mut was_open = false;
    // What this connection's next graph delta applies to.
    let mut received = ReceivedGraph::default();
    let mut ended = None;
    loop {
        let incoming = futures::select! {
            incoming = receiver.next() => incoming,
            restart = restarts.next() => {
                if restart.is_none() {
                    // No view to follow any more; the stream goes on as it is.
                    continue;
                }
                ended = Some(Ended::Restart);
                None
            }
        };
        let Some(incoming) = incoming else { break };
        match incoming {
            Incoming::Opened => {
                was_open = true;
                connection.state.set(ConnectionState::Live);
            }
            Incoming::Message(name, data) => match decode_event(name, &data) {
                Ok(event) => {
                    was_open = true;
                    if matches!(event, ServerEvent::Routes(_)) {
                        // A full list heals whatever an unreadable event would have said.
                        connection.problem.set(None);
                    }
                    if let (Some(signal), ServerEvent::Routes(r)) = (freshness, &event) {
                        signal.set(Some(r.freshness.clone()));
                    }
                    if let (Some(signal), ServerEvent::Graph(g)) = (freshness, &event) {
                        signal.set(Some(g.freshness.clone()));
                    }
                    if let (Some(signal), ServerEvent::GraphDelta(d)) = (freshness, &event) {
                        signal.set(Some(d.freshness.clone()));
                    }
                    match event {
                        ServerEvent::Change(change) => {
                            if let Some(graph) = graph {
                                graph.apply_change(&change);
                            }
                            if let Some(history) = history {
                                history.record(change);
                            }
                        }
                        ServerEvent::Graph(snapshot) => {
                            let snapshot = received.snapshot(snapshot);
                            if let Some(graph) = graph {
                                graph.apply_graph(snapshot);
                            }
                        }
                        ServerEvent::GraphDelta(delta) => match received.delta(&delta) {
                            Ok(snapshot) => {
                                if let Some(graph) = graph {
                                    graph.apply_graph(snapshot);
                                }
                            }
                            Err(error) => {
                                // Reconnecting starts over with a whole snapshot.
                                connection.problem.set(Some(format!(
                                    "a graph update could not be applied ({error}); reloading the graph"
                                )));
                                break;
                            }
                        },
                        event @ (ServerEvent::Plan(_)
                        | ServerEvent::PlanDeleted { .. }
                        | ServerEvent::PlanEvent(_)) => {
                            if let Some(plans) = plans {
                                plans.apply(event);
                            }
                        }
                        event => store.apply(event),
                    }
                }
                Err(error) => connection.problem.set(Some(format!(
                    "an update from the server could not be read: {error}"
                ))),
            },
            // Any error, including the browser starting its own silent retry: close and retry
            // here, visibly.
            Incoming::Failed => break,
        }
    }
    source.close();
    for (name, closure) in &listeners {
        let _ = source.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
    }
    ended.unwrap_or(Ended::Failed { was_open })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        let delays: Vec<u32> = (1..=8).map(backoff_ms).collect();
        assert_eq!(
            delays,
            vec![500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]
        );
        assert_eq!(backoff_ms(0), 500);
        assert_eq!(backoff_ms(u32::MAX), 15_000);
    }

    #[test]
    fn events_decode_by_name() {
        let deleted = decode_event(
            "virtual_service_deleted",
            r#"{"type":"virtual_service_deleted","data":{"namespace":"hands-on","name":"review"}}"#,
        );
        assert_eq!(
            deleted,
            Ok(ServerEvent::VirtualServiceDeleted {
                namespace: "hands-on".into(),
                name: "review".into()
            })
        );
        let routes = decode_event(
            "routes",
            r#"{"type":"routes","data":{"virtual_services":[]}}"#,
        );
        assert!(matches!(routes, Ok(ServerEvent::Routes(_))));
        assert!(decode_event("routes", "{}").is_err());
        assert!(decode_event(
            "routes",
            r#"{"type":"virtual_service_deleted","data":{"namespace":"a","name":"b"}}"#
        )
        .is_err());
        assert!(decode_event("graph", r#"{"type":"graph","data":{}}"#).is_err());
        let graph = decode_event(
            "graph",
            r#"{"type":"graph","data":{"nodes":[],"edges":[],"splits":[],"metrics":{"fresh":true},"window_seconds":30,"generated_at":1.0}}"#,
        );
        assert!(matches!(graph, Ok(ServerEvent::Graph(g)) if g.window_seconds == 30));
        let change = decode_event(
            "change",
            r#"{"type":"change","data":{"id":"e1","time":"2026-11-27T16:40:05Z","user":"anonymous","source":"bulk","namespace":"hands-on","virtual_service":"review","route_index":1,"before":{"old":100,"new":0},"after":{"old":0,"new":100},"resource_version":"12"}}"#,
        );
        assert!(matches!(change, Ok(ServerEvent::Change(c)) if c.user == "anonymous"));
    }

    #[test]
    fn every_name_the_server_sends_is_decoded() {
        // Each protocol event, encoded as the server encodes it, decodes under its name.
        let samples = [
            ServerEvent::Routes(Default::default()),
            ServerEvent::VirtualServiceDeleted {
                namespace: "hands-on".into(),
                name: "review".into(),
            },
            ServerEvent::HttpRouteDeleted {
                namespace: "hands-on-gateway".into(),
                name: "review".into(),
            },
            ServerEvent::HttpRouteChanged(switchyard_protocol::HttpRouteRoutes {
                namespace: "hands-on-gateway".into(),
                name: "review".into(),
                resource_version: "3".into(),
                hosts: vec!["review".into()],
                routes: Vec::new(),
                weight_managers: Vec::new(),
            }),
            ServerEvent::Graph(Default::default()),
            ServerEvent::GraphDelta(Box::new(
                switchyard_protocol::GraphDelta::between(&Default::default(), &Default::default())
                    .unwrap(),
            )),
        ];
        for event in samples {
            let data = serde_json::to_string(&event).expect("encodes");
            assert_eq!(decode_event(events::name(&event), &data), Ok(event));
        }
        for name in events::ALL {
            // Known names fail on bad data, not as an unexpected event.
            let error = decode_event(name, "{}").unwrap_err();
            assert!(!error.starts_with("unexpected event"), "{name}: {error}");
        }
        assert_eq!(
            decode_event("gossip", "{}"),
            Err("unexpected event gossip".to_owned())
        );
    }

    #[test]
    fn a_delta_on_the_wire_leaves_the_same_graph_as_the_whole_snapshot() {
        use switchyard_protocol::{Edge, Graph, GraphDelta, Node, NodeKind};
        let node = |id: &str, rate_in: f64| Node {
            id: id.into(),
            kind: NodeKind::Workload,
            namespace: "hands-on".into(),
            name: id.into(),
            app: Some("review".into()),
            version: Some("v1".into()),
            rate_in,
        };
        let graph = |at: f64, rate: f64| Graph {
            nodes: vec![node("a", 0.1 + rate), node("b", 1.0 / 3.0)],
            edges: vec![Edge {
                id: "a->b".into(),
                source: "a".into(),
                target: "b".into(),
                rate: rate * 1.1,
                share: Some(100.0),
                error_share: rate / 7.0,
                p95_ms: Some(rate.sqrt()),
            }],
            generated_at: at,
            ..Graph::default()
        };
        let (old, new) = (graph(100.0, 2.0), graph(105.0, 2.7));
        let wire = |event: &ServerEvent| {
            let data = serde_json::to_string(event).unwrap();
            decode_event(events::name(event), &data).unwrap()
        };
        let delta = ServerEvent::GraphDelta(Box::new(GraphDelta::between(&old, &new).unwrap()));
        let mut received = ReceivedGraph::default();
        let ServerEvent::Graph(first) = wire(&ServerEvent::Graph(old)) else {
            panic!("not a graph")
        };
        received.snapshot(first);
        let ServerEvent::GraphDelta(delta) = wire(&delta) else {
            panic!("not a delta")
        };
        let ServerEvent::Graph(whole) = wire(&ServerEvent::Graph(new)) else {
            panic!("not a graph")
        };
        assert_eq!(received.delta(&delta), Ok(whole));
        // The same delta again no longer fits: its base is gone.
        assert!(received.delta(&delta).is_err());
        assert!(ReceivedGraph::default().delta(&delta).is_err());
    }

    #[test]
    fn decoding_by_name_matches_the_wire_type() {
        // The same bytes through the protocol's own Deserialize give the same event.
        let vs = r#"{"namespace":"hands-on","name":"review","resource_version":"9","hosts":["review"],"routes":[{"index":1,"match_summary":"all requests","destinations":[{"host":"review","subset":"old","weight":80,"requested_share":80.0,"observed_share":79.5},{"host":"review","subset":"new","weight":20,"requested_share":20.0,"observed_share":null}]}]}"#;
        let data = format!(r#"{{"type":"virtual_service_changed","data":{vs}}}"#);
        let ours = decode_event("virtual_service_changed", &data).expect("decodes");
        let theirs: ServerEvent = serde_json::from_str(&data).expect("protocol decodes");
        assert_eq!(ours, theirs);
    }
}
