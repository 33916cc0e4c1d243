//! Object-level operations shared by the HTTP handlers and manifest loading: create with defaulting,
//! version conversion (all versions of a type share storage; only `apiVersion` differs), and the
//! small amount of server-side defaulting real clusters do (namespace phase, service cluster IPs).

use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::resources::{self, ResourceDef, HTTP_ROUTES};
use super::status::ApiError;
use crate::store::{Key, Store, StoreError};

/// Hands out service cluster IPs from 10.96.0.0/12, as kube-apiserver's default range, skipping
/// addresses held by services already in the store (so the manifest loader and the HTTP server,
/// which each have one, do not collide).
#[derive(Clone)]
pub struct IpAllocator {
    store: Store,
    next: Arc<AtomicU32>,
}

impl IpAllocator {
    pub fn new(store: Store) -> Self {
        IpAllocator {
            store,
            next: Arc::new(AtomicU32::new(0)),
        }
    }

    fn next(&self) -> String {
        let (services, _) = self
            .store
            .list(&resources::SERVICES.qualified_resource(), None);
        let used: std::collections::HashSet<&str> = services
            .iter()
            .filter_map(|s| s.pointer("/spec/clusterIP").and_then(Value::as_str))
            .collect();
        loop {
            // Skip 10.96.0.0 and .1 (the `kubernetes` service) like a fresh cluster does.
            let n = self.next.fetch_add(1, Ordering::Relaxed) % ((1 << 20) - 2) + 2;
            let ip = (10u32 << 24) | (96 << 16) | n;
            let text = format!(
                "{}.{}.{}.{}",
                ip >> 24,
                (ip >> 16) & 255,
                (ip >> 8) & 255,
                ip & 255
            );
            if !used.contains(text.as_str()) || used.len() >= (1 << 20) - 2 {
                return text;
            }
        }
    }
}

pub fn key(def: &ResourceDef, namespace: &str, name: &str) -> Key {
    let namespace = if def.namespaced { namespace } else { "" };
    Key::new(&def.qualified_resource(), namespace, name)
}

/// The object as served in `version`.
pub fn versioned(def: &ResourceDef, version: &str, object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), json!(def.api_version(version)));
        map.insert("kind".into(), json!(def.kind));
    }
    out
}

/// Maps a store failure for object `name` to the API's error.
pub fn store_error(def: &ResourceDef, name: &str, err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => ApiError::not_found(def, name),
        StoreError::AlreadyExists => ApiError::already_exists(def, name),
        StoreError::Conflict => ApiError::conflict(def, name),
        StoreError::Expired { requested, oldest } => {
            ApiError::expired(format!("too old resource version: {requested} ({oldest})"))
        }
        StoreError::TooLarge { requested, current } => {
            ApiError::resource_version_too_large(requested, current)
        }
        StoreError::Rejected(message) => ApiError::internal(message),
    }
}

pub fn metadata(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata").and_then(Value::as_object)
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    metadata(object)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = object.as_object_mut()?;
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut()
}

/// Checks the `apiVersion`/`kind` a body carries against the URL's, and fills them in when absent.
pub fn check_type(def: &ResourceDef, version: &str, object: &mut Value) -> Result<(), ApiError> {
    let expected = def.api_version(version);
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != expected => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({expected})"
            )))
        }
        _ => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if k != def.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                def.kind
            )))
        }
        _ => {}
    }
    map.insert("apiVersion".into(), json!(expected));
    map.insert("kind".into(), json!(def.kind));
    Ok(())
}

/// Validates a name as a DNS subdomain (RFC 1123), what most resource types require.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Prepares a new object: type fields, name (or generateName), namespace, defaults. Does not store.
pub fn prepare_create(
    def: &ResourceDef,
    version: &str,
    namespace: &str,
    mut object: Value,
    ips: &IpAllocator,
) -> Result<(Key, Value), ApiError> {
    check_type(def, version, &mut object)?;
    let meta = metadata_mut(&mut object)
        .ok_or_else(|| ApiError::bad_request("the body of the request must be a JSON object"))?;
    if meta
        .get("resourceVersion")
        .and_then(Value::as_str)
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if def.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            _ => {
                meta.insert("namespace".into(), json!(namespace));
            }
        }
    } else {
        meta.remove("namespace");
    }
    let name = match meta
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        Some(name) => name.to_owned(),
        None => match meta.get("generateName").and_then(Value::as_str) {
            Some(prefix) if !prefix.is_empty() => {
                let suffix: String = uuid::Uuid::new_v4().simple().to_string()[..5].to_owned();
                format!("{prefix}{suffix}")
            }
            _ => return Err(ApiError::name_required(def)),
        },
    };
    if !valid_name(&name) {
        return Err(ApiError::invalid(
            &def.qualified_kind(),
            def.kind,
            def.group,
            &name,
            "metadata.name",
            &format!("Invalid value: {}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", serde_json::to_string(&name).unwrap_or_default()),
            "FieldValueInvalid",
        ));
    }
    meta.insert("name".into(), json!(name));
    for managed in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        meta.remove(managed);
    }
    if def.has_generation() {
        meta.insert("generation".into(), json!(1));
    }
    if def.custom {
        // `status` is a subresource: creates do not set it.
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
    }
    apply_defaults(def, &name, &mut object, None, ips);
    validate(def, &name, &object)?;
    // Stored in the storage version.
    let stored = versioned(def, def.storage_version(), &object);
    Ok((key(def, namespace, &name), stored))
}

/// What the schema of a type refuses, after its defaults: only HTTPRoutes are checked
/// (`api::gateway`); the Istio types are stored as given (`docs/sim-divergences.md`).
pub fn validate(def: &ResourceDef, name: &str, object: &Value) -> Result<(), ApiError> {
    if (def.group, def.plural) == (HTTP_ROUTES.group, HTTP_ROUTES.plural) {
        return super::gateway::validate(def, name, object);
    }
    Ok(())
}

/// Server-side defaults for the built-in types the demo uses, and the HTTPRoute CRD's.
/// `previous` is the live object on updates, whose allocated fields are kept.
pub fn apply_defaults(
    def: &ResourceDef,
    name: &str,
    object: &mut Value,
    previous: Option<&Value>,
    ips: &IpAllocator,
) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    match (def.group, def.plural) {
        ("", "secrets") => {
            // `stringData` is write-only: merged into `data` as base64, over keys of the same
            // name, and never stored; `type` defaults to Opaque.
            use base64::Engine as _;
            map.entry("type").or_insert_with(|| json!("Opaque"));
            if let Some(Value::Object(strings)) = map.remove("stringData") {
                let data = map.entry("data").or_insert_with(|| json!({}));
                if let Some(data) = data.as_object_mut() {
                    for (key, value) in strings {
                        if let Some(text) = value.as_str() {
                            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                            data.insert(key, json!(encoded));
                        }
                    }
                }
            }
        }
        ("", "namespaces") => {
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                spec.entry("finalizers")
                    .or_insert_with(|| json!(["kubernetes"]));
            }
            map.insert("status".into(), json!({"phase": "Active"}));
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
        }
        ("", "services") => {
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            let Some(spec) = spec.as_object_mut() else {
                return;
            };
            spec.entry("type").or_insert_with(|| json!("ClusterIP"));
            spec.entry("sessionAffinity")
                .or_insert_with(|| json!("None"));
            let external_name = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
            if !external_name {
                // A single-stack IPv4 cluster, as the simulated one is.
                spec.entry("internalTrafficPolicy")
                    .or_insert_with(|| json!("Cluster"));
                spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
                spec.entry("ipFamilyPolicy")
                    .or_insert_with(|| json!("SingleStack"));
            }
            if !external_name
                && spec
                    .get("clusterIP")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                let kept = previous
                    .and_then(|p| p.pointer("/spec/clusterIP"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let ip = kept.unwrap_or_else(|| ips.next());
                spec.insert("clusterIP".into(), json!(ip));
                spec.insert("clusterIPs".into(), json!([ip]));
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    port.entry("protocol").or_insert_with(|| json!("TCP"));
                    if let Some(p) = port.get("port").cloned() {
                        port.entry("targetPort").or_insert(p);
                    }
                }
            }
            map.entry("status")
                .or_insert_with(|| json!({"loadBalancer": {}}));
        }
        ("apps", "deployments") => {
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                spec.entry("replicas").or_insert_with(|| json!(1));
                spec.entry("revisionHistoryLimit")
                    .or_insert_with(|| json!(10));
                spec.entry("progressDeadlineSeconds")
                    .or_insert_with(|| json!(600));
                spec.entry("strategy").or_insert_with(|| {
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
                });
                if let Some(pod) = spec
                    .get_mut("template")
                    .and_then(|t| t.get_mut("spec"))
                    .and_then(Value::as_object_mut)
                {
                    pod_spec_defaults(pod);
                }
            }
        }
        ("gateway.networking.k8s.io", "httproutes") => super::gateway::apply_defaults(object),
        ("", "events") => {
            // Fields of the Event type that are not `omitempty` come back as their zero values.
            map.entry("source").or_insert_with(|| json!({}));
            map.entry("reportingComponent").or_insert_with(|| json!(""));
            map.entry("reportingInstance").or_insert_with(|| json!(""));
            // firstTimestamp and lastTimestamp are metav1.Time (second precision); eventTime
            // is a MicroTime.
            for field in ["firstTimestamp", "lastTimestamp"] {
                let value = map.entry(field).or_insert(Value::Null);
                if let Some(seconds) = value.as_str().and_then(to_seconds) {
                    *value = json!(seconds);
                }
            }
            map.entry("eventTime").or_insert(Value::Null);
        }
        _ => {}
    }
}

/// A time as metav1.Time writes it: RFC 3339 in UTC, whole seconds.
fn to_seconds(time: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(time).ok().map(|t| {
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

/// The defaults kube-apiserver gives a PodSpec (of a Pod or a workload's template), as far as
/// the demo's manifests leave them out.
fn pod_spec_defaults(spec: &mut Map<String, Value>) {
    spec.entry("restartPolicy")
        .or_insert_with(|| json!("Always"));
    spec.entry("terminationGracePeriodSeconds")
        .or_insert_with(|| json!(30));
    spec.entry("dnsPolicy")
        .or_insert_with(|| json!("ClusterFirst"));
    spec.entry("securityContext").or_insert_with(|| json!({}));
    spec.entry("schedulerName")
        .or_insert_with(|| json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            // `:latest` or no tag pulls always, any other tag only when missing.
            let image = container.get("image").and_then(Value::as_str).unwrap_or("");
            let tag = image
                .rsplit('/')
                .next()
                .and_then(|last| last.split('@').next())
                .and_then(|last| last.split_once(':').map(|(_, tag)| tag));
            let policy = match tag {
                None | Some("latest") => "Always",
                Some(_) => "IfNotPresent",
            };
            container
                .entry("imagePullPolicy")
                .or_insert_with(|| json!(policy));
            container.entry("resources").or_insert_with(|| json!({}));
            container
                .entry("terminationMessagePath")
                .or_insert_with(|| json!("/dev/termination-log"));
            container
                .entry("terminationMessagePolicy")
                .or_insert_with(|| json!("File"));
            if let Some(ports) = container.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    port.entry("protocol").or_insert_with(|| json!("TCP"));
                }
            }
        }
    }
}

/// Creates the namespace object if it does not exist.
pub fn ensure_namespace(
    store: &Store,
    namespace: &str,
    ips: &IpAllocator,
) -> Result<bool, ApiError> {
    let ns_key = key(&resources::NAMESPACES, "", namespace);
    if store.get(&ns_key).is_some() {
        return Ok(false);
    }
    let (key, object) = prepare_create(
        &resources::NAMESPACES,
        "v1",
        "",
        json!({"metadata": {"name": namespace}}),
        ips,
    )?;
    match store.create(key, object) {
        Ok(_) | Err(StoreError::AlreadyExists) => Ok(true),
        Err(e) => Err(store_error(&resources::NAMESPACES, namespace, e)),
    }
}

pub fn namespace_exists(store: &Store, namespace: &str) -> bool {
    store
        .get(&key(&resources::NAMESPACES, "", namespace))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::{SERVICES, VIRTUAL_SERVICES};

    #[test]
    fn create_fills_type_and_namespace() {
        let ips = IpAllocator::new(Store::new());
        let (key, obj) = prepare_create(
            &VIRTUAL_SERVICES,
            "v1beta1",
            "hands-on",
            json!({"metadata": {"name": "review"}, "spec": {}, "status": {"x": 1}}),
            &ips,
        )
        .unwrap();
        assert_eq!(key.resource, "virtualservices.networking.istio.io");
        assert_eq!(obj["apiVersion"], "networking.istio.io/v1");
        assert_eq!(obj["metadata"]["namespace"], "hands-on");
        assert!(obj.get("status").is_none());
        assert_eq!(obj["metadata"]["generation"], 1);
    }

    #[test]
    fn events_and_deployments_get_their_defaults() {
        let ips = IpAllocator::new(Store::new());
        let (_, event) = prepare_create(
            &resources::EVENTS,
            "v1",
            "ns",
            json!({"metadata": {"name": "e"}, "firstTimestamp": "2026-11-27T10:00:00.123456+01:00"}),
            &ips,
        )
        .unwrap();
        assert_eq!(event["firstTimestamp"], "2026-11-27T09:00:00Z");
        assert_eq!(event["lastTimestamp"], Value::Null);
        assert_eq!(event["source"], json!({}));
        assert!(event["metadata"].get("generation").is_none());
        let (_, deployment) = prepare_create(
            &resources::DEPLOYMENTS,
            "v1",
            "ns",
            json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
                {"name": "a", "image": "r/a:v1", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "localhost:5000/b"}]}}}}),
            &ips,
        )
        .unwrap();
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(pod["containers"][1]["imagePullPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(deployment["metadata"]["generation"], 1);
    }

    #[test]
    fn create_rejects_bad_input() {
        let ips = IpAllocator::new(Store::new());
        let bad = [
            json!({"metadata": {}}),
            json!({"metadata": {"name": "UPPER"}}),
            json!({"metadata": {"name": "x", "namespace": "other"}}),
            json!({"metadata": {"name": "x", "resourceVersion": "5"}}),
            json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
            json!({"kind": "DestinationRule", "metadata": {"name": "x"}}),
            json!([1, 2]),
        ];
        for body in bad {
            assert!(
                prepare_create(&VIRTUAL_SERVICES, "v1", "ns", body.clone(), &ips).is_err(),
                "{body}"
            );
        }
        let (key, _) = prepare_create(
            &VIRTUAL_SERVICES,
            "v1",
            "ns",
            json!({"metadata": {"generateName": "vs-"}}),
            &ips,
        )
        .unwrap();
        assert!(key.name.starts_with("vs-") && key.name.len() == 8);
    }

    #[test]
    fn secrets_merge_string_data_into_data() {
        let ips = IpAllocator::new(Store::new());
        let mut secret = json!({
            "metadata": {"name": "s"},
            "data": {"a": "b2xk", "keep": "eA=="},
            "stringData": {"a": "new"}
        });
        apply_defaults(
            &crate::api::resources::SECRETS,
            "s",
            &mut secret,
            None,
            &ips,
        );
        assert_eq!(secret["type"], "Opaque");
        assert_eq!(secret["data"], json!({"a": "bmV3", "keep": "eA=="}));
        assert!(secret.get("stringData").is_none());
    }

    #[test]
    fn services_get_cluster_ips() {
        let ips = IpAllocator::new(Store::new());
        let (_, svc) = prepare_create(
            &SERVICES,
            "v1",
            "ns",
            json!({"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}}),
            &ips,
        )
        .unwrap();
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.2");
        assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4"]));
        assert!(svc["metadata"].get("generation").is_none());
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    }
}
