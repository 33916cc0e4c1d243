//! Starting the console's view of the cluster: one reflector per resource and namespace in
//! scope (VirtualServices, HTTPRoutes, DestinationRules, Services, Deployments, the history
//! Events, the release plans), each on its own task, retrying with backoff for as long as the
//! process runs.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Service};
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, store::Writer};
use kube::{Api, Client};
use std::sync::Arc;
use switchyard_protocol::{Contact, RouteKind};
use tokio::sync::broadcast;

use super::contact::{self, Tracker};
use super::{
    destination_rule_resource, http_route_resource, plans::release_plan_resource,
    virtual_service_resource, watch, Cluster, Scope,
};

impl Cluster {
    /// Starts the watches for `namespaces` and returns at once; `wait_ready` waits for the first
    /// list. The watches retry with backoff for as long as the process runs, and re-list when
    /// they keep failing or the API server comes back (`watch`); a probe keeps the last contact
    /// with the API server current while nothing changes (`contact`).
    pub fn start(client: Client, namespaces: &[String]) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let tracker = Tracker::default();
        let mut scopes = Vec::new();
        let cache = |ns: &str, what: &str| format!("{ns}/{what}");
        for ns in namespaces {
            let vs_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &virtual_service_resource());
            let dr_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &destination_rule_resource());
            let hr_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &http_route_resource());
            let vs_writer = Writer::new(virtual_service_resource());
            let hr_writer = Writer::new(http_route_resource());
            let dr_writer = Writer::new(destination_rule_resource());
            let plan_writer = Writer::new(release_plan_resource());
            let plan_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &release_plan_resource());
            let (services, svc_writer) = reflector::store::<Service>();
            let (deployments, deploy_writer) = reflector::store::<Deployment>();
            let (events, event_writer) = reflector::store::<Event>();
            scopes.push(Scope {
                namespace: ns.clone(),
                virtual_services: vs_writer.as_reader(),
                http_routes: hr_writer.as_reader(),
                destination_rules: dr_writer.as_reader(),
                services,
                deployments,
                events,
                plans: plan_writer.as_reader(),
            });
            let event_api: Api<Event> = Api::namespaced(client.clone(), ns);
            // Listed as "listing" from the start, so `/readyz` waits for the first list.
            for what in [
                "virtualservices",
                "httproutes",
                "events",
                "destinationrules",
                "services",
                "deployments",
                "releaseplans",
            ] {
                tracker.listing(&cache(ns, what));
            }
            tokio::spawn(watch::routes(
                RouteKind::VirtualService,
                vs_api,
                vs_writer,
                changes.clone(),
                event_api.clone(),
                tracker.clone(),
                cache(ns, "virtualservices"),
            ));
            tokio::spawn(watch::routes(
                RouteKind::HTTPRoute,
                hr_api,
                hr_writer,
                changes.clone(),
                event_api.clone(),
                tracker.clone(),
                cache(ns, "httproutes"),
            ));
            tokio::spawn(watch::history(
                event_api,
                event_writer,
                changes.clone(),
                tracker.clone(),
                cache(ns, "events"),
            ));
            tokio::spawn(watch::quietly(
                dr_api,
                dr_writer,
                changes.clone(),
                tracker.clone(),
                cache(ns, "destinationrules"),
            ));
            let svc_api: Api<Service> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch::quietly(
                svc_api,
                svc_writer,
                changes.clone(),
                tracker.clone(),
                cache(ns, "services"),
            ));
            let deploy_api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch::quietly(
                deploy_api,
                deploy_writer,
                changes.clone(),
                tracker.clone(),
                cache(ns, "deployments"),
            ));
            tokio::spawn(watch::plans(
                plan_api,
                plan_writer,
                changes.clone(),
                tracker.clone(),
                cache(ns, "releaseplans"),
            ));
        }
        tokio::spawn(contact::probe(
            client.clone(),
            tracker.clone(),
            changes.clone(),
        ));
        Cluster {
            client,
            scopes: Arc::new(scopes),
            changes,
            contact: tracker,
        }
    }

    /// The last successful contact with the API server, now.
    pub fn contact(&self) -> Contact {
        self.contact.contact(contact::now())
    }

    /// `Ok` when the API server answered recently and every cache has synced; else why not
    /// (`GET /readyz`).
    pub fn readiness(&self) -> Result<(), String> {
        self.contact.readiness()
    }

    /// Waits until every cache has listed once.
    pub async fn wait_ready(&self) {
        for scope in self.scopes.iter() {
            // Errors only when the writer is gone, i.e. the process is shutting down.
            let _ = scope.virtual_services.wait_until_ready().await;
            let _ = scope.http_routes.wait_until_ready().await;
            let _ = scope.destination_rules.wait_until_ready().await;
            let _ = scope.services.wait_until_ready().await;
            let _ = scope.deployments.wait_until_ready().await;
            let _ = scope.events.wait_until_ready().await;
            let _ = scope.plans.wait_until_ready().await;
        }
    }
}
