//! Release plans in the cluster: the ReleasePlan objects (read from the cache the reflectors keep;
//! created and given control actions with the caller's own client, so the cluster's RBAC decides
//! who may; their status written by the driving replica with the console's own client, always with
//! the resourceVersion it read, so two writers never both win), the plans' evidence Events, and
//! [`Cluster::write_plan_step`], the one function through which every weight a plan sets goes out:
//! a guarded JSON Patch (`set_weights_on`) carrying the step's operation id.

use k8s_openapi::api::core::v1::Event;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{json, Value};
use switchyard_protocol::plans::PlanTarget;
use switchyard_protocol::{PlanRecord, RouteKind, SetWeightsRequest, Subsets};

use super::history;
use super::plan_object::{self, Command, PlanObject, Spec, Status};
use super::write::{read_fresh, route_api};
use super::{view, Actor, Cluster, Error};

/// The ReleasePlan resource (`switchyard.dev/v1alpha1`).
pub fn release_plan_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(plan_object::GROUP, plan_object::VERSION, plan_object::KIND),
        plan_object::PLURAL,
    )
}

fn plans_api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &release_plan_resource())
}

fn read(object: &DynamicObject) -> Result<PlanObject, Error> {
    let value = serde_json::to_value(object).map_err(Error::unreadable)?;
    PlanObject::from_value(&value)
        .ok_or_else(|| Error::Upstream("a ReleasePlan whose spec the console cannot read".into()))
}

/// What a plan's weight write did to one target.
#[derive(Debug)]
pub enum StepOutcome {
    /// The patch went out.
    Written,
    /// The route already carries this write (a replica that took over finds its predecessor's
    /// work done), or already has the weights asked for.
    AlreadyThere,
    /// The route is not as the plan left it: someone else changed it. Nothing was written; the
    /// sentence says what changed.
    Changed(String),
    /// The write failed; the error says whether trying again may help.
    Failed(Error),
}

/// The new version's weight on a target's old/new route, and what the route looks like.
struct Route {
    index: usize,
    new_weight: u32,
    destinations: Vec<switchyard_protocol::ExpectedDestination>,
    object: Value,
}

fn old_new_route(object: Value, subsets: &Subsets) -> Option<Route> {
    let routes = view::virtual_service_routes(&object);
    let route = subsets.shift_route(&routes)?;
    let (_, new_weight) = subsets.split_of(route);
    Some(Route {
        index: route.index,
        new_weight,
        destinations: route.destinations.iter().map(Into::into).collect(),
        object,
    })
}

/// `old 95 / new 5` for a new-version weight.
pub fn split_of(subsets: &Subsets, new_weight: u32) -> String {
    format!(
        "{} {} / {} {new_weight}",
        subsets.old_name(),
        100u32.saturating_sub(new_weight),
        subsets.new_name()
    )
}

impl Cluster {
    /// Every ReleasePlan in scope the console can read, from the cache, by namespace and name.
    pub fn plans(&self) -> Vec<PlanObject> {
        let mut plans: Vec<PlanObject> = self
            .scopes
            .iter()
            .flat_map(|s| s.plans.state())
            .filter_map(|o| read(&o).ok())
            .collect();
        plans.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        plans
    }

    /// The plan named `id` (its ReleasePlan's name), from the cache.
    pub fn plan(&self, id: &str) -> Option<PlanObject> {
        self.plans().into_iter().find(|p| p.name == id)
    }

    /// Whether any plan in scope still has something to do (the refresher reads the gate
    /// counters only then).
    pub fn plans_active(&self) -> bool {
        self.scopes
            .iter()
            .flat_map(|s| s.plans.state())
            .filter_map(|o| read(&o).ok())
            .any(|p| p.active())
    }

    /// Creates a ReleasePlan with the caller's client (the cluster's RBAC decides), named
    /// `plan-` and a random suffix.
    pub async fn create_plan(
        &self,
        client: &Client,
        namespace: &str,
        spec: &Spec,
    ) -> Result<PlanObject, Error> {
        let name = format!("plan-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": format!("{}/{}", plan_object::GROUP, plan_object::VERSION),
            "kind": plan_object::KIND,
            "metadata": {"name": name, "namespace": namespace,
                "labels": {history::EVENT_LABEL.0: history::EVENT_LABEL.1}},
            "spec": spec,
        }))
        .map_err(Error::unreadable)?;
        let created = plans_api(client, namespace)
            .create(&PostParams::default(), &object)
            .await
            .map_err(Error::from_call)?;
        read(&created)
    }

    /// Appends a control action to a plan's `spec.commands` with the caller's client (the
    /// cluster's RBAC decides: patch on releaseplans); the driving replica carries it out. The
    /// list is written whole on the condition that it is as read (resourceVersion), read again
    /// and retried when another action came first.
    pub async fn append_plan_command(
        &self,
        client: &Client,
        plan: &PlanObject,
        command: &Command,
    ) -> Result<PlanObject, Error> {
        let api = plans_api(client, &plan.namespace);
        let mut current = plan.clone();
        for _ in 0..5 {
            let mut commands = current.spec.commands.clone();
            commands.push(command.clone());
            let patch = json!({
                "metadata": {"resourceVersion": current.resource_version},
                "spec": {"commands": commands},
            });
            match api
                .patch(&plan.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(patched) => return read(&patched),
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    current = read(&api.get(&plan.name).await.map_err(Error::from_call)?)?;
                }
                Err(e) => return Err(Error::from_call(e)),
            }
        }
        Err(Error::Conflict {
            message: format!(
                "{} kept changing while the action was being recorded; try again",
                plan.name
            ),
            current: None,
        })
    }

    /// Writes a plan's status with the console's own client, on the condition that the plan is
    /// still at the resourceVersion `plan` was read at (409 Conflict otherwise: another writer
    /// came first, and this one must read again).
    pub async fn save_plan_status(
        &self,
        plan: &PlanObject,
        status: &Status,
    ) -> Result<PlanObject, Error> {
        let patch = json!({
            "metadata": {"resourceVersion": plan.resource_version},
            "status": status,
        });
        let saved = plans_api(&self.client, &plan.namespace)
            .patch_status(&plan.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(Error::from_call)?;
        read(&saved)
    }

    /// The plan as the API server has it now (not the cache).
    pub async fn read_plan(&self, namespace: &str, name: &str) -> Result<PlanObject, Error> {
        read(
            &plans_api(&self.client, namespace)
                .get(name)
                .await
                .map_err(Error::from_call)?,
        )
    }

    /// Records a piece of a plan's evidence as an Event on the ReleasePlan. Its name comes from
    /// the record, so a replica that writes it again gets AlreadyExists and nothing doubles.
    pub async fn record_plan_event(
        &self,
        plan: &PlanObject,
        record: &PlanRecord,
    ) -> Result<(), Error> {
        let event: Event = serde_json::from_value(plan_object::event_for(plan, record))
            .map_err(Error::unreadable)?;
        match Api::<Event>::namespaced(self.client.clone(), &plan.namespace)
            .create(&PostParams::default(), &event)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(Error::from_call(e)),
        }
    }

    /// The plans' evidence in scope, oldest first, from the Event cache.
    pub fn plan_history(&self) -> Vec<PlanRecord> {
        let mut records: Vec<PlanRecord> = self
            .scopes
            .iter()
            .flat_map(|s| s.events.state())
            .filter_map(|e| serde_json::to_value(&*e).ok())
            .filter_map(|e| plan_object::record_from_event(&e))
            .collect();
        records.sort_by(|a, b| {
            (a.time.as_str(), a.id.as_str()).cmp(&(b.time.as_str(), b.id.as_str()))
        });
        records
    }

    /// The new version's weight on a target's old/new route as the cache has it; `None` when
    /// the target or its route is not there.
    pub fn cached_plan_weight(&self, target: &PlanTarget, subsets: &Subsets) -> Option<u32> {
        let object = self
            .cached_route(target.kind, &target.namespace, &target.name)
            .ok()?;
        old_new_route(object, subsets).map(|r| r.new_weight)
    }

    /// Whether a target is still as the plan left it (new weight `weight`), read fresh from the
    /// API server; `Err` with the sentence saying what changed when not.
    pub async fn check_plan_target(
        &self,
        target: &PlanTarget,
        subsets: &Subsets,
        weight: u32,
    ) -> Result<(), String> {
        let api = route_api(&self.client, target.kind, &target.namespace);
        let object = match read_fresh(target.kind, &api, &target.namespace, &target.name).await {
            Ok(o) => o,
            Err(Error::NotFound(_)) => {
                return Err(format!(
                    "{} was deleted by someone else; the plan paused and wrote nothing",
                    target.name
                ))
            }
            // Not an answer about the target: no verdict.
            Err(_) => return Ok(()),
        };
        match old_new_route(object, subsets) {
            None => Err(format!(
                "{} no longer has a route that splits between exactly {} and {}; the plan paused and wrote nothing",
                target.name,
                subsets.old_name(),
                subsets.new_name()
            )),
            Some(r) if r.new_weight != weight => Err(changed_sentence(
                &target.name,
                subsets,
                &r.destinations,
                weight,
                &r.object,
            )),
            Some(_) => Ok(()),
        }
    }

    /// The one way a plan changes a target: sets the new version's weight `to` (old gets the
    /// rest) on the target's old/new route with a guarded JSON Patch carrying `operation` in its
    /// `switchyard.dev/last-change` annotation. With `from`, the route must still have that new
    /// weight (else `Changed`, and nothing is written); a route that already carries `operation`
    /// with these weights is `AlreadyThere` (a write a crashed replica made before it could
    /// record it). `from: None` adopts the route as it is now. HTTPRoute targets are refused
    /// here until the console speaks Gateway API.
    pub async fn write_plan_step(
        &self,
        actor: &Actor<'_>,
        target: &PlanTarget,
        subsets: &Subsets,
        from: Option<u32>,
        to: u32,
        operation: &str,
    ) -> StepOutcome {
        if target.kind == RouteKind::HTTPRoute {
            return StepOutcome::Failed(Error::Invalid(format!(
                "{}: HTTPRoute plan targets need Gateway API support, which this console does not have yet",
                target.name
            )));
        }
        // Always the API server's answer, never the cache: this decides whether a step already
        // went out.
        let api = route_api(actor.client, target.kind, &target.namespace);
        let object = match read_fresh(target.kind, &api, &target.namespace, &target.name).await {
            Ok(o) => o,
            Err(e) => return StepOutcome::Failed(e),
        };
        let Some(route) = old_new_route(object, subsets) else {
            return StepOutcome::Changed(format!(
                "{} has no route that splits between exactly {} and {}; the plan wrote nothing",
                target.name,
                subsets.old_name(),
                subsets.new_name()
            ));
        };
        let ours = history::last_change(&route.object)
            .and_then(|c| c.operation)
            .is_some_and(|op| op == operation);
        if ours && route.new_weight == to {
            return StepOutcome::AlreadyThere;
        }
        if let Some(from) = from {
            if route.new_weight != from {
                return StepOutcome::Changed(changed_sentence(
                    &target.name,
                    subsets,
                    &route.destinations,
                    from,
                    &route.object,
                ));
            }
        }
        let request = SetWeightsRequest {
            weights: subsets.weights(100u32.saturating_sub(to)),
            expected: route.destinations.clone(),
        };
        match self
            .set_weights_on(
                actor,
                target.kind,
                (&target.namespace, &target.name, route.index),
                &request,
                route.object,
                operation,
            )
            .await
        {
            Ok(change) if change.changed => StepOutcome::Written,
            Ok(_) => StepOutcome::AlreadyThere,
            Err(Error::Conflict { message, .. }) => StepOutcome::Changed(message),
            Err(e) => StepOutcome::Failed(e),
        }
    }
}

/// `review was changed by someone else (kubectl-patch): its split is now old 50 / new 50 where the
/// plan had set old 95 / new 5; the plan paused and overwrote nothing`.
fn changed_sentence(
    name: &str,
    subsets: &Subsets,
    now: &[switchyard_protocol::ExpectedDestination],
    planned: u32,
    object: &Value,
) -> String {
    let who = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .and_then(|fields| {
            fields
                .iter()
                .filter_map(|m| Some((m.get("time")?.as_str()?, m.get("manager")?.as_str()?)))
                .max_by_key(|(time, _)| *time)
                .map(|(_, manager)| format!(" ({manager})"))
        })
        .unwrap_or_default();
    format!(
        "{name} was changed by someone else{who}: its split is now {} where the plan had set {}; the plan paused and overwrote nothing",
        super::weights::split_text(now),
        split_of(subsets, planned)
    )
}
