//! What a bulk shift or a rollback did, per VirtualService and HTTPRoute: a one-line summary,
//! then one line per target ("changed: old 100 / new 0 → old 0 / new 100", "failed (409
//! conflict): …").

use super::shift_preview::{result_text, results_summary, PreviewRow};
use crate::state::settings::use_settings;
use crate::weight_controls::test_ids::name_for;
use leptos::prelude::*;
use switchyard_protocol::{RouteKind, ShiftOutcome, ShiftResult};

fn outcome_class(outcome: ShiftOutcome) -> &'static str {
    match outcome {
        ShiftOutcome::Changed => "shift-result is-changed",
        ShiftOutcome::Unchanged => "shift-result is-unchanged",
        ShiftOutcome::Failed => "shift-result is-failed",
    }
}

#[component]
pub fn ShiftResults(
    results: Vec<ShiftResult>,
    /// The test id of each target's line, from its name (an HTTPRoute's `httproute-{name}`);
    /// `None` for lines without one.
    #[prop(optional)]
    row_test_id: Option<fn(&str) -> String>,
    /// The preview rows the results answer, when there was a preview.
    #[prop(optional)]
    shown: Vec<PreviewRow>,
) -> impl IntoView {
    let subsets = use_settings().subsets.get_untracked();
    let summary = results_summary(&results, subsets.as_ref());
    let rows = results
        .into_iter()
        .map(|result| {
            let test_id = row_test_id.map(|id| id(&name_for(result.kind, &result.name)));
            let row = shown.iter().find(|row| {
                row.kind == result.kind
                    && row.namespace == result.namespace
                    && row.name == result.name
            });
            let text = result_text(&result, row);
            let label = match result.kind {
                RouteKind::VirtualService => format!("{}/{}", result.namespace, result.name),
                RouteKind::HTTPRoute => {
                    format!("{}/{} (HTTPRoute)", result.namespace, result.name)
                }
            };
            view! {
                <li class=outcome_class(result.outcome) data-testid=test_id>
                    <span class="shift-result-name">{label}</span>
                    <span class="shift-result-text">{text}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="shift-results">
            <p class="shift-results-summary">{summary}</p>
            <ul class="shift-results-list">{rows}</ul>
        </div>
    }
}
