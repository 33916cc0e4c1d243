//! A plan's control buttons: pause, resume, promote (the next step now; the approval of a step
//! that waits for one), abort. Each is offered only where the plan's phase allows it
//! (`PlanAction::allowed_in`, the rule the server applies too) and the person's rights allow
//! (a patch on the plan, as the cluster answered the access review), with the reason when not,
//! shown beside the buttons for a read-only plan; the cluster still decides each action (a
//! refusal is shown in its words).

use super::{store::PlansStore, test_ids};
use crate::api;
use leptos::prelude::*;
use switchyard_protocol::plans::{PlanAction, PlanPhase};

#[component]
pub fn PlanControls(
    store: PlansStore,
    id: String,
    phase: Signal<Option<PlanPhase>>,
    /// Why this person may not steer the plan (the cluster refuses them a patch on it), when so.
    read_only: Signal<Option<String>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let error_id = test_ids::plan_action_error(&id);
    let readonly_id = test_ids::plan_readonly_reason(&id);
    let buttons = [
        (PlanAction::Pause, "Pause"),
        (PlanAction::Resume, "Resume"),
        (PlanAction::Promote, "Promote"),
        (PlanAction::Abort, "Abort"),
    ]
    .into_iter()
    .map(|(action, label)| {
        let id = id.clone();
        let test_id = test_ids::plan_action(action.as_str(), &id);
        let why_not = move || {
            if let Some(reason) = read_only.get() {
                return Some(format!("read-only: {reason}"));
            }
            phase
                .get()
                .map(|p| action.allowed_in(p).err())
                .unwrap_or(Some("not loaded".into()))
        };
        let act = move |_| {
            let id = id.clone();
            busy.set(true);
            error.set(None);
            leptos::task::spawn_local(async move {
                match api::plans::act(&id, action).await {
                    Ok(plan) => store.upsert(plan),
                    Err(e) => error.set(Some(e.to_string())),
                }
                busy.set(false);
            });
        };
        view! {
            <button type="button" class="plan-action" data-testid=test_id
                disabled=move || busy.get() || why_not().is_some()
                title=move || why_not().unwrap_or_default()
                on:click=act>
                {label}
            </button>
        }
    })
    .collect::<Vec<_>>();
    view! {
        <div class="plan-controls" role="group" aria-label="Plan controls">
            {buttons}
            {move || read_only.get().map(|reason| view! {
                <p class="readonly-reason" data-testid=readonly_id.clone()>{format!("read-only: {reason}")}</p>
            })}
            <p class="plan-error" role="alert" data-testid=error_id>{move || error.get().unwrap_or_default()}</p>
        </div>
    }
}
