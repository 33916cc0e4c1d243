//! The state every handler shares: cheap clones only.

use crate::cluster::Cluster;
use crate::live::Live;

#[derive(Clone)]
pub struct AppState {
    pub cluster: Cluster,
    pub live: Live,
}
