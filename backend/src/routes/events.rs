//! `GET /api/v1/events`: server-sent events. Each viewer gets the route list and the latest graph
//! over its rate window (`?window=S`, else the default) on connect, then every event the single
//! refresher publishes, graphs of that window only; viewers never cause calls to the cluster or
//! to Prometheus of their own.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use switchyard_protocol::{events, ServerEvent};
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
            Some(ServerEvent::Routes(routes))
        }
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
    let snapshots = move || {
        let mut events = vec![ServerEvent::Routes(live.routes())];
        events.extend(live.graph_now_over(window).map(ServerEvent::Graph));
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
        .map(|e| Ok(sse_event(&e)));
    // Signing out (on any replica) or the session's expiry ends the stream too.
    let auth = state.auth.clone();
    let stream =
        stream.take_until(async move { auth.session_ended(&headers, SESSION_CHECK).await });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
