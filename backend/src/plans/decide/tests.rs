//! The plan state machine's rules, step by step, without a cluster: starts, holds, evaluations,
//! approvals, control actions, aborts (immediate and stepped), pauses for no data and for changes
//! made by someone else, and writes that must be finished or tried again.

use super::*;
use crate::cluster::plan_object::{Command, Spec};
use switchyard_protocol::plans::{Gates, PlanTarget, TargetEvaluation, VersionValues};
use switchyard_protocol::RouteKind;

fn plan(steps: &[u32], approval_before: &[usize], on_abort: OnAbort) -> PlanObject {
    PlanObject {
        namespace: "hands-on".into(),
        name: "plan-1".into(),
        uid: "abcdef12-0000".into(),
        resource_version: "1".into(),
        spec: Spec {
            targets: ["product", "review"]
                .iter()
                .map(|n| PlanTarget {
                    namespace: "hands-on".into(),
                    name: (*n).into(),
                    kind: RouteKind::VirtualService,
                })
                .collect(),
            steps: steps.to_vec(),
            hold_seconds: 10,
            gates: Gates {
                max_inconclusive: 1,
                ..Gates::default()
            },
            on_abort,
            approval_before: approval_before.to_vec(),
            created_by: "jane".into(),
            created_at: "t0".into(),
            commands: vec![],
        },
        status: Status::default(),
    }
}

fn evaluation(verdict: Verdict, step: usize, weight: u32) -> Evaluation {
    let values = |subset: &str| VersionValues {
        subset: subset.into(),
        version: None,
        requests: 100.0,
        success_rate: Some(90.0),
        p99_ms: None,
    };
    Evaluation {
        at: 0.0,
        step,
        weight,
        window_seconds: 10.0,
        verdict,
        gates: Gates::default(),
        targets: vec![TargetEvaluation {
            namespace: "hands-on".into(),
            name: "review".into(),
            kind: Default::default(),
            verdict,
            new: values("new"),
            old: values("old"),
            reasons: match verdict {
                Verdict::Pass => vec![],
                Verdict::Fail => {
                    vec!["review v2 success rate 90.0 % < 99 % over 100 requests".into()]
                }
                Verdict::Inconclusive => {
                    vec!["review v2 had 3 requests, fewer than the 50 an evaluation needs".into()]
                }
            },
        }],
        summary: format!("{verdict:?}"),
    }
}

fn subsets() -> Subsets {
    Subsets::default()
}

/// `decide` with an evaluation of `verdict` when one is due; panics when none is due but one
/// was given an answer... (an evaluation that is not due is never asked for).
fn step(p: &PlanObject, now: f64, verdict: Verdict) -> Option<Status> {
    decide(p, &subsets(), now, "t", |_, step, weight| {
        evaluation(verdict, step, weight)
    })
}

/// `p` after `decide` at `now`, which must change something.
fn next(p: PlanObject, now: f64, verdict: Verdict) -> PlanObject {
    let status = step(&p, now, verdict).expect("a change");
    with(p, status)
}

fn with(mut p: PlanObject, status: Status) -> PlanObject {
    p.status = status;
    p
}

fn done(p: &PlanObject) -> Vec<(String, WriteResult)> {
    p.spec
        .targets
        .iter()
        .map(|t| (t.name.clone(), WriteResult::Done))
        .collect()
}

/// Finishes the write in flight on every target.
fn finish(p: PlanObject, now: f64) -> PlanObject {
    let results = done(&p);
    let status = finish_write(&p, &subsets(), &results, now, "t").expect("a write was in flight");
    with(p, status)
}

fn kinds(s: &Status) -> Vec<&str> {
    s.outbox.iter().map(|d| d.kind.as_str()).collect()
}

#[test]
fn a_healthy_plan_goes_step_by_step_to_completion() {
    let mut p = plan(&[5, 25, 100], &[], OnAbort::Immediate);
    // Picked up: the first step is recorded before it is written, and adopts the routes.
    let s = step(&p, 0.0, Verdict::Pass).unwrap();
    let w = s.pending.clone().unwrap();
    assert_eq!(
        (w.purpose, w.step, w.from, w.to),
        (Purpose::Step, 0, None, 5)
    );
    assert_eq!(w.operation, "plan-1.abcdef12.w1");
    p = with(p, s);
    // Nothing else happens while a write is in flight.
    assert_eq!(step(&p, 100.0, Verdict::Fail), None);
    p = finish(p, 1.0);
    assert_eq!(p.status.phase, Some(PlanPhase::Running));
    assert_eq!((p.status.weight, p.status.next_at), (Some(5), Some(11.0)));
    assert_eq!(kinds(&p.status), vec!["step"]);
    assert_eq!(
        p.status.outbox[0].message,
        "step 1 (5 %) went out: product, review at old 95 / new 5"
    );
    // Holding: nothing due yet.
    assert_eq!(step(&p, 10.9, Verdict::Fail), None);
    // The hold is over and the gates pass: the next step, from 5.
    p = next(p, 11.0, Verdict::Pass);
    let w = p.status.pending.clone().unwrap();
    assert_eq!((w.step, w.from, w.to), (1, Some(5), 25));
    p = finish(p, 12.0);
    p = next(p, 22.0, Verdict::Pass);
    p = finish(p, 23.0);
    assert_eq!(p.status.weight, Some(100));
    // The last step holds and is evaluated too; then the plan is complete.
    p = next(p, 33.0, Verdict::Pass);
    assert_eq!(p.status.phase, Some(PlanPhase::Completed));
    assert!(p.status.pending.is_none());
    assert_eq!(p.status.evaluations.len(), 3);
    assert_eq!(
        p.status.outbox.last().unwrap().message,
        "completed: every target at old 0 / new 100"
    );
    assert!(p.status.outbox.windows(2).all(|w| w[1].seq == w[0].seq + 1));
}

#[test]
fn a_failed_evaluation_aborts_straight_back_to_old() {
    let mut p = plan(&[5, 25, 50, 100], &[], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    p = finish(p, 0.0);
    p = next(p, 10.0, Verdict::Pass);
    p = finish(p, 10.0);
    let s = step(&p, 20.0, Verdict::Fail).unwrap();
    assert_eq!(s.phase, Some(PlanPhase::Aborted));
    assert_eq!(
        s.reason.as_deref(),
        Some("aborted at step 2 (25 %): review v2 success rate 90.0 % < 99 % over 100 requests")
    );
    let w = s.pending.clone().unwrap();
    assert_eq!((w.purpose, w.from, w.to), (Purpose::Abort, Some(25), 0));
    p = finish(with(p, s), 20.5);
    assert!(p.status.rolled_back);
    assert!(!p.active() || !p.status.outbox.is_empty());
    assert_eq!(
        p.status.outbox.last().unwrap().message,
        "rolled back: product, review at old 100 / new 0"
    );
    // Rolled back: nothing more to do.
    p.status.outbox.clear();
    assert!(!p.active());
    assert_eq!(step(&p, 100.0, Verdict::Fail), None);
}

#[test]
fn a_stepped_abort_goes_down_the_steps_taken_one_hold_apart() {
    let mut p = plan(&[5, 25, 50, 100], &[], OnAbort::Stepped);
    for at in [0.0, 10.0, 20.0] {
        p = next(p, at, Verdict::Pass);
        p = finish(p, at);
    }
    assert_eq!(p.status.weight, Some(50));
    p = next(p, 30.0, Verdict::Fail);
    let mut went = vec![];
    let mut now = 30.0;
    while !p.status.rolled_back {
        let w = p.status.pending.clone().expect("a move down");
        went.push(w.to);
        p = finish(p, now);
        now += 10.0;
        if !p.status.rolled_back {
            assert_eq!(step(&p, now - 0.1, Verdict::Fail), None, "one hold apart");
            p = next(p, now, Verdict::Fail);
        }
    }
    assert_eq!(went, vec![25, 5, 0]);
}

#[test]
fn no_traffic_waits_then_pauses_and_never_moves() {
    let mut p = plan(&[5, 100], &[], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    p = finish(p, 0.0);
    p = next(p, 10.0, Verdict::Inconclusive);
    assert_eq!(p.status.phase, Some(PlanPhase::Waiting));
    assert!(p
        .status
        .reason
        .as_deref()
        .unwrap()
        .starts_with("waiting for traffic at step 1 (5 %)"));
    assert_eq!(p.status.window_start, Some(0.0), "the window keeps growing");
    p = next(p, 20.0, Verdict::Inconclusive);
    assert_eq!(p.status.phase, Some(PlanPhase::Paused));
    assert!(p
        .status
        .reason
        .as_deref()
        .unwrap()
        .contains("2 evaluations in a row were inconclusive"));
    assert!(p.status.pending.is_none(), "no promotion, no abort");
    assert_eq!(p.status.weight, Some(5));
    assert_eq!(step(&p, 1000.0, Verdict::Fail), None);
}

#[test]
fn an_approval_waits_for_a_promote_and_a_person_s_actions_are_carried_out_once() {
    let mut p = plan(&[5, 25, 100], &[1], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    p = finish(p, 0.0);
    p = next(p, 10.0, Verdict::Pass);
    assert_eq!(p.status.phase, Some(PlanPhase::AwaitingApproval));
    assert_eq!(
        p.status.reason.as_deref(),
        Some("waiting for approval before step 2 (25 %)")
    );
    assert_eq!(
        step(&p, 1000.0, Verdict::Pass),
        None,
        "no move without a person"
    );
    p.spec.commands.push(Command {
        action: PlanAction::Promote,
        by: "operator".into(),
        at: "t".into(),
    });
    let s = step(&p, 1001.0, Verdict::Pass).unwrap();
    assert_eq!(s.handled, 1);
    let w = s.pending.clone().unwrap();
    assert_eq!((w.to, w.by.as_str()), (25, "operator"));
    p = finish(with(p, s), 1002.0);
    assert_eq!(p.status.phase, Some(PlanPhase::Running));
    // An action that does not apply any more is recorded, not carried out.
    p.spec.commands.push(Command {
        action: PlanAction::Resume,
        by: "viewer".into(),
        at: "t".into(),
    });
    let s = step(&p, 1003.0, Verdict::Pass).unwrap();
    assert_eq!(s.handled, 2);
    assert_eq!(
        s.outbox.last().unwrap().message,
        "viewer's resume was not carried out: the plan is running: resume does not apply"
    );
}

#[test]
fn a_change_made_elsewhere_pauses_and_resume_adopts_every_target() {
    let mut p = plan(&[5, 25, 100], &[], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    p = finish(p, 0.0);
    let why = "review was changed by someone else: its split is now old 50 / new 50 where the plan had set old 95 / new 5; the plan paused and overwrote nothing";
    p = with(
        p.clone(),
        changed_elsewhere(&p, &subsets(), why, 3.0, "t").unwrap(),
    );
    assert_eq!(p.status.phase, Some(PlanPhase::Paused));
    assert_eq!(
        p.status.reason.as_deref(),
        Some(format!("paused at step 1 (5 %): {why}").as_str())
    );
    assert_eq!(
        changed_elsewhere(&p, &subsets(), why, 4.0, "t"),
        None,
        "already paused"
    );
    assert_eq!(step(&p, 100.0, Verdict::Pass), None);
    p.spec.commands.push(Command {
        action: PlanAction::Resume,
        by: "jane".into(),
        at: "t".into(),
    });
    let s = step(&p, 101.0, Verdict::Pass).unwrap();
    let w = s.pending.clone().unwrap();
    assert_eq!((w.step, w.from, w.to), (0, None, 5), "adopts what is there");
    p = finish(with(p, s), 102.0);
    assert_eq!(p.status.phase, Some(PlanPhase::Running));
    assert_eq!(p.status.next_at, Some(112.0), "the hold starts again");
}

#[test]
fn a_write_someone_else_got_in_the_way_of_pauses_and_a_failing_one_is_retried() {
    let mut p = plan(&[5, 100], &[], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    let retry = vec![
        ("product".to_owned(), WriteResult::Done),
        ("review".to_owned(), WriteResult::Retry),
    ];
    assert_eq!(finish_write(&p, &subsets(), &retry, 1.0, "t"), None);
    let stopped = vec![
        ("product".to_owned(), WriteResult::Done),
        (
            "review".to_owned(),
            WriteResult::Stopped("review was changed by someone else".into()),
        ),
    ];
    let s = finish_write(&p, &subsets(), &stopped, 1.0, "t").unwrap();
    assert_eq!(s.phase, Some(PlanPhase::Paused));
    assert!(s.adopt_on_resume);
    assert!(s.pending.is_none());
    assert_eq!(
        s.reason.as_deref(),
        Some("paused at step 1 (5 %) with product at old 95 / new 5: review was changed by someone else; resume puts every target on this step")
    );
}

#[test]
fn a_person_s_abort_and_pause() {
    let mut p = plan(&[5, 100], &[], OnAbort::Immediate);
    p = next(p, 0.0, Verdict::Pass);
    p = finish(p, 0.0);
    p.spec.commands.push(Command {
        action: PlanAction::Pause,
        by: "jane".into(),
        at: "t".into(),
    });
    p = next(p, 1.0, Verdict::Pass);
    assert_eq!(p.status.phase, Some(PlanPhase::Paused));
    assert_eq!(
        p.status.reason.as_deref(),
        Some("paused by jane at step 1 (5 %)")
    );
    p.spec.commands.push(Command {
        action: PlanAction::Abort,
        by: "jane".into(),
        at: "t".into(),
    });
    let s = step(&p, 2.0, Verdict::Pass).unwrap();
    assert_eq!(s.phase, Some(PlanPhase::Aborted));
    assert_eq!(s.reason.as_deref(), Some("aborted by jane at step 1 (5 %)"));
    assert_eq!(s.pending.clone().unwrap().to, 0);
}
