//! Rollback: one clearly marked button that sends every old/new route in scope to old 100 /
//! new 0 (old and new as the server names the subsets, and for HTTPRoutes the backends), after
//! one plain question that names the services it will return. The server picks the routes from its cluster cache, so this
//! works whatever state the metrics (Prometheus) are in; the page needs nothing but the routes
//! it already shows to ask the question.
//!
//! Services unticked in the bulk panel are left out: then the page sends a bulk shift to old 100
//! for the named ones (each read fresh by the server, as a rollback is), since `POST
//! /api/v1/rollback` takes no parameters and always means everything.

use super::{
    bulk_shift::use_bulk_choice,
    confirm_dialog::ConfirmDialog,
    shift_preview::{error_text, split_text},
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
};
use leptos::prelude::*;
use std::collections::BTreeMap;
use switchyard_protocol::{
    backends::old_new, weights::TOTAL, ShiftRequest, ShiftResponse, ShiftTarget, Subsets,
};

/// The confirmation, naming what will be returned: "Roll back 2 services to old 100 %:
/// hands-on/ratings, hands-on/review" (an HTTPRoute's with "(HTTPRoute)" after it).
pub fn rollback_question(subsets: &Subsets, services: &[VsKey]) -> String {
    let n = services.len();
    let names = services
        .iter()
        .map(VsKey::label)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Roll back {n} service{} to {} {TOTAL} %: {names}",
        if n == 1 { "" } else { "s" },
        subsets.old_name()
    )
}

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
    let unticked = use_bulk_choice().unticked;
    let outcome = RwSignal::new(None::<Result<ShiftResponse, String>>);

    // The VirtualServices a rollback reaches, with whether the person may change each.
    // Nothing until the server said what old and new are called.
    let reach = Memo::new(move |_| {
        let Some((subsets, backends)) = settings.old_new() else {
            return Vec::new();
        };
        routes
            .entries()
            .into_iter()
            .filter(|entry| {
                entry
                    .routes
                    .with(|vs| old_new(entry.key.kind, vs, &subsets, &backends).is_some())
            })
            .map(|entry| {
                let permission = access
                    .map(|a| a.permission(&entry.key))
                    .unwrap_or(Permission::Editable);
                (entry.key, permission)
            })
            .collect::<Vec<_>>()
    });
    // What the rollback returns: every reachable service the person may change and did not
    // untick in the bulk panel; and whether that is a part (some unticked) or everything.
    let returned = Memo::new(move |_| {
        reach.with(|all| {
            unticked.with(|u| {
                all.iter()
                    .filter(|(key, p)| p.is_editable() && !u.contains(key))
                    .map(|(key, _)| key.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let partial = Memo::new(move |_| {
        reach.with(|all| unticked.with(|u| all.iter().any(|(key, _)| u.contains(key))))
    });
    // Read-only only when every reachable VirtualService is; otherwise the server does what it
    // may and reports the rest. Without the settings there is nothing to ask about.
    let refusal = Memo::new(move |_| {
        reach.with(|all| {
            if all.is_empty() {
                None
            } else if !all.iter().any(|(_, p)| p.is_editable()) {
                all.iter().find_map(|(_, p)| p.reason().map(str::to_owned))
            } else if returned.with(Vec::is_empty) {
                Some("every service is unticked in the bulk panel".to_owned())
            } else {
                None
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
        settings
            .subsets
            .with(|s| {
                s.as_ref()
                    .map(|s| returned.with(|r| rollback_question(s, r)))
            })
            .unwrap_or_default()
    });
    let help = move || {
        match settings.subsets.get() {
        Some(s) => format!(
            "Sends every {}/{} route in scope (and every HTTPRoute rule to its old backend) to {}. Needs no metrics.",
            s.old_name(),
            s.new_name(),
            split_text(&s, switchyard_protocol::weights::TOTAL, 0)
        ),
        None => settings
            .problem
            .get()
            .unwrap_or_else(|| "Waiting for the console's settings…".into()),
    }
    };

    let rollback = Action::new_local(move |_: &()| {
        // Taken when confirmed: exactly the services the question named.
        let part = partial.get_untracked().then(|| {
            let subsets = settings.subsets.get_untracked();
            let targets = returned
                .get_untracked()
                .into_iter()
                .map(|key| ShiftTarget {
                    namespace: key.namespace,
                    name: key.name,
                    kind: key.kind,
                    expected: None,
                })
                .collect::<Vec<_>>();
            (subsets, targets)
        });
        async move {
            outcome.set(None);
            let answer = match part {
                None => rollout::rollback().await,
                Some((Some(subsets), targets)) => {
                    let weights = BTreeMap::from([
                        (subsets.old_name().to_owned(), TOTAL),
                        (subsets.new_name().to_owned(), 0),
                    ]);
                    rollout::shift(&ShiftRequest { targets, weights }).await
                }
                // The button is disabled until the settings arrive.
                Some((None, _)) => return,
            };
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
                    outcome.set(Some(Ok(response)));
                }
                Err(error) => outcome.set(Some(Err(error_text(&error)))),
            }
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
                    } else if partial.get() {
                        let n = returned.with(Vec::len);
                        format!(
                            "Roll back {n} service{} to {}",
                            if n == 1 { "" } else { "s" },
                            old_name()
                        )
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
                confirm_label="Roll back"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> VsKey {
        VsKey::virtual_service("hands-on", name)
    }

    #[test]
    fn the_question_names_every_service_it_returns() {
        let old_new = Subsets::default();
        assert_eq!(
            rollback_question(&old_new, &[key("ratings"), key("review")]),
            "Roll back 2 services to old 100 %: hands-on/ratings, hands-on/review"
        );
        assert_eq!(
            rollback_question(&Subsets::new("blue", "green").unwrap(), &[key("review")]),
            "Roll back 1 service to blue 100 %: hands-on/review"
        );
        let http = VsKey {
            kind: switchyard_protocol::RouteKind::HTTPRoute,
            ..VsKey::virtual_service("hands-on-gateway", "review")
        };
        assert_eq!(
            rollback_question(&old_new, &[key("review"), http]),
            "Roll back 2 services to old 100 %: hands-on/review, hands-on-gateway/review (HTTPRoute)"
        );
    }
}
