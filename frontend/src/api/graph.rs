//! Reads for the graph view: the latest graph snapshot, to seed the store on load (the event
//! stream keeps it current afterwards).

use super::{client::get_json, Error};
use switchyard_protocol::Graph;

/// `GET /api/v1/graph` over the rate window `window` (seconds), or the server's default.
pub async fn fetch_graph(window: Option<u32>) -> Result<Graph, Error> {
    get_json(&super::events::with_window("/api/v1/graph", window)).await
}
