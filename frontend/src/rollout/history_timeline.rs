//! The history as a timeline, newest first, grouped by operation (every route one bulk shift or
//! rollback changed under one heading): when, who, how (console, bulk shift, rollback, or
//! outside the console), which route, and its weights before → after. Filters by service and by
//! user; exports what the filter keeps as JSON or CSV (download links). Read once, then kept
//! current by the live stream's `change` events.

use super::{shift_preview::error_text, test_ids};
use crate::{
    api::{events::backoff_ms, rollout, Error},
    state::{
        history::{
            change_text, choices, data_url, export_csv, export_json, groups, service_of,
            source_label, time_text, use_history, Filter, Group,
        },
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
        // A read that got no answer is tried again (with the stream's backoff) until it does.
        let mut attempt = 0;
        loop {
            match rollout::fetch_history().await {
                Ok(response) => return history.seed(response.changes),
                Err(error) => {
                    history.problem.set(Some(format!(
                        "Could not load the history: {}",
                        error_text(&error)
                    )));
                    if !matches!(error, Error::Network(_)) {
                        return;
                    }
                }
            }
            attempt += 1;
            gloo_timers::future::TimeoutFuture::new(backoff_ms(attempt)).await;
        }
    });
    let filter = RwSignal::new(Filter::default());
    let services = Memo::new(move |_| history.changes.with(|c| choices(c, service_of)));
    let users = Memo::new(move |_| history.changes.with(|c| choices(c, |r| r.user.clone())));
    let shown = Memo::new(move |_| filter.with(|f| history.changes.with(|c| groups(c, f))));
    // What the exports hold: the changes the filter keeps, oldest first.
    let kept = move || {
        filter.with(|f| {
            history
                .changes
                .with(|c| c.iter().filter(|r| f.keeps(r)).cloned().collect::<Vec<_>>())
        })
    };
    let json_href = move || data_url("application/json", &export_json(&kept()));
    let csv_href = move || {
        data_url(
            "text/csv",
            &settings.subsets.with(|s| export_csv(&kept(), s.as_ref())),
        )
    };

    let entry = move |(index, change): (usize, ChangeRecord)| {
        let source_class = format!("history-source is-{}", change.source);
        view! {
            <li class="history-entry" data-testid=test_ids::history_entry(index)>
                <time class="history-time" datetime=change.time.clone()>{time_text(&change.time)}</time>
                <span class="history-user">{change.user.clone()}</span>
                <span class=source_class>{source_label(&change.source).to_owned()}</span>
                <span class="history-target">
                    {format!("{} route {}", crate::state::history::service_of(&change), change.route_index)}
                </span>
                <span class="history-change">
                    {move || settings.subsets.with(|s| change_text(&change, s.as_ref()))}
                </span>
            </li>
        }
    };
    let group = move |group: Group| {
        let heading = group.heading();
        let time = group
            .entries
            .first()
            .map(|(_, r)| time_text(&r.time))
            .unwrap_or_default();
        let test_id = test_ids::history_group(group.first());
        view! {
            <li class="history-group" data-testid=test_id>
                <p class="history-group-heading">
                    <span class="history-group-title">{heading}</span>
                    <span class="history-group-time">{time}</span>
                </p>
                <ol class="history-group-entries">
                    {group.entries.into_iter().map(entry).collect_view()}
                </ol>
            </li>
        }
    };
    let select = move |label: &'static str,
                       id: &'static str,
                       test_id: &'static str,
                       options: Memo<Vec<String>>,
                       set: fn(&mut Filter, Option<String>)| {
        view! {
            <label class="history-filter" for=id>
                <span>{label}</span>
                <select
                    id=id
                    data-testid=test_id
                    on:change=move |event| {
                        let value = event_target_value(&event);
                        filter.update(|f| set(f, (!value.is_empty()).then_some(value)));
                    }
                >
                    <option value="">"all"</option>
                    <For each=move || options.get() key=|o| o.clone() let(option)>
                        <option value=option.clone()>{option.clone()}</option>
                    </For>
                </select>
            </label>
        }
    };
    view! {
        <section class="history" id="history" aria-labelledby="history-title">
            <h2 class="rollout-title" id="history-title" tabindex="-1">"History"</h2>
            <div class="history-tools">
                {select("Service", "history-filter-service", test_ids::HISTORY_FILTER_SERVICE, services, |f, v| f.service = v)}
                {select("User", "history-filter-user", test_ids::HISTORY_FILTER_USER, users, |f, v| f.user = v)}
                <a class="link-button" download="switchyard-history.json" href=json_href data-testid=test_ids::HISTORY_EXPORT_JSON>
                    "Export JSON"
                </a>
                <a class="link-button" download="switchyard-history.csv" href=csv_href data-testid=test_ids::HISTORY_EXPORT_CSV>
                    "Export CSV"
                </a>
            </div>
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
                <For
                    each=move || shown.get()
                    key=|g| (g.first(), g.entries.len())
                    children=group
                />
            </ol>
        </section>
    }
}
