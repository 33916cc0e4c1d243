//! What a plan does next, pure: from its spec, its status, the time and (when an evaluation is
//! due) the gate values, the next status to save — with the weight write to make, recorded
//! before it is made (`Status::pending`), and the evidence to record (`Status::outbox`). Also
//! what a finished write means, and a pause for a target someone else changed. The driver
//! (`driver.rs`) does the I/O; everything it decides is here, testable without a cluster.
//!
//! The rules: a step holds `hold_seconds`; then its gates are evaluated over the window since the
//! step went out (or since the last failed evaluation). Pass: the next step (or the wait for an
//! approval, or completion after the last). Fail: counted; `failures_to_abort` of them abort.
//! Inconclusive (too few requests): wait another hold with the window growing, and after
//! `max_inconclusive` of them in a row, pause with the reason. An abort goes straight back to
//! old 100, or stepped down through the steps taken, one per hold. People's control actions
//! (`spec.commands`) are carried out in order, each once.

use switchyard_protocol::plans::{Evaluation, OnAbort, PlanAction, PlanPhase, Verdict};
use switchyard_protocol::Subsets;

use super::gates::{doubts, failures, step_label};
use crate::cluster::plan_object::{
    Draft, PendingWrite, PlanObject, Purpose, Status, KEPT_EVALUATIONS,
};
use crate::cluster::split_of;

/// Who the plan's own decisions are recorded as.
pub const DRIVER: &str = "switchyard";

/// What a weight write did to one target, as the driver saw it.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteResult {
    /// Written, or already there.
    Done,
    /// Someone else changed the target, or the cluster refused the write for good (RBAC, a
    /// target gone, a backend Service that does not exist): the sentence says what.
    Stopped(String),
    /// It failed in a way worth trying again (the API server failed or could not be reached).
    Retry,
}

/// The status being built, with its evidence.
struct Next<'a> {
    plan: &'a PlanObject,
    subsets: &'a Subsets,
    s: Status,
    now: f64,
    time: &'a str,
}

impl Next<'_> {
    fn draft(
        &mut self,
        kind: &str,
        step: usize,
        user: &str,
        message: String,
        evaluation: Option<Evaluation>,
    ) {
        let seq = self.s.recorded;
        self.s.recorded += 1;
        self.s.outbox.push(Draft {
            seq,
            time: self.time.to_owned(),
            kind: kind.to_owned(),
            step,
            user: user.to_owned(),
            message,
            evaluation,
        });
    }

    fn phase(&self) -> PlanPhase {
        self.s.phase.unwrap_or(PlanPhase::Running)
    }

    fn steps(&self) -> &[u32] {
        &self.plan.spec.steps
    }

    fn hold(&self) -> f64 {
        f64::from(self.plan.spec.hold_seconds)
    }

    /// Records a weight write to make, before it is made.
    fn write(&mut self, purpose: Purpose, step: usize, from: Option<u32>, to: u32, by: &str) {
        self.s.writes += 1;
        self.s.pending = Some(PendingWrite {
            operation: self.plan.operation(self.s.writes),
            purpose,
            step,
            from,
            to,
            by: by.to_owned(),
        });
    }

    fn label(&self) -> String {
        let weight = self
            .s
            .weight
            .unwrap_or_else(|| self.steps().get(self.s.step).copied().unwrap_or(0));
        step_label(self.s.step, weight)
    }

    /// The next step, or completion after the last.
    fn advance(&mut self, by: &str) {
        let next = if self.s.weight.is_none() {
            self.s.step
        } else {
            self.s.step + 1
        };
        match self.steps().get(next).copied() {
            // The plan's first step (no weight yet) adopts each route as it is.
            Some(to) => self.write(Purpose::Step, next, self.s.weight, to, by),
            None => {
                self.s.phase = Some(PlanPhase::Completed);
                self.s.reason = None;
                self.s.next_at = None;
                let message = format!(
                    "completed: every target at {}",
                    split_of(self.subsets, self.s.weight.unwrap_or(100))
                );
                self.draft("completed", self.s.step, by, message, None);
            }
        }
    }

    /// The next step, unless it waits for a person's approval.
    fn advance_or_wait(&mut self) {
        let next = if self.s.weight.is_none() {
            self.s.step
        } else {
            self.s.step + 1
        };
        if next < self.steps().len() && self.plan.spec.approval_before.contains(&next) {
            self.s.phase = Some(PlanPhase::AwaitingApproval);
            let message = format!(
                "waiting for approval before {}",
                step_label(next, self.steps()[next])
            );
            self.s.reason = Some(message.clone());
            self.s.next_at = None;
            self.draft("approval", next, DRIVER, message, None);
        } else {
            self.advance(DRIVER);
        }
    }

    fn abort(&mut self, reason: String, by: &str) {
        self.s.phase = Some(PlanPhase::Aborted);
        self.s.reason = Some(reason.clone());
        let step = self.s.step;
        self.draft("aborted", step, by, reason, None);
        if self.s.weight.unwrap_or(0) == 0 {
            self.s.rolled_back = true;
            self.s.next_at = None;
            return;
        }
        self.abort_move();
    }

    /// The next move back towards old: straight to 0, or (stepped) to the highest step taken
    /// below the weight now.
    fn abort_move(&mut self) {
        let current = self.s.weight.unwrap_or(0);
        let (step, to) = match self.plan.spec.on_abort {
            OnAbort::Immediate => (0, 0),
            OnAbort::Stepped => self.steps()[..self.s.step.min(self.steps().len())]
                .iter()
                .enumerate()
                .rev()
                .find(|(_, w)| **w < current)
                .map_or((0, 0), |(i, w)| (i, *w)),
        };
        self.write(Purpose::Abort, step, Some(current), to, DRIVER);
    }

    fn evaluate(&mut self, evaluation: Evaluation) {
        let label = step_label(evaluation.step, evaluation.weight);
        self.s.evaluations.push(evaluation.clone());
        let excess = self.s.evaluations.len().saturating_sub(KEPT_EVALUATIONS);
        self.s.evaluations.drain(..excess);
        let step = self.s.step;
        self.draft(
            "evaluation",
            step,
            DRIVER,
            evaluation.summary.clone(),
            Some(evaluation.clone()),
        );
        let gates = &self.plan.spec.gates;
        match evaluation.verdict {
            Verdict::Pass => {
                self.s.failures = 0;
                self.s.inconclusive = 0;
                self.s.reason = None;
                self.s.phase = Some(PlanPhase::Running);
                self.advance_or_wait();
            }
            Verdict::Fail => {
                self.s.failures += 1;
                self.s.inconclusive = 0;
                if self.s.failures >= gates.failures_to_abort {
                    let reason = format!("aborted at {label}: {}", failures(&evaluation));
                    self.abort(reason, DRIVER);
                } else {
                    self.s.phase = Some(PlanPhase::Running);
                    self.s.reason = Some(format!(
                        "{} of {} failed evaluations at {label} ({}); evaluating again after another hold",
                        self.s.failures,
                        gates.failures_to_abort,
                        failures(&evaluation)
                    ));
                    self.s.window_start = Some(self.now);
                    self.s.next_at = Some(self.now + self.hold());
                }
            }
            Verdict::Inconclusive => {
                self.s.inconclusive += 1;
                let why = doubts(&evaluation);
                if self.s.inconclusive > gates.max_inconclusive {
                    let reason = format!(
                        "paused at {label}: {} evaluations in a row were inconclusive ({why}); the plan neither promoted nor aborted. Resume to keep waiting, promote, or abort",
                        self.s.inconclusive
                    );
                    self.s.phase = Some(PlanPhase::Paused);
                    self.s.resume_phase = Some(PlanPhase::Running);
                    self.s.reason = Some(reason.clone());
                    self.s.next_at = None;
                    self.draft("paused", step, DRIVER, reason, None);
                } else {
                    self.s.phase = Some(PlanPhase::Waiting);
                    self.s.reason = Some(format!("waiting for traffic at {label}: {why}"));
                    self.s.next_at = Some(self.now + self.hold());
                }
            }
        }
    }

    /// Carries out the next control action a person asked for; true when it started a write
    /// (which must finish before anything else happens).
    fn command(&mut self) -> bool {
        let Some(c) = self.plan.spec.commands.get(self.s.handled).cloned() else {
            return false;
        };
        self.s.handled += 1;
        let phase = self.phase();
        let step = self.s.step;
        if let Err(why) = c.action.allowed_in(phase) {
            let message = format!(
                "{}'s {} was not carried out: {why}",
                c.by,
                c.action.as_str()
            );
            self.draft("action", step, &c.by, message, None);
            return false;
        }
        let label = self.label();
        match c.action {
            PlanAction::Pause => {
                self.s.resume_phase = Some(phase);
                self.s.phase = Some(PlanPhase::Paused);
                let message = format!("paused by {} at {label}", c.by);
                self.s.reason = Some(message.clone());
                self.draft("paused", step, &c.by, message, None);
                false
            }
            PlanAction::Resume => {
                let back = self.s.resume_phase.take().unwrap_or(PlanPhase::Running);
                self.s.reason = None;
                self.s.adopt_on_resume = false;
                self.draft(
                    "resumed",
                    step,
                    &c.by,
                    format!("resumed by {} at {label}", c.by),
                    None,
                );
                match (self.s.weight, back) {
                    (None, PlanPhase::AwaitingApproval) => {
                        self.s.phase = Some(PlanPhase::AwaitingApproval);
                        false
                    }
                    (None, _) => {
                        self.s.phase = Some(PlanPhase::Running);
                        self.advance(&c.by);
                        true
                    }
                    // Every target back on the current step as it is now (someone may have
                    // changed one while the plan was paused); its hold starts again.
                    (Some(_), _) => {
                        self.s.phase = Some(back);
                        let to = self.steps()[self.s.step.min(self.steps().len() - 1)];
                        self.write(Purpose::Step, self.s.step, None, to, &c.by);
                        if back == PlanPhase::AwaitingApproval {
                            // The approval still waits after the write.
                            self.s.resume_phase = Some(PlanPhase::AwaitingApproval);
                        }
                        true
                    }
                }
            }
            PlanAction::Promote => {
                self.s.reason = None;
                self.s.phase = Some(PlanPhase::Running);
                self.draft(
                    "action",
                    step,
                    &c.by,
                    format!("promoted by {} at {label}", c.by),
                    None,
                );
                self.advance(&c.by);
                self.s.pending.is_some()
            }
            PlanAction::Abort => {
                self.abort(format!("aborted by {} at {label}", c.by), &c.by);
                self.s.pending.is_some()
            }
        }
    }
}

/// The next status of `plan` at `now` (`time` is the same instant in RFC 3339), or `None` when
/// nothing changes. `evaluate(window_start, step, weight)` gives the gate values when an
/// evaluation is due. A plan with a write in flight changes only through [`finish_write`].
pub fn decide(
    plan: &PlanObject,
    subsets: &Subsets,
    now: f64,
    time: &str,
    evaluate: impl FnOnce(f64, usize, u32) -> Evaluation,
) -> Option<Status> {
    if plan.status.pending.is_some() || plan.spec.steps.is_empty() {
        return None;
    }
    let mut next = Next {
        plan,
        subsets,
        s: plan.status.clone(),
        now,
        time,
    };
    if next.s.phase.is_none() {
        next.s.phase = Some(PlanPhase::Running);
        next.advance_or_wait();
        return Some(next.s);
    }
    while next.s.handled < plan.spec.commands.len() {
        if next.command() {
            return Some(next.s).filter(|s| *s != plan.status);
        }
    }
    let due = next.s.next_at.is_none_or(|at| now >= at);
    match next.phase() {
        PlanPhase::Running | PlanPhase::Waiting if due => {
            let weight = next
                .s
                .weight
                .unwrap_or_else(|| plan.spec.steps[next.s.step.min(plan.spec.steps.len() - 1)]);
            let since = next.s.window_start.unwrap_or(now);
            let evaluation = evaluate(since, next.s.step, weight);
            next.evaluate(evaluation);
        }
        PlanPhase::Aborted if !next.s.rolled_back && due => next.abort_move(),
        _ => {}
    }
    Some(next.s).filter(|s| *s != plan.status)
}

/// The status after the write in flight reached every target (`results`, one per target), or
/// `None` while some must be tried again.
pub fn finish_write(
    plan: &PlanObject,
    subsets: &Subsets,
    results: &[(String, WriteResult)],
    now: f64,
    time: &str,
) -> Option<Status> {
    let pending = plan.status.pending.clone()?;
    if results.iter().any(|(_, r)| *r == WriteResult::Retry) {
        return None;
    }
    let mut next = Next {
        plan,
        subsets,
        s: plan.status.clone(),
        now,
        time,
    };
    next.s.pending = None;
    let stopped: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| match r {
            WriteResult::Stopped(why) => Some(why.clone()),
            _ => None,
        })
        .collect();
    let done: Vec<&str> = results
        .iter()
        .filter(|(_, r)| *r == WriteResult::Done)
        .map(|(name, _)| name.as_str())
        .collect();
    next.s.step = pending.step;
    next.s.weight = Some(pending.to);
    let label = step_label(pending.step, pending.to);
    let split = split_of(subsets, pending.to);
    match pending.purpose {
        Purpose::Step => {
            next.s.step_started_at = Some(now);
            next.s.window_start = Some(now);
            next.s.failures = 0;
            next.s.inconclusive = 0;
            if stopped.is_empty() {
                next.s.next_at = Some(now + next.hold());
                next.s.reason = None;
                if next.s.resume_phase == Some(PlanPhase::AwaitingApproval) {
                    next.s.resume_phase = None;
                    next.s.phase = Some(PlanPhase::AwaitingApproval);
                } else {
                    next.s.phase = Some(PlanPhase::Running);
                }
                let message = format!("{label} went out: {} at {split}", done.join(", "));
                next.draft("step", pending.step, &pending.by, message, None);
            } else {
                let message = if done.is_empty() {
                    format!("paused at {label}: {}", stopped.join("; "))
                } else {
                    format!(
                        "paused at {label} with {} at {split}: {}; resume puts every target on this step",
                        done.join(", "),
                        stopped.join("; ")
                    )
                };
                next.s.phase = Some(PlanPhase::Paused);
                next.s.resume_phase = Some(PlanPhase::Running);
                next.s.adopt_on_resume = true;
                next.s.next_at = None;
                next.s.reason = Some(message.clone());
                next.draft("paused", pending.step, DRIVER, message, None);
            }
        }
        Purpose::Abort => {
            if !stopped.is_empty() {
                let before = next.s.reason.clone().unwrap_or_default();
                next.s.reason = Some(format!("{before}; not rolled back: {}", stopped.join("; ")));
            }
            if pending.to == 0 {
                next.s.rolled_back = true;
                next.s.next_at = None;
                let message = format!("rolled back: {} at {split}", done.join(", "));
                next.draft("rolled_back", pending.step, DRIVER, message, None);
            } else {
                next.s.next_at = Some(now + next.hold());
                let message = format!("stepped back to {split} on {}", done.join(", "));
                next.draft("step", pending.step, DRIVER, message, None);
            }
        }
    }
    Some(next.s)
}

/// The status after the driver found a target changed by someone else (`why`): paused, nothing
/// overwritten; a resume re-applies the current step to every target as it is then. `None` when
/// the plan is not somewhere such a change matters.
pub fn changed_elsewhere(
    plan: &PlanObject,
    subsets: &Subsets,
    why: &str,
    now: f64,
    time: &str,
) -> Option<Status> {
    let phase = plan.status.phase?;
    if plan.status.pending.is_some()
        || !matches!(
            phase,
            PlanPhase::Running | PlanPhase::Waiting | PlanPhase::AwaitingApproval
        )
    {
        return None;
    }
    let mut next = Next {
        plan,
        subsets,
        s: plan.status.clone(),
        now,
        time,
    };
    let message = format!("paused at {}: {why}", next.label());
    next.s.phase = Some(PlanPhase::Paused);
    next.s.resume_phase = Some(phase);
    next.s.adopt_on_resume = true;
    next.s.next_at = None;
    next.s.reason = Some(message.clone());
    let step = next.s.step;
    next.draft("paused", step, DRIVER, message, None);
    Some(next.s)
}

#[cfg(test)]
mod tests;
