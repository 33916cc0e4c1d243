//! The history as a timeline, newest first: when, who, how (console, bulk shift, rollback, or
//! outside the console), which route, and its weights before → after. Read once, then kept
//! current by the live stream's `change` events.

use super::{shift_preview::error_text, test_ids};
use crate::{
    api::rollout,
    state::{
        history::{change_text, source_label, time_text, use_history},
        settings::use_settings,
    },
};
use leptos::prelude::*;
use switchyard_protocol::ChangeRecord;

#[component]
pub fn HistoryTimeline() -> impl IntoView {
    let history = use_history();
    let settings = use_settings();
    leptos::task::spawn_local(async move {
        match rollout::fetch_history().await {
            Ok(response) => history.seed(response.changes),
            Err(error) => history.problem.set(Some(format!(
                "Could not load the history: {}",
                error_text(&error)
            ))),
        }
    });
    // Newest first; the index stays the position counted from the oldest, so ids are stable.
    let entries = move || {
        let mut entries: Vec<(usize, ChangeRecord)> =
            history.changes().into_iter().enumerate().collect();
        entries.reverse();
        entries
    };
    let entry = move |(index, change): (usize, ChangeRecord)| {
        let source_class = format!("history-source is-{}", change.source);
        view! {
            <li class="history-entry" data-testid=test_ids::history_entry(index)>
                <time class="history-time" datetime=change.time.clone()>{time_text(&change.time)}</time>
                <span class="history-user">{change.user.clone()}</span>
                <span class=source_class>{source_label(&change.source).to_owned()}</span>
                <span class="history-target">
                    {format!("{}/{} route {}", change.namespace, change.virtual_service, change.route_index)}
                </span>
                <span class="history-change">
                    {move || settings.subsets.with(|s| change_text(&change, s.as_ref()))}
                </span>
            </li>
        }
    };
    view! {
        <section class="history" aria-labelledby="history-title">
            <h2 class="rollout-title" id="history-title">"History"</h2>
            {move || {
                history
                    .problem
                    .get()
                    .map(|text| view! { <p class="rollout-error" role="alert">{text}</p> })
            }}
            {move || {
                (history.is_loaded() && history.is_empty())
                    .then(|| view! { <p class="page-note">"No weight changes recorded yet."</p> })
            }}
            <ol class="history-list" data-testid=test_ids::HISTORY>
                <For each=entries key=|(_, change)| change.id.clone() children=entry />
            </ol>
        </section>
    }
}
