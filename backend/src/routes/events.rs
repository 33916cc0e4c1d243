//! `GET /api/v1/events`: server-sent events. Each viewer gets the route list, the latest graph
//! over its rate window (`?window=S`, else the default) and every release plan on connect, then
//! every event the single
//! refresher publishes, graphs of that window only; viewers never cause calls to the cluster or
//! to Prometheus of their own. A refresh whose topology is the one this stream sent last goes out
//! as a `graph_delta` (the numbers that moved, computed per stream after the caller's namespace
//! restriction, so a delta never names what the caller may not see); the whole `graph` goes out
//! first and whenever the topology changed.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use switchyard_protocol::{events, Graph, GraphDelta, ServerEvent};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use super::ChosenWindow;
use crate::auth::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

/// The SSE message for an event: its name is the event's tag, its data the whole event.
pub fn sse_event(event: &ServerEvent) -> Event {
    let name = events::name(event);
    Event::default()
        .event(name)
        .json_data(event)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

/// The part of an event the caller may see (namespaces they may list), or nothing.
pub fn visible_to(caller: &Caller, event: ServerEvent) -> Option<ServerEvent> {
    match event {
        ServerEvent::Routes(mut routes) => {
            routes
                .virtual_services
                .retain(|vs| caller.sees(&vs.namespace));
            routes.http_routes.retain(|hr| caller.sees(&hr.namespace));
            Some(ServerEvent::Routes(routes))
        }
        ServerEvent::HttpRouteChanged(route) => caller
            .sees(&route.namespace)
            .then_some(ServerEvent::HttpRouteChanged(route)),
        ServerEvent::HttpRouteDeleted { namespace, name } => caller
            .sees(&namespace)
            .then_some(ServerEvent::HttpRouteDeleted { namespace, name }),
        ServerEvent::VirtualServiceChanged(vs) => caller
            .sees(&vs.namespace)
            .then_some(ServerEvent::VirtualServiceChanged(vs)),
        ServerEvent::VirtualServiceDeleted { namespace, name } => caller
            .sees(&namespace)
            .then_some(ServerEvent::VirtualServiceDeleted { namespace, name }),
        ServerEvent::Graph(graph) => {
            Some(ServerEvent::Graph(crate::graph::restrict(&graph, |ns| {
                caller.sees(ns)
            })))
        }
        ServerEvent::Change(change) => caller
            .sees(&change.namespace)
            .then_some(ServerEvent::Change(change)),
        // Deltas are made per stream from graphs already restricted (`Deltas`); one arriving
        // here could not be restricted without its base, so it is not passed on.
        ServerEvent::GraphDelta(_) => None,
        ServerEvent::Plan(plan) => caller
            .sees(&plan.namespace)
            .then_some(ServerEvent::Plan(plan)),
        ServerEvent::PlanDeleted { namespace, id } => caller
            .sees(&namespace)
            .then_some(ServerEvent::PlanDeleted { namespace, id }),
        ServerEvent::PlanEvent(record) => caller
            .sees(&record.namespace)
            .then_some(ServerEvent::PlanEvent(record)),
    }
}

/// One stream's memory of the graph it sent last, turning each later graph of the same topology
/// into a delta against it.
#[derive(Default)]
pub struct Deltas {
    last: Option<Graph>,
}

impl Deltas {
    /// The event to send for `event`: a `graph` becomes a `graph_delta` when the graph sent
    /// before has the same topology; everything else passes unchanged.
    pub fn next(&mut self, event: ServerEvent) -> ServerEvent {
        let ServerEvent::Graph(graph) = event else {
            return event;
        };
        let delta = self
            .last
            .as_ref()
            .and_then(|last| GraphDelta::between(last, &graph));
        let out = match delta {
            Some(delta) => ServerEvent::GraphDelta(Box::new(delta)),
            None => ServerEvent::Graph(graph.clone()),
        };
        self.last = Some(graph);
        out
    }
}

/// How often an open stream checks that its session still holds.
const SESSION_CHECK: Duration = Duration::from_secs(5);

async fn events(
    State(state): State<AppState>,
    ChosenWindow(window): ChosenWindow,
    headers: axum::http::HeaderMap,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before taking the snapshots so no change falls between the two.
    let changes = BroadcastStream::new(state.live.subscribe());
    let live = state.live.clone();
    let plans = state.plans.clone();
    let snapshots = move || {
        let mut events = vec![ServerEvent::Routes(live.routes())];
        events.extend(live.graph_now_over(window).map(ServerEvent::Graph));
        if let Some(plans) = &plans {
            events.extend(
                plans
                    .views()
                    .into_iter()
                    .map(|p| ServerEvent::Plan(Box::new(p))),
            );
        }
        events
    };
    let first = snapshots();
    let rest = changes.flat_map(move |event| {
        let events = match event {
            // Graphs of the other windows are for other viewers.
            Ok(ServerEvent::Graph(graph)) if graph.window_seconds != window => vec![],
            Ok(event) => vec![event],
            // A viewer that fell behind gets fresh snapshots instead of the events it missed.
            Err(BroadcastStreamRecvError::Lagged(_)) => snapshots(),
        };
        stream::iter(events)
    });
    let stream = stream::iter(first)
        .chain(rest)
        .filter_map(move |e| futures::future::ready(visible_to(&caller, e)))
        .scan(Deltas::default(), |deltas, e| {
            futures::future::ready(Some(deltas.next(e)))
        })
        .map(|e| Ok(sse_event(&e)));
    // Signing out (on any replica) or the session's expiry ends the stream too.
    let auth = state.auth.clone();
    let stream =
        stream.take_until(async move { auth.session_ended(&headers, SESSION_CHECK).await });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Edge, Node, NodeKind};

    fn node(namespace: &str, name: &str, rate_in: f64) -> Node {
        Node {
            id: format!("wl:{namespace}:{name}"),
            kind: NodeKind::Workload,
            namespace: namespace.into(),
            name: name.into(),
            app: Some(name.into()),
            version: Some("v1".into()),
            rate_in,
        }
    }

    fn edge(from: &Node, to: &Node, rate: f64) -> Edge {
        Edge {
            id: format!("{}->{}", from.id, to.id),
            source: from.id.clone(),
            target: to.id.clone(),
            rate,
            share: Some(100.0),
            error_share: 0.0,
            p95_ms: Some(rate),
        }
    }

    /// Two namespaces: `a` (two workloads) and `b` (one), with traffic within each.
    fn graph(at: f64, rate: f64) -> Graph {
        let nodes = vec![
            node("a", "front", rate),
            node("a", "back", rate / 2.0),
            node("b", "secret", rate * 3.0),
            node("b", "hidden", rate * 4.0),
        ];
        Graph {
            edges: vec![
                edge(&nodes[0], &nodes[1], rate),
                edge(&nodes[2], &nodes[3], rate * 5.0),
            ],
            nodes,
            generated_at: at,
            ..Graph::default()
        }
    }

    #[test]
    fn a_stream_sends_the_first_graph_whole_then_deltas_that_rebuild_what_the_caller_sees() {
        let only_a = |g: &Graph| crate::graph::restrict(g, |ns| ns == "a");
        let mut deltas = Deltas::default();
        let first = deltas.next(ServerEvent::Graph(only_a(&graph(100.0, 1.0))));
        let ServerEvent::Graph(mut shown) = first else {
            panic!("the first graph goes out whole: {first:?}")
        };
        for (i, at) in [105.0, 110.0, 115.0].into_iter().enumerate() {
            let next = only_a(&graph(at, 2.0 + i as f64));
            let ServerEvent::GraphDelta(delta) = deltas.next(ServerEvent::Graph(next.clone()))
            else {
                panic!("a refresh of the same topology goes out as a delta")
            };
            // Numbers of the caller's namespace only: two nodes and one edge, never b's.
            assert!(
                delta.nodes.i.len() <= 2 && delta.edges.i.len() <= 1,
                "{delta:?}"
            );
            shown = delta.apply(&shown).expect("applies to what was sent");
            assert_eq!(shown, next);
        }
        // A topology change goes out whole again.
        let mut grown = only_a(&graph(120.0, 9.0));
        grown.nodes.push(node("a", "new", 1.0));
        assert!(matches!(
            deltas.next(ServerEvent::Graph(grown)),
            ServerEvent::Graph(_)
        ));
        // Other events pass as they are.
        let deleted = ServerEvent::VirtualServiceDeleted {
            namespace: "a".into(),
            name: "x".into(),
        };
        assert_eq!(deltas.next(deleted.clone()), deleted);
    }
}
