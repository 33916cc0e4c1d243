//! Token mode: a sign-in form with one password-type field for a Kubernetes bearer token. The
//! token goes to the server once, in the request body; the field is emptied as it is sent, and
//! the token is never put in storage, the URL, or the log — the server keeps it in an HttpOnly
//! cookie for this browser session.

use super::{shift_preview::error_text, test_ids};
use crate::{
    api::rollout,
    state::access::{use_access, Session},
};
use leptos::{html, prelude::*};

#[component]
pub fn SignIn(
    /// Why the server wants a sign-in, when it said.
    reason: Option<String>,
) -> impl IntoView {
    let access = use_access();
    let field = NodeRef::<html::Input>::new();
    let problem = RwSignal::new(None::<String>);
    let sign_in = Action::new_local(move |token: &String| {
        let token = token.clone();
        async move {
            match rollout::sign_in(token).await {
                Ok(who) => {
                    problem.set(None);
                    if let Some(access) = access {
                        access.session.set(Session::Ready(who));
                    }
                }
                Err(error) => problem.set(Some(error_text(&error))),
            }
        }
    });
    let pending = sign_in.pending();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(input) = field.get() else { return };
        let token = input.value();
        input.set_value("");
        if token.trim().is_empty() {
            problem.set(Some("Paste a token first.".into()));
            return;
        }
        sign_in.dispatch(token);
    };
    view! {
        <section class="sign-in" aria-labelledby="sign-in-title">
            <h2 class="rollout-title" id="sign-in-title">"Sign in"</h2>
            <p class="rollout-help">
                "This console acts with your own Kubernetes credentials. Paste a bearer token; it is kept in a cookie for this browser session only."
            </p>
            {reason.map(|reason| view! { <p class="page-note">{reason}</p> })}
            <form class="sign-in-form" on:submit=on_submit>
                <label for="sign-in-token">"Bearer token"</label>
                <input
                    type="password"
                    id="sign-in-token"
                    name="token"
                    autocomplete="off"
                    spellcheck="false"
                    node_ref=field
                    data-testid=test_ids::SIGN_IN_TOKEN
                />
                <button
                    type="submit"
                    class="apply-button"
                    data-testid=test_ids::SIGN_IN_SUBMIT
                    prop:disabled=move || pending.get()
                >
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            {move || problem.get().map(|text| view! { <p class="rollout-error" role="alert">{text}</p> })}
        </section>
    }
}
