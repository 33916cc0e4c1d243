//! Client-side state: the routes store the live stream patches, and the pure rules for a
//! person's unsaved weight drafts.

pub mod access;
pub mod graph;
pub mod history;
pub mod route_draft;
pub mod routes;
pub mod settings;
pub mod view_url;
