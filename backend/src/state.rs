//! The state every handler shares: cheap clones only.

use crate::cluster::Cluster;

#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
}
