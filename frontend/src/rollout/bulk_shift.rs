//! Bulk shift: choose VirtualServices and HTTPRoutes (every one with an old/new route, by
//! default: a VirtualService's route split between exactly the subsets the server calls old and
//! new, an HTTPRoute's rule split between its old and new backend Services), choose a split (a
//! preset or any value), see exactly what will change per object, and apply it with one request. The preview is a snapshot taken when the choice changes — what is sent as
//! `expected` is what was shown, so a route someone changes afterwards fails with 409 and is
//! left alone while the others proceed. The page says which did what.

use super::{
    shift_preview::{error_text, split_text, Plan, PreviewRow},
    shift_results::ShiftResults,
    test_ids,
};
use crate::{
    api::rollout,
    state::{
        access::{use_access, Permission},
        routes::{use_routes, VsKey},
        settings::use_settings,
    },
    weight_controls::test_ids::name_for,
};
use leptos::prelude::*;
use std::collections::BTreeSet;
use switchyard_protocol::{
    backends::old_new,
    weights::{parse_weight, PRESETS, TOTAL},
    Backends, RouteKind, ShiftResponse, Subsets, VirtualServiceRoutes,
};

/// One VirtualService that can take part: its key, its old/new split now, and whether the
/// person may change it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Candidate {
    key: VsKey,
    split: (u32, u32),
    /// What old and new are called in this object's weights.
    keys: (String, String),
    permission: Permission,
}

/// The VirtualServices the person unticked in the bulk panel. Shared with the rollback button,
/// which leaves them out too (and names the ones it will return).
#[derive(Clone, Copy)]
pub struct BulkChoice {
    pub unticked: RwSignal<BTreeSet<VsKey>>,
}

/// Makes one choice available to the bulk panel and the rollback button below.
pub fn provide_bulk_choice() -> BulkChoice {
    let choice = BulkChoice {
        unticked: RwSignal::new(BTreeSet::new()),
    };
    provide_context(choice);
    choice
}

/// The provided choice, or a private one where none was provided.
pub fn use_bulk_choice() -> BulkChoice {
    use_context::<BulkChoice>().unwrap_or_else(|| BulkChoice {
        unticked: RwSignal::new(BTreeSet::new()),
    })
}

/// The (old, new) split now of a route object's old/new route, with the keys that name old and
/// new in it; `None` without one.
fn split_now(
    kind: RouteKind,
    subsets: &Subsets,
    backends: &Backends,
    vs: &VirtualServiceRoutes,
) -> Option<((u32, u32), (String, String))> {
    old_new(kind, vs, subsets, backends).map(|found| (found.split(), (found.old, found.new)))
}

#[component]
pub fn BulkShift() -> impl IntoView {
    let routes = use_routes();
    let access = use_access();
    let settings = use_settings();
    // Unticked by the person; everything else that may be changed is chosen, including
    // VirtualServices that appear later.
    let unticked = use_bulk_choice().unticked;
    let old_weight = RwSignal::new(None::<u32>);
    // Why the typed weight is not one; while set there is no preview and nothing to apply.
    let weight_error = RwSignal::new(None::<String>);
    let plan = RwSignal::new(None::<Plan>);
    // The answer, with the preview rows it was applied from.
    let outcome = RwSignal::new(None::<Result<(ShiftResponse, Vec<PreviewRow>), String>>);

    // Nothing is a candidate until the server said what old and new are called.
    let candidates = Memo::new(move |_| {
        let Some((subsets, backends)) = settings.old_new() else {
            return Vec::new();
        };
        routes
            .entries()
            .into_iter()
            .filter_map(|entry| {
                let (split, keys) = entry
                    .routes
                    .with(|vs| split_now(entry.key.kind, &subsets, &backends, vs))?;
                let permission = access
                    .map(|a| a.permission(&entry.key))
                    .unwrap_or(Permission::Editable);
                Some(Candidate {
                    key: entry.key,
                    split,
                    keys,
                    permission,
                })
            })
            .collect::<Vec<_>>()
    });
    let is_chosen = move |candidate: &Candidate| {
        candidate.permission.is_editable() && unticked.with(|u| !u.contains(&candidate.key))
    };

    // Takes the snapshot the person sees and applies.
    let preview = move || {
        let (Some(old), Some((subsets, backends))) =
            (old_weight.get_untracked(), untrack(|| settings.old_new()))
        else {
            plan.set(None);
            return;
        };
        let chosen: Vec<(RouteKind, VirtualServiceRoutes)> = untrack(|| {
            let chosen_keys: Vec<VsKey> = candidates
                .get()
                .into_iter()
                .filter(|c| is_chosen(c))
                .map(|c| c.key)
                .collect();
            routes
                .entries()
                .into_iter()
                .filter(|e| chosen_keys.contains(&e.key))
                .map(|e| (e.key.kind, e.routes.get()))
                .collect()
        });
        plan.set(Some(Plan::of(
            &subsets,
            &backends,
            chosen.iter().map(|(kind, vs)| (*kind, vs)),
            old,
        )));
        outcome.set(None);
    };
    let choose_split = move |old: u32| {
        weight_error.set(None);
        old_weight.set(Some(old));
        preview();
    };

    let apply = Action::new_local(move |applied: &Plan| {
        let request = applied.request();
        let shown = applied.rows.clone();
        async move {
            // The policy the server applies, checked first: a refusal reads the same either way.
            let request = match request {
                Ok(request) => request,
                Err(error) => {
                    outcome.set(Some(Err(format!("refused (invalid): {error}"))));
                    return;
                }
            };
            let answer = rollout::shift(&request).await;
            match answer {
                Ok(response) => {
                    for result in &response.results {
                        if let Some(vs) = result.virtual_service.clone() {
                            routes.upsert(vs);
                        }
                        if let Some(route) = &result.http_route {
                            routes.upsert_http_route(route);
                        }
                    }
                    plan.set(None);
                    outcome.set(Some(Ok((response, shown))));
                }
                Err(error) => outcome.set(Some(Err(error_text(&error)))),
            }
        }
    });
    let sending = apply.pending();
    let can_apply =
        move || !sending.get() && plan.with(|p| p.as_ref().is_some_and(|p| !p.rows.is_empty()));

    // The subset names in the labels; empty only before the settings arrive (nothing is
    // offered then).
    let old_name = move || {
        settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.old_name().to_owned()))
            .unwrap_or_default()
    };
    let new_name = move || {
        settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.new_name().to_owned()))
            .unwrap_or_default()
    };

    let target_row = move |candidate: Candidate| {
        // An HTTPRoute's ids are `httproute-{name}`, apart from a VirtualService of the name.
        let name = name_for(candidate.key.kind, &candidate.key.name);
        let shown_name = match candidate.key.kind {
            RouteKind::VirtualService => candidate.key.name.clone(),
            RouteKind::HTTPRoute => format!("{} (HTTPRoute)", candidate.key.name),
        };
        let id = format!("bulk-target-{}-{}", candidate.key.namespace, name);
        let label_id = id.clone();
        let key = candidate.key.clone();
        let editable = candidate.permission.is_editable();
        let checked = {
            let key = key.clone();
            move || editable && unticked.with(|u| !u.contains(&key))
        };
        let reason = candidate.permission.reason().map(|reason| {
            view! {
                <span class="bulk-target-reason" data-testid=test_ids::bulk_target_reason(&name)>
                    {format!("read-only: {reason}")}
                </span>
            }
        });
        view! {
            <li class="bulk-target" class:is-read-only=!editable>
                <input
                    type="checkbox"
                    id=id
                    data-testid=test_ids::bulk_target(&name)
                    prop:checked=checked
                    prop:disabled=!editable
                    on:change=move |event| {
                        let ticked = event_target_checked(&event);
                        unticked
                            .update(|u| {
                                if ticked {
                                    u.remove(&key);
                                } else {
                                    u.insert(key.clone());
                                }
                            });
                        preview();
                    }
                />
                <label for=label_id>
                    <span class="bulk-target-name">{shown_name}</span>
                    <span class="bulk-target-split">
                        {format!(
                            "{} {} / {} {}",
                            candidate.keys.0,
                            candidate.split.0,
                            candidate.keys.1,
                            candidate.split.1,
                        )}
                    </span>
                </label>
                {reason}
            </li>
        }
    };

    let presets = PRESETS
        .iter()
        .map(|&(old, new)| {
            view! {
                <button
                    type="button"
                    class="preset-button"
                    data-testid=test_ids::bulk_preset(old, new)
                    aria-pressed=move || (old_weight.get() == Some(old)).to_string()
                    on:click=move |_| choose_split(old)
                >
                    {format!("{old} / {new}")}
                </button>
            }
        })
        .collect_view();

    let preview_row = move |row: PreviewRow| {
        let key = VsKey {
            namespace: row.namespace.clone(),
            name: row.name.clone(),
            kind: row.kind,
        };
        let row_id = name_for(row.kind, &row.name);
        let stale_row = row.clone();
        let stale = move || {
            routes
                .entries()
                .into_iter()
                .find(|e| e.key == key)
                .is_none_or(|e| e.routes.with(|vs| stale_row.is_stale(vs)))
        };
        view! {
            <li
                class="bulk-preview-row"
                class:is-unchanged=!row.changes()
                data-testid=test_ids::bulk_preview(&row_id)
            >
                <span class="bulk-preview-name">
                    {format!("{} route {}", row.label(), row.route_index)}
                </span>
                <span class="bulk-preview-change">{row.text()}</span>
                {move || {
                    stale()
                        .then(|| {
                            view! {
                                <span class="bulk-preview-stale">
                                    "changed since this preview: applying will leave it untouched"
                                </span>
                            }
                        })
                }}
            </li>
        }
    };

    view! {
        <section class="bulk-shift" data-testid=test_ids::BULK_SHIFT aria-labelledby="bulk-shift-title">
            <h2 class="rollout-title" id="bulk-shift-title">"Bulk shift"</h2>
            <p class="rollout-help">
                "One split for several services at once, in one request. Each service's old/new route is changed only if it still is as previewed."
            </p>
            <fieldset class="bulk-targets">
                <legend>"Services"</legend>
                <ul class="bulk-target-list">
                    <For
                        each=move || candidates.get()
                        key=|c| c.clone()
                        children=target_row
                    />
                </ul>
                {move || {
                    settings.problem.get().map(|text| view! { <p class="rollout-error" role="alert">{text}</p> })
                }}
                {move || {
                    let subsets = settings.subsets.get()?;
                    (routes.is_loaded() && candidates.with(Vec::is_empty))
                        .then(|| {
                            let text = format!(
                                "No VirtualService has a route split between exactly {} and {}, nor an HTTPRoute a rule between its old and new backends.",
                                subsets.old_name(),
                                subsets.new_name(),
                            );
                            view! { <p class="page-note">{text}</p> }
                        })
                }}
            </fieldset>
            <fieldset class="bulk-split">
                <legend>"Split"</legend>
                <div
                    class="preset-buttons"
                    role="group"
                    aria-label=move || format!("preset splits, {} / {}", old_name(), new_name())
                >
                    {presets}
                </div>
                <label class="bulk-old-weight-field" for="bulk-old-weight">
                    <span>{old_name}</span>
                    <input
                        type="number"
                        id="bulk-old-weight"
                        class="weight-slider-number"
                        min="0"
                        max="100"
                        step="1"
                        inputmode="numeric"
                        data-testid=test_ids::BULK_OLD_WEIGHT
                        prop:value=move || old_weight.get().map(|w| w.to_string()).unwrap_or_default()
                        aria-invalid=move || if weight_error.with(Option::is_some) { "true" } else { "false" }
                        aria-describedby="bulk-old-weight-error"
                        class:is-invalid=move || weight_error.with(Option::is_some)
                        on:input=move |event| {
                            let typed = event_target_value(&event);
                            match parse_weight(&old_name(), &typed) {
                                Ok(old) => choose_split(old),
                                // Never a preview of something other than what was typed.
                                Err(reason) => {
                                    weight_error.set(Some(reason.to_string()));
                                    plan.set(None);
                                }
                            }
                        }
                    />
                    <span>"%"</span>
                </label>
                <p
                    class="weight-slider-error"
                    id="bulk-old-weight-error"
                    role="alert"
                    data-testid=test_ids::BULK_WEIGHT_ERROR
                >
                    {move || weight_error.get().unwrap_or_default()}
                </p>
                <span class="bulk-new-weight">
                    {move || {
                        old_weight
                            .get()
                            .map(|old| format!("{} {}%", new_name(), TOTAL.saturating_sub(old)))
                            .unwrap_or_else(|| format!("{} gets the rest", new_name()))
                    }}
                </span>
            </fieldset>
            {move || match plan.get() {
                None => None,
                Some(current) => {
                    let count = current.rows.len();
                    let changes = current.change_count();
                    let heading = format!(
                        "Preview: {} — {changes} of {count} would change",
                        split_text(&current.subsets, current.old, current.new),
                    );
                    Some(
                        view! {
                            <div class="bulk-preview-block">
                                <h3 class="bulk-preview-title">{heading}</h3>
                                <ul class="bulk-preview" data-testid=test_ids::BULK_PREVIEW>
                                    {current.rows.into_iter().map(preview_row).collect_view()}
                                </ul>
                                <button type="button" class="link-button" on:click=move |_| preview()>
                                    "refresh preview"
                                </button>
                            </div>
                        },
                    )
                }
            }}
            <div class="bulk-actions">
                <button
                    type="button"
                    class="apply-button"
                    data-testid=test_ids::BULK_APPLY
                    prop:disabled=move || !can_apply()
                    on:click=move |_| {
                        if let Some(applied) = plan.get_untracked() {
                            apply.dispatch(applied);
                        }
                    }
                >
                    {move || {
                        if sending.get() {
                            "Applying…".to_owned()
                        } else {
                            match plan.with(|p| p.as_ref().map(|p| p.rows.len())) {
                                Some(n) => format!("Apply to {n} service{}", if n == 1 { "" } else { "s" }),
                                None => "Apply".to_owned(),
                            }
                        }
                    }}
                </button>
            </div>
            <div class="bulk-outcome" role="status" aria-live="polite">
                {move || match outcome.get() {
                    None => None,
                    Some(Ok((response, shown))) => Some(
                        view! { <ShiftResults results=response.results row_test_id=test_ids::bulk_result shown /> }
                            .into_any(),
                    ),
                    Some(Err(text)) => Some(
                        view! { <p class="rollout-error" role="alert">{text}</p> }.into_any(),
                    ),
                }}
            </div>
        </section>
    }
}
