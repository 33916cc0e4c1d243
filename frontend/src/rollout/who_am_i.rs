//! Who the page thinks you are, in the header: the user and the auth mode, why writes are off
//! when they are, and in token mode a Sign out button.

use super::test_ids;
use crate::{
    api::rollout,
    state::access::{use_access, Session},
};
use leptos::prelude::*;

/// Reloads the page: after signing out nothing of the session (stream, stores) should survive.
fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

#[component]
pub fn WhoAmI() -> impl IntoView {
    let access = use_access();
    let session = move || access.map(|a| a.session.get()).unwrap_or(Session::Unknown);
    let sign_out = Action::new_local(|_: &()| async move {
        // Whatever the answer, the page starts over; a failed sign-out shows up as still
        // signed in.
        let _ = rollout::sign_out().await;
        reload();
    });
    view! {
        <div class="whoami" data-testid=test_ids::WHOAMI>
            {move || match session() {
                Session::Unknown => view! { <span class="whoami-user">"…"</span> }.into_any(),
                Session::SignedOut { .. } => {
                    view! { <span class="whoami-user">"not signed in"</span> }.into_any()
                }
                Session::Failed(text) => {
                    view! { <span class="whoami-problem">{format!("unknown user: {text}")}</span> }
                        .into_any()
                }
                Session::Ready(who) => {
                    let user = who.user.clone().unwrap_or_else(|| "unknown".into());
                    let mode = format!("{} mode", who.auth_mode);
                    let read_only = (!who.may_write)
                        .then(|| {
                            let reason = who.reason.clone().unwrap_or_default();
                            view! {
                                <span class="whoami-reason">{format!("read-only: {reason}")}</span>
                            }
                        });
                    let sign_out_button = (who.auth_mode == "token")
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="secondary-button"
                                    data-testid=test_ids::SIGN_OUT
                                    prop:disabled=move || sign_out.pending().get()
                                    on:click=move |_| {
                                        sign_out.dispatch(());
                                    }
                                >
                                    "Sign out"
                                </button>
                            }
                        });
                    view! {
                        <span class="whoami-user">{user}</span>
                        <span class="whoami-mode">{mode}</span>
                        {read_only}
                        {sign_out_button}
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
