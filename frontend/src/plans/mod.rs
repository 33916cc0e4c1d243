//! The release plans panel: an editor (targets, steps, hold, gates with their defaults shown,
//! what an abort does, approvals), and a live card per plan (phase, current step, time left in
//! the hold, each gate's value against its threshold as it accrues, requested against observed
//! per target, the control buttons the phase allows with the reason when not, the timeline).
//! Every open page sees the same plans live (`plan` and `plan_event` events). Pure parts
//! (parsing the editor's fields, sentences) are here, unit-tested natively.

pub mod plan_card;
pub mod plan_controls;
pub mod plan_editor;
pub mod plans_panel;
pub mod store;
pub mod test_ids;

use switchyard_protocol::plans::{Evaluation, Gates, Plan, PlanPhase, TargetEvaluation, Verdict};
use switchyard_protocol::RouteKind;

/// Steps as typed ("5, 25, 50, 100"), or the sentence saying what is wrong; the server checks
/// the rules again.
pub fn parse_steps(text: &str) -> Result<Vec<u32>, String> {
    let steps: Result<Vec<u32>, String> = text
        .split([',', ' ', '→'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('%')
                .parse::<u32>()
                .map_err(|_| format!("{s:?} is not a weight (1 to 100)"))
        })
        .collect();
    let steps = steps?;
    if steps.is_empty() {
        return Err("give the new version's weight at each step, e.g. 5, 25, 50, 100".into());
    }
    Ok(steps)
}

/// Step indices as typed ("2" or "1, 3"); empty is none.
pub fn parse_indices(text: &str) -> Result<Vec<usize>, String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("{s:?} is not a step index"))
        })
        .collect()
}

/// "running", "awaiting approval"…
pub fn phase_text(phase: PlanPhase) -> String {
    phase.as_str().replace('_', " ")
}

/// "step 2 of 4 (25 %)", or "not started" before the first step went out.
pub fn step_text(plan: &Plan) -> String {
    match plan.weight {
        None => "not started".to_owned(),
        Some(weight) => format!(
            "step {} of {} ({weight} %)",
            plan.step + 1,
            plan.steps.len()
        ),
    }
}

/// "evaluation in 42 s", "evaluating…", or nothing when no evaluation is due.
pub fn hold_text(plan: &Plan, now: f64) -> String {
    match plan.next_evaluation_at {
        Some(at) if at > now => format!("evaluation in {:.0} s", (at - now).ceil()),
        Some(_) => "evaluating…".to_owned(),
        None => String::new(),
    }
}

/// One row of the gate table: target, value, threshold, and whether it holds so far.
#[derive(Clone, Debug, PartialEq)]
pub struct GateRow {
    pub target: String,
    pub gate: &'static str,
    pub value: String,
    pub threshold: String,
    /// `Some(true)` met, `Some(false)` not met, `None` not judged yet.
    pub ok: Option<bool>,
}

/// Whose gates a row shows, as the server's sentences name it: `review v2` for a
/// VirtualService's new version, `review-v2` (the backend Service) for an HTTPRoute's.
pub fn version_label(t: &TargetEvaluation) -> String {
    match t.kind {
        RouteKind::VirtualService => format!(
            "{} {}",
            t.name,
            t.new.version.as_deref().unwrap_or(&t.new.subset)
        ),
        RouteKind::HTTPRoute => t.new.subset.clone(),
    }
}

/// The gate table of an evaluation (the accruing one while a step holds).
pub fn gate_rows(evaluation: &Evaluation, gates: &Gates) -> Vec<GateRow> {
    let mut rows = Vec::new();
    for t in &evaluation.targets {
        let who = version_label(t);
        let enough = t.new.requests >= gates.min_requests as f64;
        rows.push(GateRow {
            target: who.clone(),
            gate: "requests",
            value: format!("{:.0}", t.new.requests),
            threshold: format!("≥ {}", gates.min_requests),
            ok: Some(enough),
        });
        rows.push(GateRow {
            target: who.clone(),
            gate: "success rate",
            value: t
                .new
                .success_rate
                .map_or("–".to_owned(), |v| format!("{v:.1} %")),
            threshold: format!("≥ {} %", gates.min_success_rate),
            ok: t
                .new
                .success_rate
                .filter(|_| enough)
                .map(|v| v >= gates.min_success_rate),
        });
        rows.push(GateRow {
            target: who,
            gate: "p99",
            value: t
                .new
                .p99_ms
                .map_or("–".to_owned(), |v| format!("{v:.0} ms")),
            threshold: format!("≤ {} ms", gates.max_p99_ms),
            ok: t
                .new
                .p99_ms
                .filter(|_| enough)
                .map(|v| v <= gates.max_p99_ms),
        });
    }
    rows
}

/// "pass", "fail", "inconclusive".
pub fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::plans::{TargetEvaluation, VersionValues};

    #[test]
    fn the_editor_s_fields_parse_or_say_why_not() {
        assert_eq!(parse_steps("5, 25, 50, 100"), Ok(vec![5, 25, 50, 100]));
        assert_eq!(parse_steps("5 → 25% → 100"), Ok(vec![5, 25, 100]));
        assert!(parse_steps("").unwrap_err().contains("e.g. 5, 25, 50, 100"));
        assert_eq!(
            parse_steps("5, x"),
            Err("\"x\" is not a weight (1 to 100)".into())
        );
        assert_eq!(parse_indices(""), Ok(vec![]));
        assert_eq!(parse_indices("1, 3"), Ok(vec![1, 3]));
        assert!(parse_indices("two").is_err());
    }

    #[test]
    fn gates_read_against_their_thresholds() {
        let e = Evaluation {
            at: 0.0,
            step: 0,
            weight: 5,
            window_seconds: 30.0,
            verdict: Verdict::Fail,
            gates: Gates::default(),
            targets: vec![TargetEvaluation {
                namespace: "hands-on".into(),
                name: "review".into(),
                kind: Default::default(),
                verdict: Verdict::Fail,
                new: VersionValues {
                    subset: "new".into(),
                    version: Some("v2".into()),
                    requests: 412.0,
                    success_rate: Some(93.1),
                    p99_ms: Some(120.0),
                },
                old: VersionValues {
                    subset: "old".into(),
                    version: Some("v1".into()),
                    requests: 0.0,
                    success_rate: None,
                    p99_ms: None,
                },
                reasons: vec![],
            }],
            summary: String::new(),
        };
        let rows = gate_rows(&e, &Gates::default());
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (
                rows[1].value.as_str(),
                rows[1].threshold.as_str(),
                rows[1].ok
            ),
            ("93.1 %", "≥ 99 %", Some(false))
        );
        assert_eq!(rows[2].ok, Some(true));
        assert_eq!(rows[0].target, "review v2");
        // An HTTPRoute target's new version is its backend Service.
        let mut e = e;
        e.targets[0].kind = RouteKind::HTTPRoute;
        e.targets[0].new.subset = "review-v2".into();
        assert_eq!(gate_rows(&e, &Gates::default())[0].target, "review-v2");
    }
}
