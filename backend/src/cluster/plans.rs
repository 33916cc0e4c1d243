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
use std::collections::BTreeMap;
use switchyard_protocol::backends::old_new;
use switchyard_protocol::plans::PlanTarget;
use switchyard_protocol::{ExpectedDestination, PlanRecord, RouteKind, SetWeightsRequest, Subsets};

use super::history;
use super::plan_object::{self, Command, PlanObject, Spec, Status};
use super::write::{read_fresh, route_api};
use super::{kinds, Actor, Cluster, Error, OldNewNames};

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

/// A target's old/new route as it is: the rule or route a plan moves, its old and new weights,
/// and the object it was read from.
struct Route {
    kind: RouteKind,
    index: usize,
    /// The weight keys of the old and the new destination: subset names (VirtualService) or
    /// backend Services (HTTPRoute).
    old_key: String,
    new_key: String,
    old: u32,
    new: u32,
    destinations: Vec<ExpectedDestination>,
    object: Value,
}

impl Route {
    /// The new version's weight as a plan counts it, in percent: a VirtualService's weight (Istio
    /// weights are percentages); an HTTPRoute's new backend's share, `new ÷ (old + new)` (Gateway
    /// API weights are relative, `docs/gateway-api.md`), when that is a whole percent — the plan
    /// writes whole numbers summing to 100, so after its first write it always is. `None` for a
    /// share that is no whole percent (or no share at all: both weights 0), which no step of a
    /// plan equals.
    fn new_weight(&self) -> Option<u32> {
        new_percent(self.kind, self.old, self.new)
    }

    /// The weights to write for the new version at `to` percent, in this route's keys.
    fn weights_for(&self, to: u32) -> BTreeMap<String, u32> {
        let to = to.min(100);
        BTreeMap::from([(self.old_key.clone(), 100 - to), (self.new_key.clone(), to)])
    }

    /// What the route's weights are now, in words: `old 50 / new 50`, or for an HTTPRoute
    /// `review-v1 1 / review-v2 3 (review-v2 gets 75 %)` (its weights are relative).
    fn split_now(&self) -> String {
        let text = super::weights::split_text(&self.destinations);
        match self.kind {
            RouteKind::VirtualService => text,
            RouteKind::HTTPRoute => match self.old + self.new {
                0 => format!("{text} (no traffic to either)"),
                100 => text,
                sum => format!(
                    "{text} ({} gets {} %)",
                    self.new_key,
                    percent_text(f64::from(self.new) * 100.0 / f64::from(sum))
                ),
            },
        }
    }

    /// What a plan's weight `to` is in this route's terms: `old 95 / new 5`, or for an HTTPRoute
    /// `review-v1 95 / review-v2 5`.
    fn split_planned(&self, to: u32) -> String {
        let to = to.min(100);
        format!("{} {} / {} {to}", self.old_key, 100 - to, self.new_key)
    }
}

/// `75`, `33.3`: a share in percent, to a tenth.
fn percent_text(percent: f64) -> String {
    let tenths = (percent * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

/// The new version's weight in percent from an old/new route's two weights (see
/// [`Route::new_weight`]).
fn new_percent(kind: RouteKind, old: u32, new: u32) -> Option<u32> {
    match kind {
        RouteKind::VirtualService => Some(new),
        RouteKind::HTTPRoute => {
            let (sum, scaled) = (u64::from(old) + u64::from(new), u64::from(new) * 100);
            (sum > 0 && scaled % sum == 0).then(|| (scaled / sum) as u32)
        }
    }
}

/// The old/new route of a route object of `kind`: a VirtualService's last route split between
/// exactly the old and new subsets, an HTTPRoute's last rule split between its old and new
/// backends (`switchyard_protocol::backends::old_new`, as bulk shift and rollback pick it).
fn old_new_route(kind: RouteKind, object: Value, names: OldNewNames<'_>) -> Option<Route> {
    let view = kinds::routes_view(kind, &object);
    let found = old_new(kind, &view, names.subsets, names.backends)?;
    let (old, new) = found.split();
    Some(Route {
        kind,
        index: found.route.index,
        old_key: found.old.clone(),
        new_key: found.new.clone(),
        old,
        new,
        destinations: found.route.destinations.iter().map(Into::into).collect(),
        object,
    })
}

/// `review`, or `HTTPRoute review`: a target as sentences name it (a VirtualService and an
/// HTTPRoute of one name stay apart).
pub fn target_label(target: &PlanTarget) -> String {
    match target.kind {
        RouteKind::VirtualService => target.name.clone(),
        RouteKind::HTTPRoute => format!("HTTPRoute {}", target.name),
    }
}

/// Why a target has no old/new route, in words: `review has no route…`, `review no longer has
/// a route…` (`verb`: `has no`, `no longer has a`).
fn no_old_new(target: &PlanTarget, names: OldNewNames<'_>, verb: &str) -> String {
    match target.kind {
        RouteKind::VirtualService => format!(
            "{} {verb} route that splits between exactly {} and {}",
            target.name,
            names.subsets.old_name(),
            names.subsets.new_name()
        ),
        RouteKind::HTTPRoute => format!(
            "HTTPRoute {} {verb} rule that splits between exactly two backends {{service}}-{} and {{service}}-{}",
            target.name,
            names.backends.old_suffix(),
            names.backends.new_suffix()
        ),
    }
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

    /// The new version's weight (percent, [`Route::new_weight`]) on a target's old/new route as
    /// the cache has it; `None` when the target or its route is not there, or an HTTPRoute's
    /// share is no whole percent.
    pub fn cached_plan_weight(&self, target: &PlanTarget, names: OldNewNames<'_>) -> Option<u32> {
        let object = self
            .cached_route(target.kind, &target.namespace, &target.name)
            .ok()?;
        old_new_route(target.kind, object, names)?.new_weight()
    }

    /// Whether a target is still as the plan left it (new weight `weight`), read fresh from the
    /// API server; `Err` with the sentence saying what changed when not.
    pub async fn check_plan_target(
        &self,
        target: &PlanTarget,
        names: OldNewNames<'_>,
        weight: u32,
    ) -> Result<(), String> {
        let api = route_api(&self.client, target.kind, &target.namespace);
        let object = match read_fresh(target.kind, &api, &target.namespace, &target.name).await {
            Ok(o) => o,
            Err(Error::NotFound(_)) => {
                return Err(format!(
                    "{} was deleted by someone else; the plan paused and wrote nothing",
                    target_label(target)
                ))
            }
            // Not an answer about the target: no verdict.
            Err(_) => return Ok(()),
        };
        match old_new_route(target.kind, object, names) {
            None => Err(format!(
                "{}; the plan paused and wrote nothing",
                no_old_new(target, names, "no longer has a")
            )),
            Some(r) if r.new_weight() != Some(weight) => Err(changed_sentence(target, &r, weight)),
            Some(_) => Ok(()),
        }
    }

    /// The one way a plan changes a target: sets the new version's weight `to` (old gets the
    /// rest; for an HTTPRoute the new backend `to` and the old one `100 - to`) on the target's
    /// old/new route with a guarded JSON Patch carrying `operation` in its
    /// `switchyard.dev/last-change` annotation. With `from`, the route must still have that new
    /// weight (else `Changed`, and nothing is written); a route that already carries `operation`
    /// with these weights is `AlreadyThere` (a write a crashed replica made before it could
    /// record it). `from: None` adopts the route as it is now.
    pub async fn write_plan_step(
        &self,
        actor: &Actor<'_>,
        target: &PlanTarget,
        names: OldNewNames<'_>,
        from: Option<u32>,
        to: u32,
        operation: &str,
    ) -> StepOutcome {
        // Always the API server's answer, never the cache: this decides whether a step already
        // went out.
        let api = route_api(actor.client, target.kind, &target.namespace);
        let object = match read_fresh(target.kind, &api, &target.namespace, &target.name).await {
            Ok(o) => o,
            Err(e) => return StepOutcome::Failed(e),
        };
        let Some(route) = old_new_route(target.kind, object, names) else {
            return StepOutcome::Changed(format!(
                "{}; the plan wrote nothing",
                no_old_new(target, names, "has no")
            ));
        };
        let ours = history::last_change(&route.object)
            .and_then(|c| c.operation)
            .is_some_and(|op| op == operation);
        if ours && route.new_weight() == Some(to) {
            return StepOutcome::AlreadyThere;
        }
        if let Some(from) = from {
            if route.new_weight() != Some(from) {
                return StepOutcome::Changed(changed_sentence(target, &route, from));
            }
        }
        let request = SetWeightsRequest {
            weights: route.weights_for(to),
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
/// plan had set old 95 / new 5; the plan paused and overwrote nothing` — for an HTTPRoute `its
/// weights are now review-v1 1 / review-v2 3 (review-v2 gets 75 %) where the plan had set
/// review-v1 95 / review-v2 5`.
fn changed_sentence(target: &PlanTarget, route: &Route, planned: u32) -> String {
    let who = route
        .object
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
    let what = match route.kind {
        RouteKind::VirtualService => "split",
        RouteKind::HTTPRoute => "weights",
    };
    format!(
        "{} was changed by someone else{who}: its {what} {} now {} where the plan had set {}; the plan paused and overwrote nothing",
        target_label(target),
        if what == "split" { "is" } else { "are" },
        route.split_now(),
        route.split_planned(planned)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::Backends;

    fn names() -> (Subsets, Backends) {
        (Subsets::default(), Backends::default())
    }

    fn http_route(v1: Option<u32>, v2: u32) -> Value {
        let mut old = json!({"name": "review-v1", "port": 80});
        if let Some(w) = v1 {
            old["weight"] = json!(w);
        }
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "review", "namespace": "hands-on-gateway",
                "managedFields": [
                    {"manager": "switchyard", "time": "2026-01-01T00:00:00Z"},
                    {"manager": "kubectl-patch", "time": "2026-01-01T00:01:00Z"}
                ]},
            "spec": {
                "parentRefs": [{"group": "", "kind": "Service", "name": "review", "port": 80}],
                "rules": [
                    {"matches": [{"headers": [{"name": "x-group", "value": "test"}]}],
                     "backendRefs": [{"name": "review-v2", "port": 80}]},
                    {"backendRefs": [old, {"name": "review-v2", "port": 80, "weight": v2}]}
                ]
            }
        })
    }

    fn target(kind: RouteKind) -> PlanTarget {
        PlanTarget {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
            kind,
        }
    }

    #[test]
    fn an_http_route_s_plan_weight_is_its_new_backend_s_whole_percent() {
        assert_eq!(new_percent(RouteKind::HTTPRoute, 95, 5), Some(5));
        assert_eq!(new_percent(RouteKind::HTTPRoute, 1, 3), Some(75));
        assert_eq!(new_percent(RouteKind::HTTPRoute, 1, 1), Some(50));
        assert_eq!(
            new_percent(RouteKind::HTTPRoute, 1, 2),
            None,
            "66.7 % is no step"
        );
        assert_eq!(
            new_percent(RouteKind::HTTPRoute, 0, 0),
            None,
            "no traffic at all"
        );
        assert_eq!(new_percent(RouteKind::HTTPRoute, 0, 1_000_000), Some(100));
        // A VirtualService's weights are percentages already.
        assert_eq!(new_percent(RouteKind::VirtualService, 95, 5), Some(5));
    }

    #[test]
    fn an_http_route_s_old_new_rule_is_found_and_written_in_its_backends_keys() {
        let (subsets, backends) = names();
        let names = OldNewNames {
            subsets: &subsets,
            backends: &backends,
        };
        // A missing weight is 1 (Gateway API's default): 1 and 3 are 25 % / 75 %.
        let route = old_new_route(RouteKind::HTTPRoute, http_route(None, 3), names).unwrap();
        assert_eq!(route.index, 1);
        assert_eq!((route.old, route.new), (1, 3));
        assert_eq!(route.new_weight(), Some(75));
        assert_eq!(
            route.weights_for(5),
            BTreeMap::from([("review-v1".to_owned(), 95), ("review-v2".to_owned(), 5)])
        );
        assert_eq!(
            changed_sentence(&target(RouteKind::HTTPRoute), &route, 5),
            "HTTPRoute review was changed by someone else (kubectl-patch): its weights are now review-v1 1 / review-v2 3 (review-v2 gets 75 %) where the plan had set review-v1 95 / review-v2 5; the plan paused and overwrote nothing"
        );
        // Weights summing to 100 need no translation; weights of 0 send nothing.
        let route = old_new_route(RouteKind::HTTPRoute, http_route(Some(50), 50), names).unwrap();
        assert_eq!(route.split_now(), "review-v1 50 / review-v2 50");
        let route = old_new_route(RouteKind::HTTPRoute, http_route(Some(0), 0), names).unwrap();
        assert_eq!(route.new_weight(), None);
        assert_eq!(
            route.split_now(),
            "review-v1 0 / review-v2 0 (no traffic to either)"
        );
        let route = old_new_route(RouteKind::HTTPRoute, http_route(Some(1), 2), names).unwrap();
        assert_eq!(
            route.split_now(),
            "review-v1 1 / review-v2 2 (review-v2 gets 66.7 %)"
        );
        // The same object read as a VirtualService has no old/new route.
        assert!(old_new_route(RouteKind::VirtualService, http_route(None, 3), names).is_none());
        // Nor does an HTTPRoute whose backends are not an old/new pair.
        let mut other = http_route(None, 3);
        other["spec"]["rules"][1]["backendRefs"][1]["name"] = json!("rating-v2");
        assert!(old_new_route(RouteKind::HTTPRoute, other, names).is_none());
        assert_eq!(
            no_old_new(&target(RouteKind::HTTPRoute), names, "has no"),
            "HTTPRoute review has no rule that splits between exactly two backends {service}-v1 and {service}-v2"
        );
    }

    #[test]
    fn a_virtual_service_s_sentences_are_as_before() {
        let (subsets, backends) = names();
        let names = OldNewNames {
            subsets: &subsets,
            backends: &backends,
        };
        let vs = json!({
            "metadata": {"name": "review", "namespace": "hands-on"},
            "spec": {"hosts": ["review"], "http": [{"route": [
                {"destination": {"host": "review", "subset": "old"}, "weight": 50},
                {"destination": {"host": "review", "subset": "new"}, "weight": 50}
            ]}]}
        });
        let route = old_new_route(RouteKind::VirtualService, vs, names).unwrap();
        assert_eq!(route.new_weight(), Some(50));
        assert_eq!(
            route.weights_for(25),
            BTreeMap::from([("new".to_owned(), 25), ("old".to_owned(), 75)])
        );
        let mut t = target(RouteKind::VirtualService);
        t.namespace = "hands-on".into();
        assert_eq!(
            changed_sentence(&t, &route, 5),
            "review was changed by someone else: its split is now old 50 / new 50 where the plan had set old 95 / new 5; the plan paused and overwrote nothing"
        );
        assert_eq!(
            no_old_new(&t, names, "no longer has a"),
            "review no longer has a route that splits between exactly old and new"
        );
        assert_eq!(target_label(&t), "review");
        assert_eq!(
            target_label(&target(RouteKind::HTTPRoute)),
            "HTTPRoute review"
        );
    }
}
