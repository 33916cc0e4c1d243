//! The driver: on the replica that holds the Lease (`leader.rs`), every tick, each active plan is
//! moved on as `decide.rs` says. Every status is saved on the condition that the plan is still at
//! the resourceVersion read (a stale read loses, harmlessly); a weight write is recorded in the
//! status before it is made and finished (each target's annotation tells whether it already went
//! out) by whichever replica drives next; evidence is written as Events from the status' outbox,
//! named so that writing one twice cannot double it. A target someone else changed pauses the
//! plan; nothing is overwritten.

use std::time::{SystemTime, UNIX_EPOCH};
use switchyard_protocol::plans::{Evaluation, PlanPhase};

use super::decide::{self, WriteResult, DRIVER};
use super::Plans;
use crate::cluster::plan_object::{PlanObject, Status};
use crate::cluster::{target_label, Actor, Error, StepOutcome};

/// Unix seconds now.
pub(super) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// `now` as RFC 3339 with microseconds (text order is time order).
pub(super) fn rfc3339(now: f64) -> String {
    let micros = (now * 1e6) as i64;
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Runs for as long as the process lives; drives only while `plans` leads.
pub(super) async fn run(plans: Plans) {
    let mut tick = tokio::time::interval(plans.config.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !plans.is_leader() {
            continue;
        }
        for plan in plans.cluster.plans().into_iter().filter(PlanObject::active) {
            if !plans.is_leader() {
                break;
            }
            let name = plan.name.clone();
            match drive(&plans, plan).await {
                Ok(()) => {}
                // Someone (another replica, a person's action) wrote first: read again next tick.
                Err(Error::Conflict { .. }) => {}
                Err(e) => {
                    tracing::warn!(plan = %name, error = %e, "the plan could not be moved on; trying again")
                }
            }
        }
    }
}

async fn save(plans: &Plans, plan: &PlanObject, status: Status) -> Result<PlanObject, Error> {
    plans.cluster.save_plan_status(plan, &status).await
}

/// Writes the evidence the status holds as Events, then empties the outbox.
async fn deliver(plans: &Plans, plan: PlanObject) -> Result<PlanObject, Error> {
    if plan.status.outbox.is_empty() {
        return Ok(plan);
    }
    for draft in &plan.status.outbox {
        plans
            .cluster
            .record_plan_event(&plan, &plan.record(draft))
            .await?;
    }
    let mut status = plan.status.clone();
    status.outbox.clear();
    save(plans, &plan, status).await
}

/// Finishes the weight write in flight on every target.
async fn complete(plans: &Plans, plan: PlanObject) -> Result<PlanObject, Error> {
    let Some(write) = plan.status.pending.clone() else {
        return Ok(plan);
    };
    let user = if write.by == DRIVER {
        format!("plan {}", plan.name)
    } else {
        format!("{} (plan {})", write.by, plan.name)
    };
    let actor = Actor {
        client: plans.cluster.client(),
        user: &user,
        source: "plan",
    };
    let mut results = Vec::with_capacity(plan.spec.targets.len());
    for target in &plan.spec.targets {
        if !plans.is_leader() {
            // Another replica may be driving by now; it finishes the write.
            return Ok(plan);
        }
        let outcome = plans
            .cluster
            .write_plan_step(
                &actor,
                target,
                plans.names(),
                write.from,
                write.to,
                &write.operation,
            )
            .await;
        let result = match outcome {
            StepOutcome::Written | StepOutcome::AlreadyThere => WriteResult::Done,
            StepOutcome::Changed(why) => WriteResult::Stopped(why),
            StepOutcome::Failed(e) => match e {
                Error::Upstream(_) | Error::Unreachable(_) | Error::Conflict { .. } => {
                    tracing::warn!(plan = %plan.name, target = %target.name, error = %e, "a plan's weight write failed; trying again");
                    WriteResult::Retry
                }
                other => WriteResult::Stopped(format!("{}: {other}", target_label(target))),
            },
        };
        results.push((target_label(target), result));
    }
    let now = now();
    match decide::finish_write(&plan, &plans.config.subsets, &results, now, &rfc3339(now)) {
        Some(status) => save(plans, &plan, status).await,
        None => Ok(plan),
    }
}

/// The first target someone else changed, as a sentence; checked against the cache, confirmed
/// with a fresh read (the cache may lag the plan's own last write).
async fn changed_target(plans: &Plans, plan: &PlanObject) -> Option<String> {
    let phase = plan.status.phase?;
    let weight = plan.status.weight?;
    if plan.status.pending.is_some()
        || !matches!(
            phase,
            PlanPhase::Running | PlanPhase::Waiting | PlanPhase::AwaitingApproval
        )
    {
        return None;
    }
    for target in &plan.spec.targets {
        if plans.cluster.cached_plan_weight(target, plans.names()) == Some(weight) {
            continue;
        }
        if let Err(why) = plans
            .cluster
            .check_plan_target(target, plans.names(), weight)
            .await
        {
            return Some(why);
        }
    }
    None
}

/// One tick of one plan.
async fn drive(plans: &Plans, plan: PlanObject) -> Result<(), Error> {
    let mut plan = deliver(plans, plan).await?;
    if plan.status.pending.is_some() {
        plan = complete(plans, plan).await?;
        deliver(plans, plan).await?;
        return Ok(());
    }
    let now = now();
    let time = rfc3339(now);
    if let Some(why) = changed_target(plans, &plan).await {
        if let Some(status) =
            decide::changed_elsewhere(&plan, &plans.config.subsets, &why, now, &time)
        {
            tracing::warn!(plan = %plan.name, %why, "a target was changed by someone else; the plan paused");
            plan = save(plans, &plan, status).await?;
            deliver(plans, plan).await?;
        }
        return Ok(());
    }
    let evaluate = |since: f64, step: usize, weight: u32| -> Evaluation {
        plans.evaluation(&plan, since, step, weight, now)
    };
    let Some(status) = decide::decide(&plan, &plans.config.subsets, now, &time, evaluate) else {
        return Ok(());
    };
    plan = save(plans, &plan, status).await?;
    if plan.status.pending.is_some() {
        plan = complete(plans, plan).await?;
    }
    deliver(plans, plan).await?;
    Ok(())
}
