//! The plan editor: which old/new routes move together (VirtualServices and HTTPRoutes, each
//! listed with its kind), the steps of the new version's weight, the hold, the gates (their
//! defaults shown: Flagger's 99 % and 500 ms, 50 requests), what an abort does and where a person
//! must approve. Start sends it (`POST /api/v1/plans`); a refusal is shown in the server's words.

use super::{parse_indices, parse_steps, store::PlansStore, test_ids};
use crate::{
    api,
    state::{
        access::{use_access, Permission},
        routes::{use_routes, VsKey},
        settings::use_settings,
    },
};
use leptos::prelude::*;
use std::collections::BTreeSet;
use switchyard_protocol::backends::old_new;
use switchyard_protocol::plans::{
    Gates, OnAbort, PlanRequest, PlanTarget, DEFAULT_MAX_P99_MS, DEFAULT_MIN_REQUESTS,
    DEFAULT_MIN_SUCCESS_RATE,
};

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
    let chosen = RwSignal::new(BTreeSet::<VsKey>::new());
    let steps = RwSignal::new("5, 25, 50, 100".to_owned());
    let hold = RwSignal::new("60".to_owned());
    let min_success = RwSignal::new(DEFAULT_MIN_SUCCESS_RATE.to_string());
    let max_p99 = RwSignal::new(DEFAULT_MAX_P99_MS.to_string());
    let min_requests = RwSignal::new(DEFAULT_MIN_REQUESTS.to_string());
    let stepped = RwSignal::new(false);
    let approvals = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // The routes a plan can move, as bulk shift finds them (`old_new`): VirtualServices with a
    // route split between exactly the old and new subsets, HTTPRoutes with a rule split between
    // their old and new backends.
    let candidates = Memo::new(move |_| {
        let Some((subsets, backends)) = settings.old_new() else {
            return Vec::new();
        };
        routes
            .entries()
            .into_iter()
            .filter(|e| {
                e.routes
                    .with(|vs| old_new(e.key.kind, vs, &subsets, &backends).is_some())
            })
            .map(|e| {
                let permission = access
                    .map(|a| a.permission(&e.key))
                    .unwrap_or(Permission::Editable);
                (e.key, permission)
            })
            .collect::<Vec<_>>()
    });

    let request = move || -> Result<PlanRequest, String> {
        let targets: Vec<PlanTarget> = chosen
            .get_untracked()
            .into_iter()
            .map(|key| PlanTarget {
                namespace: key.namespace,
                name: key.name,
                kind: key.kind,
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
                <For each=move || candidates.get() key=|c| (c.0.clone(), c.1.is_editable()) let:c>
                    {
                        let key = c.0.clone();
                        let toggle_key = key.clone();
                        let reason = c.1.reason().map(str::to_owned);
                        let title = reason
                            .clone()
                            .unwrap_or_else(|| key.label());
                        view! {
                            <label class="plan-target" title=title>
                                <input type="checkbox" data-testid=test_ids::plan_target_of(key.kind, &key.name)
                                    disabled=!c.1.is_editable()
                                    prop:checked=move || chosen.with(|s| s.contains(&key))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|s| {
                                            if on { s.insert(toggle_key.clone()); } else { s.remove(&toggle_key); }
                                        });
                                    } />
                                {c.0.name.clone()}
                                <span class="plan-target-kind" data-testid=test_ids::plan_target_kind(c.0.kind, &c.0.name)>
                                    {format!("{} · {}", c.0.kind, c.0.namespace)}
                                </span>
                                {reason.map(|r| view! { <span class="plan-target-reason">{format!("read-only: {r}")}</span> })}
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
