//! Rollback: one clearly marked button that sends every old/new route in scope to old 100 /
//! new 0 (old and new as the server names the subsets), after one plain question. The server picks the routes from its cluster cache, so this
//! works whatever state the metrics (Prometheus) are in; the page needs nothing but the routes
//! it already shows to ask the question.

use super::{
    confirm_dialog::ConfirmDialog,
    shift_preview::{error_text, split_text},
    shift_results::ShiftResults,
    test_ids,
};
use crate::{
    api::rollout,
    state::{
        access::{use_access, Permission},
        routes::use_routes,
        settings::use_settings,
    },
};
use leptos::prelude::*;
use switchyard_protocol::ShiftResponse;

/// Asks for the rollback confirmation from anywhere on the page (the health banner).
#[derive(Clone, Copy)]
pub struct RollbackRequest(RwSignal<bool>);

impl RollbackRequest {
    /// Opens the rollback question.
    pub fn ask(&self) {
        self.0.set(true);
    }
}

pub fn provide_rollback_request() -> RollbackRequest {
    let request = RollbackRequest(RwSignal::new(false));
    provide_context(request);
    request
}

/// The page's rollback request, or a private one where none was provided.
pub fn use_rollback_request() -> RollbackRequest {
    use_context::<RollbackRequest>().unwrap_or_else(|| RollbackRequest(RwSignal::new(false)))
}

#[component]
pub fn RollbackButton() -> impl IntoView {
    let routes = use_routes();
    let access = use_access();
    let settings = use_settings();
    let asking = use_rollback_request().0;
    let outcome = RwSignal::new(None::<Result<ShiftResponse, String>>);

    // The VirtualServices a rollback reaches, with whether the person may change each.
    // Nothing until the server said what old and new are called.
    let reach = Memo::new(move |_| {
        let Some(subsets) = settings.subsets() else {
            return Vec::new();
        };
        routes
            .entries()
            .into_iter()
            .filter(|entry| entry.routes.with(|vs| subsets.shift_route(vs).is_some()))
            .map(|entry| {
                access
                    .map(|a| a.permission(&entry.key))
                    .unwrap_or(Permission::Editable)
            })
            .collect::<Vec<_>>()
    });
    // Read-only only when every reachable VirtualService is; otherwise the server does what it
    // may and reports the rest. Without the settings there is nothing to ask about.
    let refusal = Memo::new(move |_| {
        reach.with(|all| {
            if all.is_empty() || all.iter().any(Permission::is_editable) {
                None
            } else {
                all.iter().find_map(|p| p.reason().map(str::to_owned))
            }
        })
    });
    let old_name = move || {
        settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.old_name().to_owned()))
            .unwrap_or_default()
    };
    let question = Signal::derive(move || {
        let n = reach.with(Vec::len);
        format!(
            "Send ALL traffic of {n} service{} back to {}?",
            if n == 1 { "" } else { "s" },
            old_name()
        )
    });
    let help = move || match settings.subsets.get() {
        Some(s) => format!(
            "Sends every {}/{} route in scope to {}. Needs no metrics.",
            s.old_name(),
            s.new_name(),
            split_text(&s, switchyard_protocol::weights::TOTAL, 0)
        ),
        None => settings
            .problem
            .get()
            .unwrap_or_else(|| "Waiting for the console's settings…".into()),
    };

    let rollback = Action::new_local(move |_: &()| async move {
        outcome.set(None);
        match rollout::rollback().await {
            Ok(response) => {
                for result in &response.results {
                    if let Some(vs) = result.virtual_service.clone() {
                        routes.upsert(vs);
                    }
                }
                outcome.set(Some(Ok(response)));
            }
            Err(error) => outcome.set(Some(Err(error_text(&error)))),
        }
    });
    let sending = rollback.pending();

    view! {
        <section class="rollback" aria-labelledby="rollback-title">
            <h2 class="rollout-title" id="rollback-title">"Rollback"</h2>
            <p class="rollout-help">{help}</p>
            <button
                type="button"
                class="danger-button rollback-button"
                data-testid=test_ids::ROLLBACK
                prop:disabled=move || {
                    sending.get() || refusal.with(Option::is_some) || settings.subsets.with(Option::is_none)
                }
                on:click=move |_| asking.set(true)
            >
                {move || {
                    if sending.get() {
                        "Rolling back…".to_owned()
                    } else {
                        format!("Roll back everything to {}", old_name())
                    }
                }}
            </button>
            {move || {
                refusal
                    .get()
                    .map(|reason| view! { <p class="readonly-reason">{format!("read-only: {reason}")}</p> })
            }}
            <ConfirmDialog
                open=asking
                question
                confirm_label="Roll back everything"
                confirm_test_id=test_ids::ROLLBACK_CONFIRM
                cancel_test_id=test_ids::ROLLBACK_CANCEL
                on_confirm=Callback::new(move |()| {
                    rollback.dispatch(());
                })
            />
            <div class="rollback-outcome" data-testid=test_ids::ROLLBACK_RESULT role="status" aria-live="polite">
                {move || match outcome.get() {
                    None => None,
                    Some(Ok(response)) => Some(view! { <ShiftResults results=response.results /> }.into_any()),
                    Some(Err(text)) => Some(view! { <p class="rollout-error" role="alert">{text}</p> }.into_any()),
                }}
            </div>
        </section>
    }
}
