//! Reads for the graph view: the latest graph snapshot, to seed the store on load (the event
//! stream keeps it current afterwards).

use super::Error;
use switchyard_protocol::Graph;

/// `GET /api/v1/graph` (the first call of a load takes the read [`super::preload`] started).
pub async fn fetch_graph() -> Result<Graph, Error> {
    super::preload::graph().await
}
