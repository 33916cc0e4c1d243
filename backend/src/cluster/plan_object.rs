//! The ReleasePlan custom resource (`switchyard.dev/v1alpha1`, `deploy/crd-releaseplan.yaml`) as
//! the console stores a release plan in the cluster, pure: its `spec` is what people write (the
//! plan, and the control actions they ask for, appended to `spec.commands`), its `status` what
//! the driving replica writes (phase, step, evaluations, the write in flight, the evidence not yet
//! recorded). Reading an object into these types and into the wire's `Plan`. No I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_protocol::plans::{
    Evaluation, Gates, OnAbort, Plan, PlanAction, PlanPhase, PlanRecord, PlanTarget,
};

pub const GROUP: &str = "switchyard.dev";
pub const VERSION: &str = "v1alpha1";
pub const KIND: &str = "ReleasePlan";
pub const PLURAL: &str = "releaseplans";
/// Evaluations kept in the status (and shown); older ones stay in the history Events.
pub const KEPT_EVALUATIONS: usize = 50;
/// Annotation on a plan's Events holding the full record (`PlanRecord`).
pub const PLAN_EVENT_ANNOTATION: &str = "switchyard.dev/plan-event";

/// What people write: the plan as asked for, who asked, and the control actions since.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Spec {
    pub targets: Vec<PlanTarget>,
    pub steps: Vec<u32>,
    pub hold_seconds: u32,
    pub gates: Gates,
    pub on_abort: OnAbort,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_before: Vec<usize>,
    pub created_by: String,
    pub created_at: String,
    /// Control actions in the order they were asked for; the driver carries out those past
    /// `status.handled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
}

/// A control action a person asked for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Command {
    pub action: PlanAction,
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// Why a weight write is made.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The plan's step `step`.
    Step,
    /// Back towards the old version after an abort.
    Abort,
}

/// A weight write the driver started: recorded in the status *before* any target is written, so
/// a replica that takes over finishes it (each target's `switchyard.dev/last-change` annotation
/// says whether it already carries `operation`) instead of repeating or skipping it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PendingWrite {
    /// The operation id every target's write carries (`{plan}.{uid}.w{n}`).
    pub operation: String,
    pub purpose: Purpose,
    /// The step this write establishes (for an abort, the step whose weight it goes back to, or
    /// the first step when it goes to 0).
    pub step: usize,
    /// The new version's weight before and after; `from: None` adopts whatever each route has
    /// (a resume after someone else changed a target).
    pub from: Option<u32>,
    pub to: u32,
    /// Who the write is for: `switchyard` for the plan's own steps, the person for a promote.
    pub by: String,
}

/// A piece of evidence decided but not yet written as an Event: kept in the status until it is,
/// so a replica that takes over writes it (Events are named by `seq`, so never twice).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Draft {
    pub seq: u64,
    pub time: String,
    pub kind: String,
    pub step: usize,
    pub user: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
}

/// What the driving replica writes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// `None` until the driver picked the plan up.
    #[serde(default)]
    pub phase: Option<PlanPhase>,
    #[serde(default)]
    pub step: usize,
    /// The new version's weight the plan has put on its targets.
    #[serde(default)]
    pub weight: Option<u32>,
    #[serde(default)]
    pub step_started_at: Option<f64>,
    /// Start of the current evaluation window (the step's start, or the last failed evaluation).
    #[serde(default)]
    pub window_start: Option<f64>,
    /// When the next evaluation (or the next move of a stepped abort) is due.
    #[serde(default)]
    pub next_at: Option<f64>,
    /// Failed evaluations of the current step.
    #[serde(default)]
    pub failures: u32,
    /// Inconclusive evaluations in a row.
    #[serde(default)]
    pub inconclusive: u32,
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    #[serde(default)]
    pub reason: Option<String>,
    /// How many of `spec.commands` were carried out.
    #[serde(default)]
    pub handled: usize,
    #[serde(default)]
    pub pending: Option<PendingWrite>,
    /// Weight writes started so far (numbers their operation ids).
    #[serde(default)]
    pub writes: u64,
    /// The phase a resume returns to.
    #[serde(default)]
    pub resume_phase: Option<PlanPhase>,
    /// Paused because someone else changed a target: a resume re-applies the current step to
    /// every target as it is then.
    #[serde(default)]
    pub adopt_on_resume: bool,
    #[serde(default)]
    pub rolled_back: bool,
    /// Evidence decided but not yet written as Events.
    #[serde(default)]
    pub outbox: Vec<Draft>,
    /// Evidence records drafted so far (numbers them).
    #[serde(default)]
    pub recorded: u64,
}

/// A ReleasePlan read from its JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanObject {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub spec: Spec,
    pub status: Status,
}

impl PlanObject {
    /// Reads a ReleasePlan; `None` when its spec is not one the console wrote.
    pub fn from_value(object: &Value) -> Option<PlanObject> {
        let text = |p: &str| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let spec: Spec = serde_json::from_value(object.get("spec")?.clone()).ok()?;
        let status: Status = object
            .get("status")
            .filter(|s| !s.is_null())
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or_default();
        Some(PlanObject {
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
            uid: text("/metadata/uid"),
            resource_version: text("/metadata/resourceVersion"),
            spec,
            status,
        })
    }

    /// A short, stable prefix for names derived from this plan (operation ids, Event names):
    /// the name and the start of the uid, so a plan re-created under the same name never meets
    /// the Events of its predecessor.
    pub fn key(&self) -> String {
        let uid: String = self
            .uid
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        format!("{}.{uid}", self.name)
    }

    /// The Event name of evidence record `seq`.
    pub fn event_name(&self, seq: u64) -> String {
        format!("{}.r{seq}", self.key())
    }

    /// The operation id of the `n`th weight write.
    pub fn operation(&self, n: u64) -> String {
        format!("{}.w{n}", self.key())
    }

    /// The plan as the console shows it (without the gate values as they accrue).
    pub fn view(&self) -> Plan {
        let s = &self.status;
        let spec = &self.spec;
        Plan {
            id: self.name.clone(),
            namespace: self.namespace.clone(),
            phase: s.phase.unwrap_or(PlanPhase::Running),
            step: s.step,
            targets: spec.targets.clone(),
            steps: spec.steps.clone(),
            hold_seconds: spec.hold_seconds,
            gates: spec.gates.clone(),
            on_abort: spec.on_abort,
            approval_before: spec.approval_before.clone(),
            evaluations: s.evaluations.clone(),
            weight: s.weight,
            reason: s.reason.clone(),
            step_started_at: s.step_started_at,
            next_evaluation_at: s
                .next_at
                .filter(|_| matches!(s.phase, Some(PlanPhase::Running | PlanPhase::Waiting))),
            accruing: None,
            created_by: spec.created_by.clone(),
            created_at: spec.created_at.clone(),
            pending: spec
                .commands
                .iter()
                .skip(s.handled)
                .map(|c| c.action)
                .collect(),
            rolled_back: s.rolled_back,
            resource_version: self.resource_version.clone(),
        }
    }

    /// Whether the driver still has something to do with this plan.
    pub fn active(&self) -> bool {
        match self.status.phase {
            None => true,
            Some(PlanPhase::Completed) => {
                self.status.pending.is_some() || !self.status.outbox.is_empty()
            }
            Some(PlanPhase::Aborted) => {
                !self.status.rolled_back
                    || self.status.pending.is_some()
                    || !self.status.outbox.is_empty()
            }
            Some(_) => true,
        }
    }

    /// The evidence record of a draft, as the history shows it.
    pub fn record(&self, draft: &Draft) -> PlanRecord {
        PlanRecord {
            id: self.event_name(draft.seq),
            time: draft.time.clone(),
            namespace: self.namespace.clone(),
            plan: self.name.clone(),
            kind: draft.kind.clone(),
            step: draft.step,
            user: draft.user.clone(),
            message: draft.message.clone(),
            evaluation: draft.evaluation.clone(),
        }
    }
}

/// The Kubernetes Event for a plan's evidence record, on the ReleasePlan, labelled like the
/// history's Events so the same cache keeps it; the record itself rides in an annotation.
pub fn event_for(plan: &PlanObject, record: &PlanRecord) -> Value {
    let reason = match record.kind.as_str() {
        "step" => "PlanStep",
        "evaluation" => "PlanEvaluation",
        "aborted" => "PlanAborted",
        "rolled_back" => "PlanRolledBack",
        "completed" => "PlanCompleted",
        "paused" => "PlanPaused",
        "waiting" => "PlanWaiting",
        "approval" => "PlanAwaitingApproval",
        _ => "PlanAction",
    };
    let warning = matches!(record.kind.as_str(), "aborted" | "paused")
        || record
            .evaluation
            .as_ref()
            .is_some_and(|e| e.verdict == switchyard_protocol::plans::Verdict::Fail);
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": record.id,
            "namespace": plan.namespace,
            "labels": {
                super::history::EVENT_LABEL.0: super::history::EVENT_LABEL.1,
                "switchyard.dev/plan": plan.name,
            },
            "annotations": {PLAN_EVENT_ANNOTATION: serde_json::to_string(record).unwrap_or_default()},
        },
        "involvedObject": {
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": KIND,
            "namespace": plan.namespace,
            "name": plan.name,
            "uid": plan.uid,
        },
        "reason": reason,
        // Event messages are limited to 1 KiB by the API server's validation.
        "message": truncate(&record.message, 1000),
        "type": if warning { "Warning" } else { "Normal" },
        "source": {"component": "switchyard"},
        "reportingComponent": "switchyard",
        "reportingInstance": "switchyard",
        "firstTimestamp": record.time,
        "lastTimestamp": record.time,
        "count": 1,
    })
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Reads a plan's evidence record back from its Event.
pub fn record_from_event(event: &Value) -> Option<PlanRecord> {
    let text = event
        .pointer("/metadata/annotations")?
        .get(PLAN_EVENT_ANNOTATION)?
        .as_str()?;
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object() -> Value {
        json!({
            "apiVersion": "switchyard.dev/v1alpha1", "kind": "ReleasePlan",
            "metadata": {"name": "plan-1", "namespace": "hands-on", "uid": "A1B2-c3d4-e5f6", "resourceVersion": "9"},
            "spec": {
                "targets": [{"namespace": "hands-on", "name": "review", "kind": "VirtualService"}],
                "steps": [5, 25, 100], "hold_seconds": 30,
                "gates": {"min_success_rate": 99.0, "max_p99_ms": 500.0, "min_requests": 50,
                          "failures_to_abort": 1, "max_inconclusive": 3},
                "on_abort": "immediate", "created_by": "jane", "created_at": "2026-11-27T10:00:00Z",
                "commands": [{"action": "pause", "by": "jane", "at": "2026-11-27T10:01:00Z"},
                             {"action": "resume", "by": "jane", "at": "2026-11-27T10:02:00Z"}]
            }
        })
    }

    #[test]
    fn a_new_plan_reads_with_an_empty_status_and_shows_its_pending_actions() {
        let plan = PlanObject::from_value(&object()).unwrap();
        assert_eq!(plan.status, Status::default());
        assert!(plan.active());
        assert_eq!(plan.key(), "plan-1.a1b2c3d4");
        assert_eq!(plan.operation(3), "plan-1.a1b2c3d4.w3");
        let view = plan.view();
        assert_eq!(view.phase, PlanPhase::Running);
        assert_eq!(view.pending, vec![PlanAction::Pause, PlanAction::Resume]);
        let mut handled = plan.clone();
        handled.status.handled = 1;
        assert_eq!(handled.view().pending, vec![PlanAction::Resume]);
    }

    #[test]
    fn the_status_round_trips_and_finished_plans_are_inactive() {
        let mut plan = PlanObject::from_value(&object()).unwrap();
        plan.status = Status {
            phase: Some(PlanPhase::Aborted),
            rolled_back: true,
            ..Status::default()
        };
        let mut value = object();
        value["status"] = serde_json::to_value(&plan.status).unwrap();
        assert_eq!(PlanObject::from_value(&value).unwrap(), plan);
        assert!(!plan.active());
        plan.status.rolled_back = false;
        assert!(plan.active(), "a stepped abort on its way down");
        assert!(PlanObject::from_value(&json!({"spec": {"steps": "x"}})).is_none());
    }

    #[test]
    fn evidence_events_round_trip() {
        let plan = PlanObject::from_value(&object()).unwrap();
        let draft = Draft {
            seq: 4,
            time: "2026-11-27T10:03:00Z".into(),
            kind: "aborted".into(),
            step: 1,
            user: "switchyard".into(),
            message:
                "aborted at step 2 (25 %): review v2 success rate 93.1 % < 99 % over 412 requests"
                    .into(),
            evaluation: None,
        };
        let record = plan.record(&draft);
        let event = event_for(&plan, &record);
        assert_eq!(event["metadata"]["name"], "plan-1.a1b2c3d4.r4");
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["involvedObject"]["kind"], "ReleasePlan");
        assert_eq!(record_from_event(&event), Some(record));
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
