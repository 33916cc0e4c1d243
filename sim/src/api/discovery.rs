//! Discovery documents: legacy (`/api`, `/apis`, `/apis/{group}`, the per-version resource lists)
//! and aggregated (`apidiscovery.k8s.io/v2`, which kubectl and kube-rs ask for first), plus
//! `/version`.

use serde_json::{json, Value};

use super::resources::{self, ResourceDef};

/// The Content-Type of an aggregated discovery answer.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an Accept header asks for aggregated discovery v2 (first choice wins: clients list it
/// before the plain JSON fallback).
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| {
        let params: Vec<&str> = first.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "switchyard-sim",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/`: the paths this server serves, as kube-apiserver lists them.
pub fn root_paths() -> Value {
    let mut paths = vec!["/api".to_owned(), "/api/v1".to_owned(), "/apis".to_owned()];
    for (group, versions) in resources::groups() {
        if group.is_empty() {
            continue;
        }
        paths.push(format!("/apis/{group}"));
        paths.extend(versions.iter().map(|v| format!("/apis/{group}/{v}")));
    }
    paths.extend(
        ["/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]
            .iter()
            .map(|p| (*p).to_owned()),
    );
    json!({ "paths": paths })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

pub fn api_group_list() -> Value {
    let groups: Vec<Value> = resources::groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(group: &str) -> Option<Value> {
    let (name, versions) = resources::groups()
        .into_iter()
        .find(|(g, _)| !g.is_empty() && *g == group)?;
    let mut doc = group_json(name, versions);
    if let Some(map) = doc.as_object_mut() {
        map.insert("kind".into(), json!("APIGroup"));
        map.insert("apiVersion".into(), json!("v1"));
    }
    Some(doc)
}

/// apimachinery's `discovery.StorageVersionHash`: base64 of the first 8 bytes of
/// SHA-256(`group/version/kind`) of the storage version. Clients (the storage version migrator)
/// compare it to notice a storage version change; this server's never changes.
pub fn storage_version_hash(def: &ResourceDef) -> String {
    use base64::Engine;
    use sha2::Digest;
    let gvk = format!("{}/{}/{}", def.group, def.storage_version(), def.kind);
    let digest = sha2::Sha256::digest(gvk.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn status_verbs(def: &ResourceDef) -> Option<&'static [&'static str]> {
    def.custom.then_some(&["get", "patch", "update"][..])
}

/// `APIResourceList` for one group version; `None` if it is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let defs = resources::in_group_version(group, version);
    if defs.is_empty() {
        return None;
    }
    let mut entries = Vec::new();
    for def in defs {
        let mut entry = json!({
            "name": def.plural,
            "singularName": def.singular,
            "namespaced": def.namespaced,
            "kind": def.kind,
            "verbs": def.verbs,
        });
        if !def.short_names.is_empty() {
            entry["shortNames"] = json!(def.short_names);
        }
        if !def.categories.is_empty() {
            entry["categories"] = json!(def.categories);
        }
        // Review types are never stored, so they have no storage version.
        if !def.review {
            entry["storageVersionHash"] = json!(storage_version_hash(def));
        }
        entries.push(entry);
        if let Some(verbs) = status_verbs(def) {
            entries.push(json!({
                "name": format!("{}/status", def.plural),
                "singularName": "",
                "namespaced": def.namespaced,
                "kind": def.kind,
                "verbs": verbs,
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut list = json!({
        "kind": "APIResourceList",
        "groupVersion": group_version,
        "resources": entries,
    });
    // The core group's list (`/api/v1`) goes out without apiVersion; the groups' lists with it.
    if !group.is_empty() {
        list["apiVersion"] = json!("v1");
    }
    Some(list)
}

/// Aggregated discovery for `/api` (`core == true`) or `/apis`.
pub fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = resources::groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = resources::in_group_version(group, version)
                        .into_iter()
                        .map(|def| {
                            // Built-in types leave group and version of responseKind
                            // empty; CRDs fill them in.
                            let kind = if def.custom {
                                json!({"group": group, "version": version, "kind": def.kind})
                            } else {
                                json!({"group": "", "version": "", "kind": def.kind})
                            };
                            let mut entry = json!({
                                "resource": def.plural,
                                "responseKind": kind,
                                "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": def.singular,
                                "verbs": def.verbs,
                            });
                            if !def.short_names.is_empty() {
                                entry["shortNames"] = json!(def.short_names);
                            }
                            if !def.categories.is_empty() {
                                entry["categories"] = json!(def.categories);
                            }
                            if let Some(verbs) = status_verbs(def) {
                                entry["subresources"] = json!([{
                                    "subresource": "status",
                                    "responseKind": kind,
                                    "verbs": verbs,
                                }]);
                            }
                            entry
                        })
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if group.is_empty() {
                json!({})
            } else {
                json!({"name": group})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_group_lists_its_three_versions_v1_preferred() {
        let doc = api_group("networking.istio.io").unwrap();
        assert_eq!(doc["preferredVersion"]["version"], "v1");
        assert_eq!(
            doc["versions"][1]["groupVersion"],
            "networking.istio.io/v1beta1"
        );
        let list = resource_list("networking.istio.io", "v1beta1").unwrap();
        let vs = &list["resources"][0];
        assert_eq!(vs["name"], "virtualservices");
        assert_eq!(vs["shortNames"], json!(["vs"]));
        assert_eq!(vs["categories"], json!(["istio-io", "networking-istio-io"]));
        assert_eq!(list["resources"][1]["name"], "virtualservices/status");
        assert_eq!(
            doc["versions"][2]["groupVersion"],
            "networking.istio.io/v1alpha3"
        );
        assert!(resource_list("networking.istio.io", "v1alpha3").is_some());
        assert!(resource_list("networking.istio.io", "v1alpha2").is_none());
        assert!(api_group("nope").is_none());
    }

    #[test]
    fn storage_version_hashes_match_kube_apiserver() {
        // As kube-apiserver 1.37 lists them in /apis/networking.istio.io/v1 and /api/v1.
        assert_eq!(
            storage_version_hash(&resources::VIRTUAL_SERVICES),
            "4myxAxwji4I="
        );
        assert_eq!(storage_version_hash(&resources::SERVICES), "0/CO1lhkEBI=");
        let list = resource_list("", "v1").unwrap();
        assert_eq!(list["resources"][0]["storageVersionHash"], "Q3oi5N2YM8M=");
    }

    #[test]
    fn aggregated_core_has_no_group_name() {
        let doc = aggregated(true);
        assert_eq!(doc["items"].as_array().unwrap().len(), 1);
        assert!(doc["items"][0]["metadata"].get("name").is_none());
        let apis = aggregated(false);
        assert!(apis["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["metadata"]["name"].is_string()));
    }

    #[test]
    fn accept_negotiation() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        ));
    }
}
