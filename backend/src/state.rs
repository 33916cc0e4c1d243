//! The state every handler shares: cheap clones only.

use crate::auth::{Auth, Caller};
use crate::cluster::Cluster;
use crate::error::Error;
use crate::live::Live;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchyard_protocol::Subsets;

#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
    pub live: Live,
    pub auth: Auth,
    /// Subset names of the old and the new version (`old`/`new` by default): what rollback
    /// means by "old", and what the page's bulk shift and rollback offer (`GET /api/v1/settings`).
    pub subsets: Subsets,
}

impl AppState {
    /// State with the default subset names `old` and `new`.
    pub fn new(cluster: Cluster, live: Live, auth: Auth) -> Self {
        AppState {
            cluster,
            live,
            auth,
            subsets: Subsets::default(),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.auth.caller(parts).await.map_err(Error::from)
    }
}
