//! Reads from the caches the reflectors keep: never a call to the API server.

use kube::api::DynamicObject;
use kube::runtime::reflector::{self, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::{ChangeRecord, HttpRouteRoutes, RouteKind, VirtualServiceRoutes};
use tokio::sync::broadcast;

use super::{history, kinds, route_resource, view, Change, Cluster, Error, Scope};
use crate::graph::{ServiceInfo, Topology, WorkloadInfo};
use crate::istio::{destination_rule, DestinationRule};

impl Cluster {
    pub fn namespaces(&self) -> Vec<String> {
        self.scopes.iter().map(|s| s.namespace.clone()).collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The console's own client (the plan driver writes with it; the caches read with it).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Every VirtualService in scope, ordered by namespace and name, from the cache.
    pub fn virtual_services(&self) -> Vec<VirtualServiceRoutes> {
        let mut all: Vec<VirtualServiceRoutes> = self
            .scopes
            .iter()
            .flat_map(|s| s.virtual_services.state())
            .filter_map(|o| serde_json::to_value(&*o).ok())
            .map(|v| view::virtual_service_routes(&v))
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        all
    }

    /// Every HTTPRoute in scope, ordered by namespace and name, from the cache.
    pub fn http_routes(&self) -> Vec<HttpRouteRoutes> {
        let mut all: Vec<HttpRouteRoutes> = self
            .scopes
            .iter()
            .flat_map(|s| s.http_routes.state())
            .filter_map(|o| serde_json::to_value(&*o).ok())
            .map(|v| kinds::http_route_routes(&v))
            .collect();
        all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        all
    }

    /// The route objects of `kind` in scope as views, ordered by namespace and name.
    pub fn routes_of(&self, kind: RouteKind) -> Vec<VirtualServiceRoutes> {
        match kind {
            RouteKind::VirtualService => self.virtual_services(),
            RouteKind::HTTPRoute => self
                .http_routes()
                .iter()
                .map(HttpRouteRoutes::view)
                .collect(),
        }
    }

    /// What exists in scope, for the graph: services, workloads (Deployments with their app and
    /// version labels), VirtualServices, HTTPRoutes and DestinationRules. Reads the caches only.
    pub fn topology(&self) -> Topology {
        let mut topology = Topology {
            virtual_services: self.virtual_services(),
            http_routes: self.routes_of(RouteKind::HTTPRoute),
            ..Topology::default()
        };
        for scope in self.scopes.iter() {
            for svc in scope.services.state() {
                let name = svc.metadata.name.clone().unwrap_or_default();
                if let Some(version) = svc
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.selector.as_ref())
                    .and_then(|selector| selector.get("version"))
                {
                    topology
                        .service_versions
                        .insert((scope.namespace.clone(), name.clone()), version.clone());
                }
                topology.services.push(ServiceInfo {
                    namespace: scope.namespace.clone(),
                    name,
                });
            }
            for d in scope.deployments.state() {
                let labels = d
                    .spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .or_else(|| d.metadata.labels.clone())
                    .unwrap_or_default();
                topology.workloads.push(WorkloadInfo {
                    namespace: scope.namespace.clone(),
                    name: d.metadata.name.clone().unwrap_or_default(),
                    app: labels.get("app").cloned(),
                    version: labels.get("version").cloned(),
                });
            }
            topology.destination_rules.extend(destination_rules(
                &scope.destination_rules,
                &scope.namespace,
            ));
        }
        topology
            .services
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        topology
            .workloads
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        topology
    }

    /// The recorded weight changes in scope, oldest first, from the Event cache.
    pub fn history(&self) -> Vec<ChangeRecord> {
        let mut records: Vec<ChangeRecord> = self
            .scopes
            .iter()
            .flat_map(|s| s.events.state())
            .filter_map(|e| serde_json::to_value(&*e).ok())
            .filter_map(|e| history::record_from_event(&e))
            .collect();
        history::sort(&mut records);
        records
    }

    fn scope(&self, namespace: &str) -> Result<&Scope, Error> {
        self.scopes
            .iter()
            .find(|s| s.namespace == namespace)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "namespace {namespace} is not watched by this console"
                ))
            })
    }

    /// One route object of `kind` as the cache has it.
    pub(super) fn cached_route(
        &self,
        kind: RouteKind,
        namespace: &str,
        name: &str,
    ) -> Result<Value, Error> {
        let scope = self.scope(namespace)?;
        let cache = match kind {
            RouteKind::VirtualService => &scope.virtual_services,
            RouteKind::HTTPRoute => &scope.http_routes,
        };
        let obj = cache
            .get(&reflector::ObjectRef::new_with(name, route_resource(kind)).within(namespace))
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "{} {namespace}/{name} not found",
                    kinds::noun(kind)
                ))
            })?;
        serde_json::to_value(&*obj).map_err(Error::unreadable)
    }

    /// The Services an HTTPRoute in `namespace` may send traffic to, as its backendRefs name them:
    /// `name` for the namespace's own, `other/name` for those of other namespaces in scope.
    pub(super) fn known_backends(&self, namespace: &str) -> Result<BTreeSet<String>, Error> {
        self.scope(namespace)?;
        Ok(self
            .scopes
            .iter()
            .flat_map(|scope| {
                scope.services.state().into_iter().filter_map(move |svc| {
                    let name = svc.metadata.name.clone()?;
                    Some(if scope.namespace == namespace {
                        name
                    } else {
                        format!("{}/{name}", scope.namespace)
                    })
                })
            })
            .collect())
    }

    /// Subsets defined by the DestinationRules of `namespace`, keyed by resolved host.
    pub(super) fn defined_subsets(
        &self,
        namespace: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let scope = self.scope(namespace)?;
        Ok(destination_rule::subsets_by_host(&destination_rules(
            &scope.destination_rules,
            namespace,
        )))
    }
}

/// The DestinationRules of a cache, read by `istio::destination_rule`.
fn destination_rules(cache: &Store<DynamicObject>, namespace: &str) -> Vec<DestinationRule> {
    cache
        .state()
        .iter()
        .filter_map(|dr| serde_json::to_value(&**dr).ok())
        .filter_map(|v| DestinationRule::from_object(&v, namespace))
        .collect()
}
