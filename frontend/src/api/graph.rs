//! Reads for the graph view: the latest graph snapshot, to seed the store on load (the event
//! stream keeps it current afterwards).

use super::Error;
use switchyard_protocol::Graph;

/// `GET /api/v1/graph` over the rate window `window` (seconds), or the server's default (the
/// first call of a load takes the read [`super::preload`] started, if it was over that window).
pub async fn fetch_graph(window: Option<u32>) -> Result<Graph, Error> {
    super::preload::graph(window).await
}
