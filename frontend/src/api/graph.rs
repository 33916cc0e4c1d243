//! Reads for the graph view: the latest graph snapshot, to seed the store on load (the event
//! stream keeps it current afterwards).

use super::{client::get_json, Error};
use switchyard_protocol::Graph;

/// `GET /api/v1/graph`.
pub async fn fetch_graph() -> Result<Graph, Error> {
    get_json("/api/v1/graph").await
}
