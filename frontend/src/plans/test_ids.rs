//! The `data-testid` values of the release plans panel, in one place so the browser tests and the
//! components cannot drift apart. `tests/README.md` lists them for people.

/// The panel.
pub const PLANS: &str = "plans";
/// The editor: a target's checkbox (`plan-target-{name}` for a VirtualService,
/// `plan-target-httproute-{name}` for an HTTPRoute, as the weight cards name them), the words
/// saying its kind and namespace (`plan-target-kind-{name}`), the steps, hold and gate fields,
/// what an abort does, the approvals, the start button and why a start was refused.
pub fn plan_target(name: &str) -> String {
    format!("plan-target-{name}")
}
pub fn plan_target_of(kind: switchyard_protocol::RouteKind, name: &str) -> String {
    plan_target(&crate::weight_controls::test_ids::name_for(kind, name))
}
pub fn plan_target_kind(kind: switchyard_protocol::RouteKind, name: &str) -> String {
    format!(
        "plan-target-kind-{}",
        crate::weight_controls::test_ids::name_for(kind, name)
    )
}
pub const PLAN_STEPS: &str = "plan-steps";
pub const PLAN_HOLD: &str = "plan-hold";
pub const PLAN_MIN_SUCCESS: &str = "plan-min-success";
pub const PLAN_MAX_P99: &str = "plan-max-p99";
pub const PLAN_MIN_REQUESTS: &str = "plan-min-requests";
pub const PLAN_ON_ABORT: &str = "plan-on-abort";
pub const PLAN_APPROVALS: &str = "plan-approvals";
pub const PLAN_START: &str = "plan-start";
pub const PLAN_START_ERROR: &str = "plan-start-error";

/// One plan's card: `plan-{id}`; in it its phase, step, hold, reason, gate table, targets (each
/// row `plan-target-row-{id}-{name}`, `{name}` as for [`plan_target_of`]), control buttons
/// (`plan-{action}-{id}`), an action's refusal and the timeline.
pub fn plan(id: &str) -> String {
    format!("plan-{id}")
}
pub fn plan_phase(id: &str) -> String {
    format!("plan-phase-{id}")
}
pub fn plan_step(id: &str) -> String {
    format!("plan-step-{id}")
}
pub fn plan_hold(id: &str) -> String {
    format!("plan-hold-{id}")
}
pub fn plan_reason(id: &str) -> String {
    format!("plan-reason-{id}")
}
pub fn plan_gates(id: &str) -> String {
    format!("plan-gates-{id}")
}
pub fn plan_targets(id: &str) -> String {
    format!("plan-targets-{id}")
}
pub fn plan_target_row(id: &str, kind: switchyard_protocol::RouteKind, name: &str) -> String {
    format!(
        "plan-target-row-{id}-{}",
        crate::weight_controls::test_ids::name_for(kind, name)
    )
}
pub fn plan_action(action: &str, id: &str) -> String {
    format!("plan-{action}-{id}")
}
/// "read-only: {the cluster's reason}" beside a plan's buttons when the caller may not steer it.
pub fn plan_readonly_reason(id: &str) -> String {
    format!("plan-readonly-reason-{id}")
}
pub fn plan_action_error(id: &str) -> String {
    format!("plan-action-error-{id}")
}
pub fn plan_timeline(id: &str) -> String {
    format!("plan-timeline-{id}")
}
/// What every plan card's id starts with (for `[data-testid^="plan-card-"]`).
pub const PLAN_CARD_PREFIX: &str = "plan-card-";
pub fn plan_card(id: &str) -> String {
    format!("{PLAN_CARD_PREFIX}{id}")
}
