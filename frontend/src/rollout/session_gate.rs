//! Shows the console only once the session allows it: the sign-in form in token mode without a
//! session, a short note while asking, and otherwise its children.

use super::sign_in::SignIn;
use crate::state::access::{use_access, Session};
use leptos::prelude::*;

/// Only the kind of session matters here: a new answer of the same kind must not rebuild the
/// console below.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Asking,
    SignIn(Option<String>),
    Console,
}

#[component]
pub fn SessionGate(children: ChildrenFn) -> impl IntoView {
    let access = use_access();
    let phase = Memo::new(move |_| match access.map(|a| a.session.get()) {
        Some(Session::Unknown) => Phase::Asking,
        Some(Session::SignedOut { reason }) => Phase::SignIn(reason),
        // Without the store there is nothing to ask: show the console and let reads decide.
        None | Some(Session::Ready(_)) | Some(Session::Failed(_)) => Phase::Console,
    });
    move || match phase.get() {
        Phase::Asking => view! { <p class="page-note">"Checking who you are…"</p> }.into_any(),
        Phase::SignIn(reason) => view! { <SignIn reason /> }.into_any(),
        Phase::Console => children().into_any(),
    }
}
