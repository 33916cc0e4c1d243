//! The plan editor: which old/new routes move together, the steps of the new version's weight,
//! the hold, the gates (their defaults shown: Flagger's 99 % and 500 ms, 50 requests), what an
//! abort does and where a person must approve. Start sends it (`POST /api/v1/plans`); a refusal
//! is shown in the server's words.

use super::{parse_indices, parse_steps, store::PlansStore, test_ids};
use crate::{
    api,
    state::{
        access::{use_access, Permission},
        routes::use_routes,
        settings::use_settings,
    },
};
use leptos::prelude::*;
use std::collections::BTreeSet;
use switchyard_protocol::plans::{
    Gates, OnAbort, PlanRequest, PlanTarget, DEFAULT_MAX_P99_MS, DEFAULT_MIN_REQUESTS,
    DEFAULT_MIN_SUCCESS_RATE,
};
use switchyard_protocol::RouteKind;

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim()
        .parse::<T>()
        .map_err(|_| format!("{what}: {text:?} is not a number"))
}

#[component]
pub fn PlanEditor(store: PlansStore) -> impl IntoView {
    let routes = use_routes();
    let settings = use_settings();
    let access = use_access();
    let chosen = RwSignal::new(BTreeSet::<(String, String)>::new());
    let steps = RwSignal::new("5, 25, 50, 100".to_owned());
    let hold = RwSignal::new("60".to_owned());
    let min_success = RwSignal::new(DEFAULT_MIN_SUCCESS_RATE.to_string());
    let max_p99 = RwSignal::new(DEFAULT_MAX_P99_MS.to_string());
    let min_requests = RwSignal::new(DEFAULT_MIN_REQUESTS.to_string());
    let stepped = RwSignal::new(false);
    let approvals = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // The routes a plan can move: those split between exactly the old and new subsets.
    let candidates = Memo::new(move |_| {
        let Some(subsets) = settings.subsets() else {
            return Vec::new();
        };
        routes
            .entries()
            .into_iter()
            .filter(|e| e.routes.with(|vs| subsets.shift_route(vs).is_some()))
            .map(|e| {
                let permission = access
                    .map(|a| a.permission(&e.key))
                    .unwrap_or(Permission::Editable);
                (e.key.namespace, e.key.name, permission)
            })
            .collect::<Vec<_>>()
    });

    let request = move || -> Result<PlanRequest, String> {
        let targets: Vec<PlanTarget> = chosen
            .get_untracked()
            .into_iter()
            .map(|(namespace, name)| PlanTarget {
                namespace,
                name,
                kind: RouteKind::VirtualService,
            })
            .collect();
        if targets.is_empty() {
            return Err("choose at least one route for the plan to move".into());
        }
        Ok(PlanRequest {
            targets,
            steps: parse_steps(&steps.get_untracked())?,
            hold_seconds: number(&hold.get_untracked(), "hold")?,
            gates: Gates {
                min_success_rate: number(&min_success.get_untracked(), "least success rate")?,
                max_p99_ms: number(&max_p99.get_untracked(), "most p99")?,
                min_requests: number(&min_requests.get_untracked(), "fewest requests")?,
                ..Gates::default()
            },
            on_abort: if stepped.get_untracked() {
                OnAbort::Stepped
            } else {
                OnAbort::Immediate
            },
            approval_before: parse_indices(&approvals.get_untracked())?,
        })
    };
    let start = move |_| {
        let request = match request() {
            Ok(r) => r,
            Err(why) => {
                error.set(Some(why));
                return;
            }
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::plans::create(&request).await {
                Ok(plan) => {
                    store.upsert(plan);
                    chosen.set(BTreeSet::new());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let field =
        |label: &'static str, id: &'static str, value: RwSignal<String>, kind: &'static str| {
            view! {
                <label class="plan-field">
                    <span>{label}</span>
                    <input type=kind data-testid=id prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                </label>
            }
        };

    view! {
        <section class="plan-editor" aria-label="New release plan">
            <h3>"New release plan"</h3>
            <fieldset class="plan-targets">
                <legend>"Routes that move together"</legend>
                <For each=move || candidates.get() key=|c| (c.0.clone(), c.1.clone(), c.2.is_editable()) let:c>
                    {
                        let key = (c.0.clone(), c.1.clone());
                        let toggle_key = key.clone();
                        let reason = c.2.reason().map(str::to_owned);
                        let title = reason.clone().unwrap_or_default();
                        view! {
                            <label class="plan-target" title=title>
                                <input type="checkbox" data-testid=test_ids::plan_target(&c.1)
                                    disabled=!c.2.is_editable()
                                    prop:checked=move || chosen.with(|s| s.contains(&key))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|s| {
                                            if on { s.insert(toggle_key.clone()); } else { s.remove(&toggle_key); }
                                        });
                                    } />
                                {c.1.clone()}
                                {reason.map(|r| view! { <span class="plan-target-reason">{r}</span> })}
                            </label>
                        }
                    }
                </For>
            </fieldset>
            {field("Steps (new version %)", test_ids::PLAN_STEPS, steps, "text")}
            {field("Hold per step (s)", test_ids::PLAN_HOLD, hold, "number")}
            {field("Least success rate (%)", test_ids::PLAN_MIN_SUCCESS, min_success, "number")}
            {field("Most p99 latency (ms)", test_ids::PLAN_MAX_P99, max_p99, "number")}
            {field("Fewest requests per evaluation", test_ids::PLAN_MIN_REQUESTS, min_requests, "number")}
            <label class="plan-field">
                <span>"On abort"</span>
                <select data-testid=test_ids::PLAN_ON_ABORT
                    on:change=move |ev| stepped.set(event_target_value(&ev) == "stepped")>
                    <option value="immediate" selected=move || !stepped.get()>"back to old at once"</option>
                    <option value="stepped" selected=move || stepped.get()>"step back down"</option>
                </select>
            </label>
            {field("Wait for approval before step indices (e.g. 2)", test_ids::PLAN_APPROVALS, approvals, "text")}
            <button type="button" class="plan-start" data-testid=test_ids::PLAN_START
                disabled=move || busy.get() on:click=start>
                "Start plan"
            </button>
            <p class="plan-error" role="alert" data-testid=test_ids::PLAN_START_ERROR>
                {move || error.get().unwrap_or_default()}
            </p>
        </section>
    }
}
