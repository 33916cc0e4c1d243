//! Serves the built browser app (index.html, wasm, JS glue, CSS) embedded in the binary.

use axum::Router;

/// Routes for the embedded UI; placeholder until the build pipeline lands.
pub fn router() -> Router {
    Router::new()
}
