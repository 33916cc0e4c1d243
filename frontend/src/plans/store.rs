//! The page's copy of the release plans and their evidence: the first reads, then every `plan`,
//! `plan_deleted` and `plan_event` event of the live stream.

use leptos::prelude::*;
use switchyard_protocol::{Plan, PlanRecord, ServerEvent};

/// Every plan the server reported (by namespace and id) and every piece of their evidence
/// (oldest first, without duplicates).
#[derive(Clone, Copy)]
pub struct PlansStore {
    pub plans: RwSignal<Vec<Plan>>,
    pub records: RwSignal<Vec<PlanRecord>>,
}

/// Creates the store and makes it available below. The plans come with the event stream (every
/// plan on connect, then each change); with `read_history`, their evidence so far is taken from
/// the history read the page starts at load (`api::preload`, one of its readers).
pub fn provide_plans(read_history: bool) -> PlansStore {
    let store = PlansStore {
        plans: RwSignal::new(Vec::new()),
        records: RwSignal::new(Vec::new()),
    };
    provide_context(store);
    if read_history {
        leptos::task::spawn_local(async move {
            if let Ok(history) = crate::api::plans::history().await {
                store.add_records(history.plan_events);
            }
        });
    }
    store
}

/// Adds `plan`, or replaces the one with its id (kept sorted by namespace and id); an older
/// copy (lower resourceVersion, when both are numbers) does not replace a newer one.
pub fn upsert(plans: &mut Vec<Plan>, plan: Plan) {
    let newer = |a: &str, b: &str| match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a >= b,
        _ => true,
    };
    match plans
        .iter_mut()
        .find(|p| p.namespace == plan.namespace && p.id == plan.id)
    {
        Some(existing) => {
            if newer(&plan.resource_version, &existing.resource_version) {
                *existing = plan;
            }
        }
        None => {
            plans.push(plan);
            plans.sort_by(|a, b| (&a.namespace, &a.id).cmp(&(&b.namespace, &b.id)));
        }
    }
}

/// Adds records not already present (by id), oldest first.
pub fn add_records(into: &mut Vec<PlanRecord>, incoming: Vec<PlanRecord>) {
    for record in incoming {
        if !into.iter().any(|r| r.id == record.id) {
            into.push(record);
        }
    }
    into.sort_by(|a, b| (a.time.as_str(), a.id.as_str()).cmp(&(b.time.as_str(), b.id.as_str())));
}

impl PlansStore {
    pub fn upsert(&self, plan: Plan) {
        self.plans.update(|plans| upsert(plans, plan));
    }

    pub fn add_records(&self, records: Vec<PlanRecord>) {
        self.records.update(|into| add_records(into, records));
    }

    /// Applies one event of the live stream (others are not the plans').
    pub fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Plan(plan) => self.upsert(*plan),
            ServerEvent::PlanDeleted { namespace, id } => self
                .plans
                .update(|plans| plans.retain(|p| !(p.namespace == namespace && p.id == id))),
            ServerEvent::PlanEvent(record) => self.add_records(vec![*record]),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::plans::PlanPhase;

    fn plan(id: &str, rv: &str, phase: PlanPhase) -> Plan {
        Plan {
            id: id.into(),
            namespace: "hands-on".into(),
            phase,
            step: 0,
            targets: vec![],
            steps: vec![100],
            hold_seconds: 1,
            gates: Default::default(),
            on_abort: Default::default(),
            approval_before: vec![],
            evaluations: vec![],
            weight: None,
            reason: None,
            step_started_at: None,
            next_evaluation_at: None,
            accruing: None,
            created_by: "jane".into(),
            created_at: "t".into(),
            pending: vec![],
            rolled_back: false,
            resource_version: rv.into(),
        }
    }

    #[test]
    fn newer_copies_replace_older_ones_and_never_the_other_way() {
        let mut plans = vec![];
        upsert(&mut plans, plan("b", "5", PlanPhase::Running));
        upsert(&mut plans, plan("a", "3", PlanPhase::Running));
        assert_eq!(
            plans.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        upsert(&mut plans, plan("b", "7", PlanPhase::Aborted));
        upsert(&mut plans, plan("b", "6", PlanPhase::Running));
        assert_eq!(plans[1].phase, PlanPhase::Aborted);
    }

    #[test]
    fn records_are_kept_once_in_time_order() {
        let record = |id: &str, time: &str| PlanRecord {
            id: id.into(),
            time: time.into(),
            namespace: "hands-on".into(),
            plan: "p".into(),
            kind: "step".into(),
            step: 0,
            user: "switchyard".into(),
            message: id.into(),
            evaluation: None,
        };
        let mut into = vec![record("b", "2")];
        add_records(&mut into, vec![record("a", "1"), record("b", "2")]);
        assert_eq!(
            into.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
