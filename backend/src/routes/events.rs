//! `GET /api/v1/events`: server-sent events. Each viewer gets the full route list on connect, then
//! every change the cluster watches see; viewers never cause calls to the cluster of their own.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;
use switchyard_protocol::{RoutesResponse, ServerEvent};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::cluster::{Change, Cluster};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

fn snapshot(cluster: &Cluster) -> ServerEvent {
    ServerEvent::Routes(RoutesResponse {
        virtual_services: cluster.virtual_services(),
    })
}

/// The SSE message for an event: its name is the event's tag, its data the whole event.
pub fn sse_event(event: &ServerEvent) -> Event {
    let name = match event {
        ServerEvent::Routes(_) => "routes",
        ServerEvent::VirtualServiceChanged(_) => "virtual_service_changed",
        ServerEvent::VirtualServiceDeleted { .. } => "virtual_service_deleted",
        ServerEvent::Graph(_) => "graph",
    };
    Event::default()
        .event(name)
        .json_data(event)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before taking the snapshot so no change falls between the two.
    let changes = BroadcastStream::new(state.cluster.subscribe());
    let first = snapshot(&state.cluster);
    let cluster = state.cluster.clone();
    let rest = changes.map(move |change| match change {
        Ok(Change::VirtualServiceChanged(vs)) => ServerEvent::VirtualServiceChanged(vs),
        Ok(Change::VirtualServiceDeleted { namespace, name }) => {
            ServerEvent::VirtualServiceDeleted { namespace, name }
        }
        // After a re-list, or when this viewer fell behind, a full snapshot repairs its picture.
        Ok(Change::Resynced | Change::TopologyChanged)
        | Err(BroadcastStreamRecvError::Lagged(_)) => snapshot(&cluster),
    });
    let stream = stream::once(async move { first })
        .chain(rest)
        .map(|e| Ok(sse_event(&e)));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
