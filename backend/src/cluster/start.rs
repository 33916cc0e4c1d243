//! Starting the console's view of the cluster: one reflector per resource and namespace in
//! scope (VirtualServices, DestinationRules, Services, Deployments, the history Events), each on
//! its own task, retrying with backoff for as long as the process runs.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Service};
use kube::api::DynamicObject;
use kube::runtime::reflector::{self, store::Writer};
use kube::{Api, Client};
use std::sync::Arc;
use tokio::sync::broadcast;

use super::{destination_rule_resource, virtual_service_resource, watch, Cluster, Scope};

impl Cluster {
    /// Starts the watches for `namespaces` and returns at once; `wait_ready` waits for the first
    /// list. The watches retry with backoff for as long as the process runs.
    pub fn start(client: Client, namespaces: &[String]) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let mut scopes = Vec::new();
        for ns in namespaces {
            let vs_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &virtual_service_resource());
            let dr_api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &destination_rule_resource());
            let vs_writer = Writer::new(virtual_service_resource());
            let dr_writer = Writer::new(destination_rule_resource());
            let (services, svc_writer) = reflector::store::<Service>();
            let (deployments, deploy_writer) = reflector::store::<Deployment>();
            let (events, event_writer) = reflector::store::<Event>();
            scopes.push(Scope {
                namespace: ns.clone(),
                virtual_services: vs_writer.as_reader(),
                destination_rules: dr_writer.as_reader(),
                services,
                deployments,
                events,
            });
            let event_api: Api<Event> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch::virtual_services(
                vs_api,
                vs_writer,
                changes.clone(),
                event_api.clone(),
            ));
            tokio::spawn(watch::history(event_api, event_writer, changes.clone()));
            tokio::spawn(watch::quietly(
                dr_api,
                dr_writer,
                "destinationrules",
                changes.clone(),
            ));
            let svc_api: Api<Service> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch::quietly(
                svc_api,
                svc_writer,
                "services",
                changes.clone(),
            ));
            let deploy_api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            tokio::spawn(watch::quietly(
                deploy_api,
                deploy_writer,
                "deployments",
                changes.clone(),
            ));
        }
        Cluster {
            scopes: Arc::new(scopes),
            changes,
        }
    }

    /// Waits until every cache has listed once.
    pub async fn wait_ready(&self) {
        for scope in self.scopes.iter() {
            // Errors only when the writer is gone, i.e. the process is shutting down.
            let _ = scope.virtual_services.wait_until_ready().await;
            let _ = scope.destination_rules.wait_until_ready().await;
            let _ = scope.services.wait_until_ready().await;
            let _ = scope.deployments.wait_until_ready().await;
            let _ = scope.events.wait_until_ready().await;
        }
    }
}
