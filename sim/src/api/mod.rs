//! Kubernetes API server subset over the simulated store (discovery, CRUD, watch, patch, auth).
//!
//! Real kubectl and kube-rs talk to it over plain HTTP as they would to a cluster: the paths,
//! status codes, `Status` errors, watch streams and patch semantics follow kube-apiserver (see
//! `docs/kubernetes-api.md` for each behaviour and its source; the contract suite in
//! `testkit/tests/contract.rs` compares them with a real one, and `docs/sim-divergences.md` lists
//! where they still differ). Everything runs in one axum fallback
//! handler because Kubernetes paths (`/api/v1/namespaces/{ns}` vs `/api/v1/namespaces/{ns}/pods`)
//! overlap in ways a route table would have to special-case anyway.

mod auth;
mod discovery;
mod gateway;
mod manifest;
mod objects;
mod openapi;
mod patch;
mod protobuf;
pub mod resources;
mod selector;
mod server;
mod status;
mod table;
mod watch;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

pub use auth::{Authenticator, Identity};
pub use manifest::{load_manifest, write_kubeconfig, write_kubeconfig_users, ManifestError};

use crate::store::Store;
use status::ApiError;

/// The demo namespace's services, deployments, DestinationRules and VirtualServices.
pub const DEMO_MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../demo/hands-on.yaml"
));

/// The second demo namespace: the same shop with one Service per version, routed by Gateway API
/// HTTPRoutes attached to each service (GAMMA) behind an ambient waypoint.
pub const GATEWAY_MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../demo/hands-on-gateway.yaml"
));

/// The whole API server, state inside. Serve it with `axum::serve`.
pub fn router(store: Store, auth: Authenticator) -> Router {
    Router::new()
        .fallback(server::handle)
        .with_state(server::ApiState {
            ips: objects::IpAllocator::new(store.clone()),
            store,
            auth,
        })
}

/// How a response body is shaped, from the `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Object,
    /// `meta.k8s.io` Table; `include_object` is the `includeObject` parameter (`Metadata` default).
    Table {
        include_object: &'static str,
    },
    /// `PartialObjectMetadata(List)`.
    Metadata,
}

impl Format {
    /// Picks the first media range of `Accept` this server can produce; JSON when none is given.
    fn negotiate(accept: &str, params: &server::QueryParams) -> Result<Self, ApiError> {
        if accept.trim().is_empty() {
            return Ok(Format::Object);
        }
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let params_of_range: Vec<&str> = parts.collect();
            let has = |p: &str| params_of_range.iter().any(|x| x.eq_ignore_ascii_case(p));
            if !matches!(media.as_str(), "application/json" | "*/*" | "application/*") {
                continue;
            }
            if has("as=Table") {
                if has("g=meta.k8s.io") && (has("v=v1") || has("v=v1beta1")) {
                    let include_object = match params.get("includeObject") {
                        Some("None") => "None",
                        Some("Object") => "Object",
                        _ => "Metadata",
                    };
                    return Ok(Format::Table { include_object });
                }
                continue;
            }
            if has("as=PartialObjectMetadataList") || has("as=PartialObjectMetadata") {
                if has("g=meta.k8s.io") && (has("v=v1") || has("v=v1beta1")) {
                    return Ok(Format::Metadata);
                }
                continue;
            }
            if params_of_range.iter().any(|p| p.starts_with("as=")) {
                continue;
            }
            return Ok(Format::Object);
        }
        Err(ApiError {
            code: 406,
            reason: "NotAcceptable",
            message: "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf".to_owned(),
            details: None,
        })
    }
}

impl Format {
    /// The response. kube-apiserver labels a Table or PartialObjectMetadata body plain
    /// `application/json` (the shape is in its `kind`), as it does every JSON body.
    fn respond(self, code: StatusCode, body: &Value) -> Response {
        json_response(code, body)
    }
}

/// A JSON response as the API server writes it.
pub(crate) fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
