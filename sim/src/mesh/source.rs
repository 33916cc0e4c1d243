//! The seam between the mesh and the cluster it routes by. An [`ObjectSource`] hands the mesh the
//! Services, Deployments, VirtualServices, DestinationRules and HTTPRoutes (and Pods, where there
//! are any) to
//! compile, with a revision that moves whenever they may have changed. The in-process [`Store`] is
//! one source (the demo and `switchyard sim`); an [`ObjectFeed`] is another, filled by whoever
//! watches an API server (`switchyard mesh` feeds one from kube-rs watches). The simulator itself
//! never talks to a remote API server.

use super::controller::template_hash;
use super::topology::{
    Objects, DEPLOYMENTS, DESTINATION_RULES, HTTP_ROUTES, PODS, SERVICES, VIRTUAL_SERVICES,
};
use crate::store::Store;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Where the mesh reads the objects it compiles its routing from.
pub trait ObjectSource: Send + Sync {
    /// Changes whenever an object the mesh reads may have changed; cheap, read on every request.
    /// Never `u64::MAX` (the revision of the topology compiled before the first request).
    fn revision(&self) -> u64;

    /// The current objects of every namespace, with the revision read before reading them, so a
    /// change that lands meanwhile makes the next request compile again.
    fn objects(&self) -> (Objects, u64);
}

impl ObjectSource for Store {
    fn revision(&self) -> u64 {
        Store::revision(self)
    }

    fn objects(&self) -> (Objects, u64) {
        let revision = Store::revision(self);
        let list = |resource| self.list(resource, None).0;
        let objects = Objects {
            services: list(SERVICES),
            pods: list(PODS),
            deployments: list(DEPLOYMENTS),
            virtual_services: list(VIRTUAL_SERVICES),
            destination_rules: list(DESTINATION_RULES),
            http_routes: list(HTTP_ROUTES),
        };
        (objects, revision)
    }
}

/// The kinds an [`ObjectFeed`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Service,
    Deployment,
    VirtualService,
    DestinationRule,
    HttpRoute,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Service,
        Kind::Deployment,
        Kind::VirtualService,
        Kind::DestinationRule,
        Kind::HttpRoute,
    ];

    /// API group, version and kind as a watch of a real API server asks for them.
    pub fn group_version_kind(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Service => ("", "v1", "Service"),
            Kind::Deployment => ("apps", "v1", "Deployment"),
            Kind::VirtualService => ("networking.istio.io", "v1", "VirtualService"),
            Kind::DestinationRule => ("networking.istio.io", "v1", "DestinationRule"),
            Kind::HttpRoute => ("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        }
    }

    /// The resource's plural name.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Service => "services",
            Kind::Deployment => "deployments",
            Kind::VirtualService => "virtualservices",
            Kind::DestinationRule => "destinationrules",
            Kind::HttpRoute => "httproutes",
        }
    }
}

/// Why an object was not taken into a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("a {kind:?} without metadata.namespace and metadata.name cannot be routed by")]
    Unnamed { kind: Kind },
}

/// Objects pushed in by a watcher, as a source for the mesh. Cheap to clone; clones share the
/// objects. There is no pod controller behind a feed, so Deployments give the workloads: each
/// Deployment stands for `spec.replicas` (default 1) ready pods of its template, named and owned
/// as a ReplicaSet's pods would be. Pods the watched cluster may have are not read.
#[derive(Clone, Default)]
pub struct ObjectFeed {
    inner: Arc<FeedInner>,
}

#[derive(Default)]
struct FeedInner {
    revision: AtomicU64,
    /// By kind, namespace and name.
    objects: RwLock<BTreeMap<(Kind, String, String), Arc<Value>>>,
}

type FeedKey = (Kind, String, String);

impl ObjectFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// An object was added or changed.
    pub fn apply(&self, kind: Kind, object: Value) -> Result<(), FeedError> {
        let key = feed_key(kind, &object)?;
        self.change(|objects| {
            objects.insert(key, Arc::new(object));
        });
        Ok(())
    }

    /// An object was deleted; deleting one the feed does not hold changes nothing.
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) {
        let key = (kind, namespace.to_owned(), name.to_owned());
        let mut objects = self.write();
        if objects.remove(&key).is_some() {
            self.inner.revision.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A complete listing of one kind in one namespace (a watch's initial list or relist):
    /// objects of that kind and namespace not in it are gone. Objects without a name are skipped
    /// and reported; the rest are taken.
    pub fn replace(
        &self,
        kind: Kind,
        namespace: &str,
        listed: Vec<Value>,
    ) -> Result<(), Vec<FeedError>> {
        let mut errors = Vec::new();
        let mut fresh = Vec::with_capacity(listed.len());
        for object in listed {
            match feed_key(kind, &object) {
                Ok(key) if key.1 == namespace => fresh.push((key, Arc::new(object))),
                // An object of another namespace in this listing is skipped, not an error: a
                // feeder that watches several namespaces replaces each with its own listing.
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        self.change(|objects| {
            objects.retain(|(k, ns, _), _| !(*k == kind && ns == namespace));
            objects.extend(fresh);
        });
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// How many objects of `kind` the feed holds.
    pub fn count(&self, kind: Kind) -> usize {
        self.read().keys().filter(|(k, _, _)| *k == kind).count()
    }

    fn change(&self, f: impl FnOnce(&mut BTreeMap<FeedKey, Arc<Value>>)) {
        let mut objects = self.write();
        f(&mut objects);
        // Bumped while the lock is held, so a reader that sees the new objects also sees a
        // revision past the one it read before listing.
        self.inner.revision.fetch_add(1, Ordering::AcqRel);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<FeedKey, Arc<Value>>> {
        // Writers insert or remove whole entries; a poisoned lock still holds a consistent map.
        self.inner.objects.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<FeedKey, Arc<Value>>> {
        self.inner
            .objects
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl ObjectSource for ObjectFeed {
    fn revision(&self) -> u64 {
        self.inner.revision.load(Ordering::Acquire)
    }

    fn objects(&self) -> (Objects, u64) {
        let revision = self.revision();
        let held = self.read();
        let mut objects = Objects::default();
        for ((kind, _, _), object) in held.iter() {
            let list = match kind {
                Kind::Service => &mut objects.services,
                Kind::Deployment => &mut objects.deployments,
                Kind::VirtualService => &mut objects.virtual_services,
                Kind::DestinationRule => &mut objects.destination_rules,
                Kind::HttpRoute => &mut objects.http_routes,
            };
            list.push(object.clone());
        }
        drop(held);
        objects.pods = objects
            .deployments
            .iter()
            .flat_map(|d| pods_of(d))
            .map(Arc::new)
            .collect();
        (objects, revision)
    }
}

fn feed_key(kind: Kind, object: &Value) -> Result<FeedKey, FeedError> {
    let text = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match (text("namespace"), text("name")) {
        (Some(namespace), Some(name)) => Ok((kind, namespace, name)),
        _ => Err(FeedError::Unnamed { kind }),
    }
}

/// The ready pods a Deployment stands for where no controller makes real ones: `spec.replicas`
/// (default 1) pods of its template, owned by the ReplicaSet `<name>-<pod-template-hash>`, so the
/// mesh names their workload after the Deployment as Istio does.
fn pods_of(deployment: &Value) -> Vec<Value> {
    let meta = |field: &str| {
        deployment
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
    };
    let (Some(namespace), Some(name)) = (meta("namespace"), meta("name")) else {
        return Vec::new();
    };
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let hash = template_hash(&template);
    let replica_set = format!("{name}-{hash}");
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(map) = labels.as_object_mut() {
        map.insert("pod-template-hash".into(), json!(hash));
    }
    let spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    (0..replicas)
        .map(|i| {
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": format!("{replica_set}-{i}"),
                    "namespace": namespace,
                    "labels": labels,
                    "ownerReferences": [{
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": replica_set,
                        "controller": true,
                    }],
                },
                "spec": spec,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::topology::workload_name;

    fn deployment(name: &str, replicas: Option<u64>) -> Value {
        let mut d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"template": {
                "metadata": {"labels": {"app": "review", "version": "v1"}},
                "spec": {"serviceAccountName": "review"}}}
        });
        if let Some(r) = replicas {
            d["spec"]["replicas"] = json!(r);
        }
        d
    }

    #[test]
    fn deployments_stand_for_their_ready_pods() {
        let feed = ObjectFeed::new();
        feed.apply(Kind::Deployment, deployment("review-v1", None))
            .unwrap();
        feed.apply(Kind::Deployment, deployment("review-v2", Some(3)))
            .unwrap();
        feed.apply(Kind::Deployment, deployment("review-v3", Some(0)))
            .unwrap();
        let (objects, _) = feed.objects();
        let workloads: Vec<String> = objects
            .pods
            .iter()
            .map(|p| workload_name(p, p["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            workloads,
            ["review-v1", "review-v2", "review-v2", "review-v2"]
        );
        let pod = &objects.pods[0];
        assert_eq!(pod["metadata"]["labels"]["app"], "review");
        assert_eq!(pod["metadata"]["namespace"], "ns");
        assert_eq!(pod["spec"]["serviceAccountName"], "review");
    }

    #[test]
    fn changes_move_the_revision_and_relists_replace_one_namespace() {
        let feed = ObjectFeed::new();
        let service = |ns: &str, name: &str| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": ns, "name": name}});
        let r0 = feed.revision();
        feed.apply(Kind::Service, service("a", "x")).unwrap();
        feed.apply(Kind::Service, service("b", "y")).unwrap();
        let r1 = feed.revision();
        assert!(r1 > r0);

        // A relist of namespace a drops x, keeps b's y; objects of other namespaces are skipped.
        feed.replace(
            Kind::Service,
            "a",
            vec![service("a", "z"), service("b", "stray")],
        )
        .unwrap();
        assert!(feed.revision() > r1);
        let (objects, revision) = feed.objects();
        assert_eq!(revision, feed.revision());
        let names: Vec<&str> = objects
            .services
            .iter()
            .map(|s| s["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["z", "y"]);

        // Deleting what is not there changes nothing; deleting what is moves the revision.
        let r2 = feed.revision();
        feed.delete(Kind::Service, "a", "nothing");
        assert_eq!(feed.revision(), r2);
        feed.delete(Kind::Service, "a", "z");
        assert!(feed.revision() > r2);
        assert_eq!(feed.count(Kind::Service), 1);
    }

    #[test]
    fn unnamed_objects_are_refused_with_a_reason() {
        let feed = ObjectFeed::new();
        let err = feed
            .apply(Kind::VirtualService, json!({"metadata": {"name": "r"}}))
            .unwrap_err();
        assert_eq!(
            err,
            FeedError::Unnamed {
                kind: Kind::VirtualService
            }
        );
        assert!(err.to_string().contains("metadata.namespace"));
        let errors = feed
            .replace(
                Kind::Service,
                "a",
                vec![
                    json!({}),
                    json!({"metadata": {"namespace": "a", "name": "ok"}}),
                ],
            )
            .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(feed.count(Kind::Service), 1, "the named one is taken");
        assert_eq!(feed.count(Kind::VirtualService), 0);
    }
}
