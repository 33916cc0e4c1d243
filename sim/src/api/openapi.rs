//! OpenAPI v3 discovery (`/openapi/v3` and one document per group version), as far as kubectl
//! reads it.
//!
//! kubectl 1.32 `apply`/`create`/`replace` (default `--validate=strict`) ask OpenAPI v3 whether the
//! server supports the `fieldValidation` query parameter for the object's kind (a PATCH operation
//! tagged with `x-kubernetes-group-version-kind` that lists the parameter). If it does, kubectl
//! sends `fieldValidation=Strict` and leaves validation to the server; if OpenAPI is missing it
//! falls back to downloading `/openapi/v2` for client-side validation and fails when that is
//! missing too. So the documents here describe every served path and operation honestly, with
//! object schemas that preserve unknown fields: this server keeps every field it is given, so
//! strict validation never finds an unknown one. No component schema names a built-in kind, so
//! kubectl computes strategic merge patches for built-in types from its compiled-in types, as it
//! does for a server without OpenAPI v2. `/openapi/v2` is not served (404).
//!
//! The Istio kinds do get their component schemas (`io.istio.networking.<version>.<Kind>`, tagged
//! with their GVK, with the ObjectMeta schemas they refer to), which `kubectl explain` reads:
//! `openapi_istio.json` holds them as kube-apiserver 1.37 publishes them from the Istio CRDs of
//! istio.io/api v1.32.0 (<https://github.com/istio/api/blob/v1.32.0/kubernetes/customresourcedefinitions.gen.yaml>);
//! the schema is the same in every served version. kubectl still patches them with merge
//! patches: their PATCH operations do not offer strategic merge.

use axum::http::Uri;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

use super::resources::{self, ResourceDef};
use super::status::ApiError;

/// The document at `/openapi/{rest}`.
pub fn document(rest: &[&str], _uri: &Uri) -> Result<Value, ApiError> {
    match rest {
        ["v3"] => Ok(index()),
        ["v3", "api", version] => group_version("", version),
        ["v3", "apis", group, version] => group_version(group, version),
        _ => Err(ApiError::no_such_path()),
    }
}

/// `{"kinds": {Kind: schema}, "meta": {name: schema}}` for the Istio kinds.
const ISTIO_SCHEMAS: &str = include_str!("openapi_istio.json");

fn istio_schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| serde_json::from_str(ISTIO_SCHEMAS).unwrap_or(Value::Null))
}

/// The component schemas of a group version's custom kinds (empty for built-in groups).
fn component_schemas(defs: &[&ResourceDef], version: &str) -> Map<String, Value> {
    let schemas = istio_schemas();
    let mut out = Map::new();
    for def in defs.iter().filter(|d| d.custom) {
        let Some(schema) = schemas["kinds"].get(def.kind) else {
            continue;
        };
        let mut schema = schema.clone();
        schema["x-kubernetes-group-version-kind"] =
            json!([{"group": def.group, "kind": def.kind, "version": version}]);
        let prefix = def.group.split('.').rev().collect::<Vec<_>>().join(".");
        out.insert(format!("{prefix}.{version}.{}", def.kind), schema);
        if let Some(meta) = schemas["meta"].as_object() {
            out.extend(meta.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    out
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A stable content hash for the `?hash=` cache key clients use (FNV-1a; documents only change
/// with the binary).
fn hash(doc: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

fn index() -> Value {
    let mut paths = Map::new();
    for (group, versions) in resources::groups() {
        for version in versions {
            let Ok(doc) = group_version(group, version) else {
                continue;
            };
            let path = gv_path(group, version);
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", hash(&doc))}),
            );
        }
    }
    json!({ "paths": paths })
}

fn string_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
           "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params(with_force: bool) -> Vec<Value> {
    let mut params = vec![
        string_param("dryRun", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"),
        string_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
        string_param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict. This server keeps every field, so no field is unknown to it."),
    ];
    if with_force {
        params.push(json!({"name": "force", "in": "query",
                           "description": "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.",
                           "schema": {"type": "boolean", "uniqueItems": true}}));
    }
    params
}

fn operation(
    def: &ResourceDef,
    version: &str,
    action: &str,
    params: Vec<Value>,
    body_types: &[&str],
) -> Value {
    let object = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let mut op = json!({
        "operationId": format!("{action}{}{}", def.kind, version),
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": object}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": def.group, "version": version, "kind": def.kind},
    });
    if !body_types.is_empty() {
        let content: Map<String, Value> = body_types
            .iter()
            .map(|t| ((*t).to_owned(), json!({"schema": object})))
            .collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

fn group_version(group: &str, version: &str) -> Result<Value, ApiError> {
    let defs = resources::in_group_version(group, version);
    if defs.is_empty() {
        return Err(ApiError::no_such_path());
    }
    let prefix = format!("/{}", gv_path(group, version));
    let path_param = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}});
    let mut paths = Map::new();
    for def in defs.iter().copied() {
        let collection = if def.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", def.plural)
        } else {
            format!("{prefix}/{}", def.plural)
        };
        let scope_params: Vec<Value> = if def.namespaced {
            vec![path_param("namespace")]
        } else {
            vec![]
        };
        let mut coll_ops = Map::new();
        coll_ops.insert("parameters".into(), json!(scope_params));
        coll_ops.insert(
            "post".into(),
            operation(
                def,
                version,
                "post",
                write_params(false),
                &["application/json", "application/yaml"],
            ),
        );
        if def.has_verb("list") {
            coll_ops.insert("get".into(), operation(def, version, "list", vec![], &[]));
        }
        paths.insert(collection.clone(), Value::Object(coll_ops));
        if def.review {
            continue;
        }
        let mut patch_types = vec![
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ];
        if !def.custom {
            patch_types.push("application/strategic-merge-patch+json");
        }
        let mut item_params = scope_params.clone();
        item_params.push(path_param("name"));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "parameters": item_params,
                "get": operation(def, version, "get", vec![], &[]),
                "put": operation(def, version, "put", write_params(false), &["application/json", "application/yaml"]),
                "patch": operation(def, version, "patch", write_params(true), &patch_types),
                "delete": operation(def, version, "delete", vec![string_param("dryRun", "When present, indicates that modifications should not be persisted.")], &[]),
            }),
        );
    }
    Ok(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": component_schemas(&defs, version)},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_every_group_version() {
        let doc = index();
        let paths = doc["paths"].as_object().unwrap();
        for key in [
            "api/v1",
            "apis/apps/v1",
            "apis/networking.istio.io/v1",
            "apis/networking.istio.io/v1beta1",
        ] {
            let url = paths[key]["serverRelativeURL"].as_str().unwrap();
            assert!(
                url.starts_with(&format!("/openapi/v3/{key}?hash=")),
                "{url}"
            );
        }
    }

    #[test]
    fn patch_operations_advertise_field_validation() {
        let doc = group_version("networking.istio.io", "v1beta1").unwrap();
        let patch = &doc["paths"]
            ["/apis/networking.istio.io/v1beta1/namespaces/{namespace}/virtualservices/{name}"]
            ["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["version"],
            "v1beta1"
        );
        assert!(patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        let content = patch["requestBody"]["content"].as_object().unwrap();
        assert!(!content.contains_key("application/strategic-merge-patch+json"));
        assert!(document(&["v3", "apis", "nope", "v1"], &Uri::from_static("/")).is_err());
        assert!(document(&["v2"], &Uri::from_static("/")).is_err());
    }

    #[test]
    fn istio_kinds_have_component_schemas_for_explain() {
        assert!(istio_schemas().is_object(), "openapi_istio.json parses");
        let doc = group_version("networking.istio.io", "v1beta1").unwrap();
        let vs = &doc["components"]["schemas"]["io.istio.networking.v1beta1.VirtualService"];
        assert_eq!(
            vs["x-kubernetes-group-version-kind"],
            json!([{"group": "networking.istio.io", "kind": "VirtualService", "version": "v1beta1"}])
        );
        let weight = vs.pointer(
            "/properties/spec/properties/http/items/properties/route/items/properties/weight",
        );
        assert_eq!(weight.map(|w| w["type"].clone()), Some(json!("integer")));
        assert!(
            doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
                .is_object()
        );
        // Built-in groups name no kind.
        let apps = group_version("apps", "v1").unwrap();
        assert_eq!(apps["components"]["schemas"], json!({}));
    }
}
