//! Loading multi-document YAML manifests straight into the store (what `switchyard demo` does at
//! start), and writing a kubeconfig that points kubectl at the simulated API server.

use serde::Deserialize;
use serde_json::{json, Value};
use std::path::Path;

use super::objects::{self, IpAllocator};
use super::resources;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("document {index}: invalid YAML: {message}")]
    Yaml { index: usize, message: String },
    #[error("document {index}: {api_version} {kind} is not a type the simulator serves")]
    UnknownType {
        index: usize,
        api_version: String,
        kind: String,
    },
    #[error("document {index}: {message}")]
    Rejected { index: usize, message: String },
}

/// Creates every object of a multi-document YAML manifest. Objects without `metadata.namespace` go
/// to `namespace`; the namespaces used are created first if missing. Returns how many manifest
/// objects were created (namespaces created on the way are not counted). Stops at the first
/// failure; objects created before it stay.
pub fn load_manifest(store: &Store, namespace: &str, yaml: &str) -> Result<usize, ManifestError> {
    let ips = IpAllocator::new(store.clone());
    let mut created = 0;
    for (index, document) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let value = Value::deserialize(document).map_err(|e| ManifestError::Yaml {
            index,
            message: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        let text = |f: &str| {
            value
                .get(f)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        let (def, version) = resources::by_api_version_kind(&api_version, &kind)
            .filter(|(d, _)| !d.review)
            .ok_or_else(|| ManifestError::UnknownType {
                index,
                api_version: api_version.clone(),
                kind: kind.clone(),
            })?;
        let rejected = |message: String| ManifestError::Rejected { index, message };
        let object_ns = objects::meta_str(&value, "namespace")
            .unwrap_or(namespace)
            .to_owned();
        if def.namespaced {
            objects::ensure_namespace(store, &object_ns, &ips).map_err(|e| rejected(e.message))?;
        }
        let (key, object) = objects::prepare_create(def, &version, &object_ns, value, &ips)
            .map_err(|e| rejected(e.message))?;
        let name = key.name.clone();
        store
            .create(key, object)
            .map_err(|e| rejected(objects::store_error(def, &name, e).message))?;
        created += 1;
    }
    Ok(created)
}

/// Writes a kubeconfig with cluster `switchyard-sim` (plain HTTP `server_url` plus the path prefix
/// `/token/{token}`), a user holding `token`, and a current context of the same name defaulting to
/// `namespace`. The file holds a credential, so it is created owner-readable only.
pub fn write_kubeconfig(
    path: &Path,
    server_url: &str,
    token: &str,
    namespace: &str,
) -> std::io::Result<()> {
    write_kubeconfig_users(path, server_url, &[("", token)], namespace)
}

/// Like [`write_kubeconfig`], with one cluster, user and context per `(suffix, token)`: the first
/// is `switchyard-sim` (current), the others `switchyard-sim-{suffix}` (e.g. `-operator`).
pub fn write_kubeconfig_users(
    path: &Path,
    server_url: &str,
    users: &[(&str, &str)],
    namespace: &str,
) -> std::io::Result<()> {
    let name = |suffix: &str| {
        if suffix.is_empty() {
            "switchyard-sim".to_owned()
        } else {
            format!("switchyard-sim-{suffix}")
        }
    };
    // kubectl sends no credentials to plain-HTTP servers, so the token also rides in the URL
    // (see `auth::split_token_prefix`); hence one cluster entry per user.
    let clusters: Vec<Value> = users
        .iter()
        .map(|(suffix, token)| {
            json!({"name": name(suffix), "cluster": {"server": format!("{}/token/{token}", server_url.trim_end_matches('/'))}})
        })
        .collect();
    let entries: Vec<Value> = users
        .iter()
        .map(|(suffix, token)| json!({"name": name(suffix), "user": {"token": token}}))
        .collect();
    let contexts: Vec<Value> = users
        .iter()
        .map(|(suffix, _)| {
            json!({"name": name(suffix), "context": {"cluster": name(suffix), "user": name(suffix), "namespace": namespace}})
        })
        .collect();
    let current = users
        .first()
        .map(|(suffix, _)| name(suffix))
        .unwrap_or_default();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": entries,
        "contexts": contexts,
        "current-context": current,
        "preferences": {},
    });
    let text = serde_yaml::to_string(&config).map_err(std::io::Error::other)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::keys;
    use crate::api::DEMO_MANIFEST;
    use crate::store::Key;

    #[test]
    fn demo_manifest_loads() {
        let store = Store::new();
        let created = load_manifest(&store, "hands-on", DEMO_MANIFEST).unwrap();
        assert_eq!(created, 17);
        assert!(store
            .get(&Key::new(keys::NAMESPACES, "", "hands-on"))
            .is_some());
        let (vs, _) = store.list(keys::VIRTUAL_SERVICES, Some("hands-on"));
        let names: Vec<&str> = vs
            .iter()
            .filter_map(|o| o["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, ["product", "recommendation", "review"]);
        assert_eq!(vs[0]["apiVersion"], "networking.istio.io/v1");
        // Loading twice is an AlreadyExists failure, not a silent duplicate.
        assert!(matches!(
            load_manifest(&store, "hands-on", DEMO_MANIFEST),
            Err(ManifestError::Rejected { .. })
        ));
    }

    #[test]
    fn bad_manifests_are_errors() {
        let store = Store::new();
        assert!(matches!(
            load_manifest(
                &store,
                "x",
                "apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"
            ),
            Err(ManifestError::UnknownType { .. })
        ));
        assert!(matches!(
            load_manifest(&store, "x", "a: [1,\n"),
            Err(ManifestError::Yaml { .. })
        ));
        assert_eq!(load_manifest(&store, "x", "---\n---\n").unwrap(), 0);
    }

    #[test]
    fn kubeconfig_is_parseable_by_kube_rs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        write_kubeconfig(&path, "http://127.0.0.1:1234", "tok", "hands-on").unwrap();
        let config = kube::config::Kubeconfig::read_from(&path).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("switchyard-sim"));
        let context = config.contexts[0].context.as_ref().unwrap();
        assert_eq!(context.namespace.as_deref(), Some("hands-on"));
    }

    #[test]
    fn kubeconfig_with_several_users_has_a_context_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        write_kubeconfig_users(
            &path,
            "http://127.0.0.1:1",
            &[("", "a"), ("viewer", "v")],
            "hands-on",
        )
        .unwrap();
        let config = kube::config::Kubeconfig::read_from(&path).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("switchyard-sim"));
        let names: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["switchyard-sim", "switchyard-sim-viewer"]);
        assert!(config.clusters[1]
            .cluster
            .as_ref()
            .unwrap()
            .server
            .as_deref()
            .unwrap()
            .ends_with("/token/v"));
    }
}
