//! Shared by the simulated-API-server tests: starts the server on 127.0.0.1:0 with fixed tokens and
//! writes kubeconfigs for it.

#![allow(dead_code)]

use std::path::PathBuf;
use switchyard_sim::api::{self, Authenticator};
use switchyard_sim::store::Store;

pub const ADMIN: &str = "admin-token";
pub const OPERATOR: &str = "operator-token";
pub const VIEWER: &str = "viewer-token";

pub struct Sim {
    pub url: String,
    pub store: Store,
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Sim {
    /// A server over a fresh store with the demo manifest loaded into `hands-on`.
    pub async fn start() -> Sim {
        let store = Store::new();
        api::load_manifest(&store, "hands-on", api::DEMO_MANIFEST).expect("demo manifest loads");
        Self::start_with(store).await
    }

    pub async fn start_with(store: Store) -> Sim {
        let auth = Authenticator::with_tokens(ADMIN, OPERATOR, VIEWER);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let app = api::router(store.clone(), auth);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Sim {
            url,
            store,
            dir: tempfile::tempdir().expect("tempdir"),
            server,
        }
    }

    /// A kubeconfig for `token`, default namespace `namespace`.
    pub fn kubeconfig(&self, token: &str, namespace: &str) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("kubeconfig-{token}-{namespace}"));
        api::write_kubeconfig(&path, &self.url, token, namespace).expect("write kubeconfig");
        path
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.server.abort();
    }
}
