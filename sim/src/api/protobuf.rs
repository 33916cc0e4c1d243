//! Decoding the protobuf request bodies kubectl's typed clients send (`kubectl create namespace`,
//! `kubectl auth can-i`): `application/vnd.kubernetes.protobuf` is the `k8s\0` magic followed by a
//! `runtime.Unknown` envelope whose `raw` is the object.
//!
//! Only the types those commands send are declared, with the field numbers of k8s.io/api's
//! `generated.proto`; prost does the wire format and skips fields not declared here. Other types
//! sent as protobuf get 415, as a server that does not speak protobuf would answer.

use prost::Message;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct ObjectMeta {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "2")]
    generate_name: Option<String>,
    #[prost(string, optional, tag = "3")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "6")]
    resource_version: Option<String>,
    #[prost(btree_map = "string, string", tag = "11")]
    labels: BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    annotations: BTreeMap<String, String>,
    #[prost(string, repeated, tag = "14")]
    finalizers: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Namespace {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<NamespaceSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct NamespaceSpec {
    #[prost(string, repeated, tag = "1")]
    finalizers: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReview {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<SelfSubjectAccessReviewSpec>,
}

#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReviewSpec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    non_resource_attributes: Option<NonResourceAttributes>,
}

#[derive(Clone, PartialEq, Message)]
struct ResourceAttributes {
    #[prost(string, optional, tag = "1")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
    #[prost(string, optional, tag = "3")]
    group: Option<String>,
    #[prost(string, optional, tag = "4")]
    version: Option<String>,
    #[prost(string, optional, tag = "5")]
    resource: Option<String>,
    #[prost(string, optional, tag = "6")]
    subresource: Option<String>,
    #[prost(string, optional, tag = "7")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct NonResourceAttributes {
    #[prost(string, optional, tag = "1")]
    path: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
}

/// Why a protobuf body was not turned into JSON.
#[derive(Debug, PartialEq)]
pub enum DecodeError {
    /// Not a Kubernetes protobuf envelope, or corrupt.
    Malformed(String),
    /// A well-formed body of a type this server does not decode from protobuf.
    UnsupportedKind(String),
}

/// Decodes a protobuf body into the JSON object the API would have received as JSON.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| DecodeError::Malformed("missing protobuf magic".into()))?;
    let unknown = Unknown::decode(envelope).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let malformed = |e: prost::DecodeError| DecodeError::Malformed(e.to_string());
    let mut object = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => {
            let ns = Namespace::decode(raw.as_slice()).map_err(malformed)?;
            let mut object = json!({"metadata": meta_json(ns.metadata.unwrap_or_default())});
            if let Some(spec) = ns.spec {
                object["spec"] = json!({"finalizers": spec.finalizers});
            }
            object
        }
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
            let review = SelfSubjectAccessReview::decode(raw.as_slice()).map_err(malformed)?;
            let spec = review.spec.unwrap_or_default();
            let mut spec_json = Map::new();
            if let Some(attrs) = spec.resource_attributes {
                let mut fields = Map::new();
                for (key, value) in [
                    ("namespace", attrs.namespace),
                    ("verb", attrs.verb),
                    ("group", attrs.group),
                    ("version", attrs.version),
                    ("resource", attrs.resource),
                    ("subresource", attrs.subresource),
                    ("name", attrs.name),
                ] {
                    if let Some(value) = value {
                        fields.insert(key.into(), json!(value));
                    }
                }
                spec_json.insert("resourceAttributes".into(), Value::Object(fields));
            }
            if let Some(attrs) = spec.non_resource_attributes {
                spec_json.insert(
                    "nonResourceAttributes".into(),
                    json!({"path": attrs.path.unwrap_or_default(), "verb": attrs.verb.unwrap_or_default()}),
                );
            }
            json!({"metadata": meta_json(review.metadata.unwrap_or_default()), "spec": spec_json})
        }
        _ => {
            return Err(DecodeError::UnsupportedKind(format!(
                "{api_version} {kind}"
            )))
        }
    };
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
    }
    Ok(object)
}

fn meta_json(meta: ObjectMeta) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        ("name", meta.name),
        ("generateName", meta.generate_name),
        ("namespace", meta.namespace),
        ("resourceVersion", meta.resource_version),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.insert(key.into(), json!(value));
        }
    }
    if !meta.labels.is_empty() {
        out.insert("labels".into(), json!(meta.labels));
    }
    if !meta.annotations.is_empty() {
        out.insert("annotations".into(), json!(meta.annotations));
    }
    if !meta.finalizers.is_empty() {
        out.insert("finalizers".into(), json!(meta.finalizers));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let mut body = MAGIC.to_vec();
        Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(raw),
        }
        .encode(&mut body)
        .unwrap();
        body
    }

    #[test]
    fn namespace_round_trip() {
        let ns = Namespace {
            metadata: Some(ObjectMeta {
                name: Some("fresh-ns".into()),
                labels: [("a".to_owned(), "b".to_owned())].into(),
                ..Default::default()
            }),
            spec: None,
        };
        let body = envelope("v1", "Namespace", ns.encode_to_vec());
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "fresh-ns", "labels": {"a": "b"}}})
        );
    }

    #[test]
    fn access_review_round_trip() {
        let review = SelfSubjectAccessReview {
            metadata: None,
            spec: Some(SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some("hands-on".into()),
                    verb: Some("patch".into()),
                    group: Some("networking.istio.io".into()),
                    resource: Some("virtualservices".into()),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
        };
        let body = envelope(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            review.encode_to_vec(),
        );
        let json = decode(&body).unwrap();
        assert_eq!(json["spec"]["resourceAttributes"]["verb"], "patch");
        assert_eq!(json["spec"]["resourceAttributes"]["namespace"], "hands-on");
    }

    #[test]
    fn garbage_is_rejected_not_panicking() {
        assert!(matches!(decode(b"nope"), Err(DecodeError::Malformed(_))));
        assert!(matches!(
            decode(b"k8s\0\xff\xff\xff"),
            Err(DecodeError::Malformed(_))
        ));
        let pod = envelope("v1", "Pod", vec![]);
        assert!(matches!(decode(&pod), Err(DecodeError::UnsupportedKind(_))));
    }
}
