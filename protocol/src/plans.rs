//! Release plans on the wire: `POST /api/v1/plans` (a plan's targets, steps of the new version's
//! weight, hold time, gates, what an abort does, approvals), `GET /api/v1/plans` (each plan with
//! its phase, step and the gate evaluations so far), and the plan evidence the history and the
//! event stream carry. The defaults of the gates are Flagger's (99 % success, 500 ms p99) and are
//! written once here, for the server and the page's editor.

use serde::{Deserialize, Serialize};

use crate::RouteKind;

/// Gate default: the least share of the new version's requests that must succeed, in percent
/// (Flagger's `request-success-rate` default threshold).
pub const DEFAULT_MIN_SUCCESS_RATE: f64 = 99.0;
/// Gate default: the most the new version's p99 latency may be, in milliseconds (Flagger's
/// `request-duration` default threshold).
pub const DEFAULT_MAX_P99_MS: f64 = 500.0;
/// Gate default: fewer requests to the new version in an evaluation is inconclusive.
pub const DEFAULT_MIN_REQUESTS: u64 = 50;
/// How many failed evaluations abort a plan unless it says otherwise.
pub const DEFAULT_FAILURES_TO_ABORT: u32 = 1;
/// How many inconclusive evaluations in a row a plan waits through before it pauses.
pub const DEFAULT_MAX_INCONCLUSIVE: u32 = 3;
/// The most steps a plan may have.
pub const MAX_STEPS: usize = 20;
/// The most targets a plan may have.
pub const MAX_TARGETS: usize = 50;

fn default_min_success_rate() -> f64 {
    DEFAULT_MIN_SUCCESS_RATE
}
fn default_max_p99_ms() -> f64 {
    DEFAULT_MAX_P99_MS
}
fn default_min_requests() -> u64 {
    DEFAULT_MIN_REQUESTS
}
fn default_failures_to_abort() -> u32 {
    DEFAULT_FAILURES_TO_ABORT
}
fn default_max_inconclusive() -> u32 {
    DEFAULT_MAX_INCONCLUSIVE
}

/// `POST /api/v1/plans`: a release plan, started at once. Strict like every request body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The routes the plan moves together (at least one).
    pub targets: Vec<PlanTarget>,
    /// The new version's weight at each step, rising, each 1..=100, ending at 100 (e.g. 5, 25,
    /// 50, 100).
    pub steps: Vec<u32>,
    /// How long each step holds before its gates are evaluated, in seconds.
    pub hold_seconds: u32,
    /// The gates every evaluation applies to the new version of each target.
    #[serde(default)]
    pub gates: Gates,
    /// What an abort does: `immediate` (every target back to old 100 at once) or `stepped`
    /// (down through the steps taken, one per hold).
    #[serde(default)]
    pub on_abort: OnAbort,
    /// Step indices before which the plan waits for a person's promote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_before: Vec<usize>,
}

/// One route a plan moves: its old/new route (a VirtualService's last route split between exactly
/// the old and new subsets, an HTTPRoute's last rule split between its old and new backends).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanTarget {
    pub namespace: String,
    pub name: String,
    /// `VirtualService` (the default) or `HTTPRoute`.
    #[serde(default)]
    pub kind: RouteKind,
}

/// The gates of a plan, on the new version of each target over the evaluation's window.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Gates {
    /// Least share of requests that succeed (not 5xx, and a response at all), in percent.
    #[serde(default = "default_min_success_rate")]
    pub min_success_rate: f64,
    /// Most p99 latency, in milliseconds.
    #[serde(default = "default_max_p99_ms")]
    pub max_p99_ms: f64,
    /// Fewest requests to the new version an evaluation needs; fewer is inconclusive (never a
    /// promotion or an abort).
    #[serde(default = "default_min_requests")]
    pub min_requests: u64,
    /// Optional: the new version's success rate may be at most this many percentage points below
    /// the old version's over the same window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drop_vs_old: Option<f64>,
    /// How many failed evaluations of one step abort the plan.
    #[serde(default = "default_failures_to_abort")]
    pub failures_to_abort: u32,
    /// How many inconclusive evaluations in a row the plan waits through before it pauses.
    #[serde(default = "default_max_inconclusive")]
    pub max_inconclusive: u32,
}

impl Default for Gates {
    fn default() -> Self {
        Gates {
            min_success_rate: DEFAULT_MIN_SUCCESS_RATE,
            max_p99_ms: DEFAULT_MAX_P99_MS,
            min_requests: DEFAULT_MIN_REQUESTS,
            max_drop_vs_old: None,
            failures_to_abort: DEFAULT_FAILURES_TO_ABORT,
            max_inconclusive: DEFAULT_MAX_INCONCLUSIVE,
        }
    }
}

/// What an abort does to the targets.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnAbort {
    /// Every target straight back to old 100.
    #[default]
    Immediate,
    /// Back down through the steps taken, one per hold, then old 100.
    Stepped,
}

/// Where a plan is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanPhase {
    /// A step holds; its gates are evaluated at the end of the hold.
    Running,
    /// The last evaluation was inconclusive (too few requests): waiting for traffic.
    Waiting,
    /// Waiting for a person's promote before the next step.
    AwaitingApproval,
    /// Stopped by a person, by too many inconclusive evaluations, or by a change someone else
    /// made to a target; `reason` says which. Resume continues.
    Paused,
    /// Given up: the targets went (or are going, stepped) back to the old version.
    Aborted,
    /// Every step passed: the new version has all the traffic.
    Completed,
}

impl PlanPhase {
    /// Whether the plan is over (nothing will move any more, except a stepped abort's way down).
    pub fn is_final(self) -> bool {
        matches!(self, PlanPhase::Aborted | PlanPhase::Completed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlanPhase::Running => "running",
            PlanPhase::Waiting => "waiting",
            PlanPhase::AwaitingApproval => "awaiting_approval",
            PlanPhase::Paused => "paused",
            PlanPhase::Aborted => "aborted",
            PlanPhase::Completed => "completed",
        }
    }
}

/// The control actions of `POST /api/v1/plans/{id}/{action}`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanAction {
    Pause,
    Resume,
    /// The next step now (also the approval of a step that waits for one).
    Promote,
    Abort,
}

impl PlanAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanAction::Pause => "pause",
            PlanAction::Resume => "resume",
            PlanAction::Promote => "promote",
            PlanAction::Abort => "abort",
        }
    }

    /// Whether the action makes sense in `phase`; else the sentence saying why not. The page
    /// greys its buttons with it, the server refuses with it (409).
    pub fn allowed_in(self, phase: PlanPhase) -> Result<(), String> {
        use PlanPhase as P;
        let ok = match self {
            PlanAction::Pause => matches!(phase, P::Running | P::Waiting | P::AwaitingApproval),
            PlanAction::Resume => phase == P::Paused,
            PlanAction::Promote => {
                matches!(
                    phase,
                    P::Running | P::Waiting | P::AwaitingApproval | P::Paused
                )
            }
            PlanAction::Abort => !phase.is_final(),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the plan is {}: {} does not apply",
                phase.as_str().replace('_', " "),
                self.as_str()
            ))
        }
    }
}

/// The verdict of a gate evaluation, of one target or of all of them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Too few requests to judge: neither a promotion nor an abort.
    Inconclusive,
}

/// What one version served over an evaluation's window.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionValues {
    /// The subset (`new`, `old`); for an HTTPRoute target the backend Service as its rule names
    /// it (`review-v2`).
    pub subset: String,
    /// The version label its DestinationRule subset selects (`v2`), or for an HTTPRoute target
    /// the `version` of its backend Service's selector, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Requests over the window.
    pub requests: f64,
    /// Percent of them that succeeded (not 5xx, a response at all); `None` without requests.
    pub success_rate: Option<f64>,
    /// p99 latency in milliseconds; `None` without latency samples.
    pub p99_ms: Option<f64>,
}

/// One target's gate results in an evaluation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetEvaluation {
    pub namespace: String,
    pub name: String,
    /// The target's kind: `HTTPRoute`, or absent for a VirtualService (as in history records).
    #[serde(default, skip_serializing_if = "RouteKind::is_virtual_service")]
    pub kind: RouteKind,
    pub verdict: Verdict,
    pub new: VersionValues,
    pub old: VersionValues,
    /// Sentences for each gate that failed or could not be judged, e.g. `review v2 success rate
    /// 93.1 % < 99 % over 412 requests`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// One gate evaluation of a step: every target, with values, thresholds and sample sizes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    /// Unix seconds of the evaluation.
    pub at: f64,
    /// The step evaluated (index) and its new-version weight.
    pub step: usize,
    pub weight: u32,
    /// The window the values cover, in seconds (ending at `at`).
    pub window_seconds: f64,
    pub verdict: Verdict,
    /// The gates applied (thresholds).
    pub gates: Gates,
    pub targets: Vec<TargetEvaluation>,
    /// One sentence for the timeline.
    pub summary: String,
}

/// A release plan as the console shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    /// The plan's name: the ReleasePlan object in `namespace`.
    pub id: String,
    pub namespace: String,
    pub phase: PlanPhase,
    /// Index of the current step into `steps` (the last one applied, or about to be).
    pub step: usize,
    pub targets: Vec<PlanTarget>,
    pub steps: Vec<u32>,
    pub hold_seconds: u32,
    pub gates: Gates,
    pub on_abort: OnAbort,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_before: Vec<usize>,
    /// The gate evaluations so far, oldest first (the last 50).
    pub evaluations: Vec<Evaluation>,
    /// The new version's weight the plan has put on every target now; `None` before its first
    /// step went out.
    #[serde(default)]
    pub weight: Option<u32>,
    /// Why the plan waits, paused or aborted, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix seconds when the current step's weights went out (its hold began).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_started_at: Option<f64>,
    /// Unix seconds when the next evaluation is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_evaluation_at: Option<f64>,
    /// The gate values over the window so far, as they accrue (not a verdict yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accruing: Option<Evaluation>,
    /// Who created the plan and when (RFC 3339).
    pub created_by: String,
    pub created_at: String,
    /// Control actions asked for and not yet carried out by the driving replica.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PlanAction>,
    /// True once an abort has brought every target back to old 100.
    #[serde(default)]
    pub rolled_back: bool,
    /// The ReleasePlan's resourceVersion.
    pub resource_version: String,
}

/// `GET /api/v1/plans`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlansResponse {
    pub plans: Vec<Plan>,
}

/// One piece of a plan's evidence, kept as a Kubernetes Event on the ReleasePlan: a step that
/// went out, a gate evaluation, a pause, an abort, a completion, a person's control action.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanRecord {
    /// Unique id (the Event's name).
    pub id: String,
    /// RFC 3339 time.
    pub time: String,
    pub namespace: String,
    pub plan: String,
    /// `step`, `evaluation`, `waiting`, `paused`, `resumed`, `approval`, `aborted`,
    /// `rolled_back`, `completed`, `action`.
    pub kind: String,
    /// The step it concerns.
    pub step: usize,
    /// Who: the person for control actions, the driving replica's identity otherwise.
    pub user: String,
    /// The sentence, e.g. `aborted at step 2 (25 %): review v2 success rate 93.1 % < 99 % over
    /// 412 requests`.
    pub message: String,
    /// The evaluation itself, for `evaluation` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_request_reads_with_defaults() {
        let request: PlanRequest = serde_json::from_str(
            r#"{"targets":[{"namespace":"hands-on","name":"review"}],
                "steps":[5,25,50,100], "hold_seconds":60, "gates":{"min_success_rate":99,"max_p99_ms":500,
                "min_requests":50}, "on_abort":"immediate"}"#,
        )
        .unwrap();
        assert_eq!(request.targets[0].kind, RouteKind::VirtualService);
        assert_eq!(request.gates, Gates::default());
        assert_eq!(request.on_abort, OnAbort::Immediate);
        assert!(request.approval_before.is_empty());
        let stepped: PlanRequest = serde_json::from_str(
            r#"{"targets":[{"namespace":"a","name":"b","kind":"HTTPRoute"}],"steps":[100],
                "hold_seconds":1,"on_abort":"stepped","approval_before":[2]}"#,
        )
        .unwrap();
        assert_eq!(stepped.on_abort, OnAbort::Stepped);
        assert_eq!(stepped.targets[0].kind, RouteKind::HTTPRoute);
        assert_eq!(stepped.approval_before, vec![2]);
        for bad in [
            r#"{"targets":[],"steps":[100],"hold_seconds":1,"extra":1}"#,
            r#"{"targets":[],"steps":[100],"hold_seconds":1,"gates":{"min_sucess_rate":1}}"#,
            r#"{"targets":[{"namespace":"a","name":"b","expected":[]}],"steps":[100],"hold_seconds":1}"#,
        ] {
            assert!(serde_json::from_str::<PlanRequest>(bad).is_err(), "{bad}");
        }
    }

    fn values(subset: &str, requests: f64, success: f64) -> VersionValues {
        VersionValues {
            subset: subset.into(),
            version: Some(if subset == "new" { "v2" } else { "v1" }.into()),
            requests,
            success_rate: Some(success),
            p99_ms: Some(120.0),
        }
    }

    #[test]
    fn plan_json_is_stable() {
        let evaluation = Evaluation {
            at: 100.0,
            step: 1,
            weight: 25,
            window_seconds: 60.0,
            verdict: Verdict::Fail,
            gates: Gates::default(),
            targets: vec![TargetEvaluation {
                namespace: "hands-on".into(),
                name: "review".into(),
                kind: Default::default(),
                verdict: Verdict::Fail,
                new: values("new", 412.0, 93.1),
                old: values("old", 1200.0, 100.0),
                reasons: vec!["review v2 success rate 93.1 % < 99 % over 412 requests".into()],
            }],
            summary: "fail".into(),
        };
        let plan = Plan {
            id: "plan-1".into(),
            namespace: "hands-on".into(),
            phase: PlanPhase::AwaitingApproval,
            step: 1,
            targets: vec![PlanTarget {
                namespace: "hands-on".into(),
                name: "review".into(),
                kind: RouteKind::VirtualService,
            }],
            steps: vec![5, 25],
            hold_seconds: 60,
            gates: Gates::default(),
            on_abort: OnAbort::Stepped,
            approval_before: vec![1],
            evaluations: vec![evaluation],
            weight: Some(5),
            reason: None,
            step_started_at: Some(40.0),
            next_evaluation_at: None,
            accruing: None,
            created_by: "jane".into(),
            created_at: "2026-11-27T10:00:00Z".into(),
            pending: vec![PlanAction::Promote],
            rolled_back: false,
            resource_version: "7".into(),
        };
        let json = serde_json::to_string(&PlansResponse {
            plans: vec![plan.clone()],
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"plans":[{"id":"plan-1","namespace":"hands-on","phase":"awaiting_approval","step":1,"targets":[{"namespace":"hands-on","name":"review","kind":"VirtualService"}],"steps":[5,25],"hold_seconds":60,"gates":{"min_success_rate":99.0,"max_p99_ms":500.0,"min_requests":50,"failures_to_abort":1,"max_inconclusive":3},"on_abort":"stepped","approval_before":[1],"evaluations":[{"at":100.0,"step":1,"weight":25,"window_seconds":60.0,"verdict":"fail","gates":{"min_success_rate":99.0,"max_p99_ms":500.0,"min_requests":50,"failures_to_abort":1,"max_inconclusive":3},"targets":[{"namespace":"hands-on","name":"review","verdict":"fail","new":{"subset":"new","version":"v2","requests":412.0,"success_rate":93.1,"p99_ms":120.0},"old":{"subset":"old","version":"v1","requests":1200.0,"success_rate":100.0,"p99_ms":120.0},"reasons":["review v2 success rate 93.1 % < 99 % over 412 requests"]}],"summary":"fail"}],"weight":5,"step_started_at":40.0,"created_by":"jane","created_at":"2026-11-27T10:00:00Z","pending":["promote"],"rolled_back":false,"resource_version":"7"}]}"#
        );
        assert_eq!(
            serde_json::from_str::<PlansResponse>(&json).unwrap().plans[0],
            plan
        );
    }

    #[test]
    fn an_http_route_target_s_evaluation_names_its_kind() {
        let target = TargetEvaluation {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
            kind: RouteKind::HTTPRoute,
            verdict: Verdict::Pass,
            new: values("review-v2", 100.0, 100.0),
            old: values("review-v1", 100.0, 100.0),
            reasons: vec![],
        };
        let json = serde_json::to_value(&target).unwrap();
        assert_eq!(json["kind"], "HTTPRoute");
        assert_eq!(json["new"]["subset"], "review-v2");
        assert_eq!(
            serde_json::from_value::<TargetEvaluation>(json).unwrap(),
            target
        );
        // A VirtualService's leaves it out, and one without it reads as a VirtualService.
        let vs = TargetEvaluation {
            kind: RouteKind::VirtualService,
            ..target
        };
        let json = serde_json::to_value(&vs).unwrap();
        assert!(json.get("kind").is_none(), "{json}");
        assert_eq!(
            serde_json::from_value::<TargetEvaluation>(json).unwrap(),
            vs
        );
    }

    #[test]
    fn plan_record_json_is_stable() {
        let record = PlanRecord {
            id: "plan-1.abc.abort".into(),
            time: "2026-11-27T10:00:00Z".into(),
            namespace: "hands-on".into(),
            plan: "plan-1".into(),
            kind: "aborted".into(),
            step: 1,
            user: "switchyard".into(),
            message:
                "aborted at step 2 (25 %): review v2 success rate 93.1 % < 99 % over 412 requests"
                    .into(),
            evaluation: None,
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"id":"plan-1.abc.abort","time":"2026-11-27T10:00:00Z","namespace":"hands-on","plan":"plan-1","kind":"aborted","step":1,"user":"switchyard","message":"aborted at step 2 (25 %): review v2 success rate 93.1 % < 99 % over 412 requests"}"#
        );
        assert_eq!(serde_json::from_str::<PlanRecord>(&json).unwrap(), record);
    }

    #[test]
    fn actions_say_when_they_do_not_apply() {
        assert!(PlanAction::Promote
            .allowed_in(PlanPhase::AwaitingApproval)
            .is_ok());
        assert!(PlanAction::Resume.allowed_in(PlanPhase::Paused).is_ok());
        assert_eq!(
            PlanAction::Resume.allowed_in(PlanPhase::Running),
            Err("the plan is running: resume does not apply".into())
        );
        assert_eq!(
            PlanAction::Abort.allowed_in(PlanPhase::Completed),
            Err("the plan is completed: abort does not apply".into())
        );
        assert!(PlanAction::Pause
            .allowed_in(PlanPhase::AwaitingApproval)
            .is_ok());
    }
}
