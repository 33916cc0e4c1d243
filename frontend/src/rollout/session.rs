//! Asking the server who the caller is and what the cluster lets them change: `whoami` once at
//! start, then the access reviews whenever the set of route objects or of release plans changes
//! (a new one needs its own answer). Not a component: the app calls [`start`] once.

use super::shift_preview::error_text;
use crate::{
    api::{events::backoff_ms, rollout, Error},
    plans::store::PlansStore,
    state::{
        access::{AccessStore, Session},
        routes::{RoutesStore, VsKey},
    },
};
use leptos::prelude::*;

/// Starts the session questions for the life of the page. `on_ready` runs once, when the
/// console can first be shown (right away in anonymous mode, after sign-in in token mode): the
/// live stream starts there, so it never knocks on the server without credentials.
pub fn start(
    access: AccessStore,
    routes: RoutesStore,
    plans: PlansStore,
    on_ready: impl FnOnce() + 'static,
) {
    leptos::task::spawn_local(async move {
        let answer = rollout::fetch_whoami().await;
        access.session.set(Session::from_answer(answer));
    });
    // Re-asked when route objects or plans come or go (and once the session is known), not on
    // every weight change or step: access depends on the object, not on its contents.
    let keys = Memo::new(move |_| {
        routes
            .entries()
            .into_iter()
            .map(|e| e.key)
            .collect::<Vec<VsKey>>()
    });
    let plan_keys = Memo::new(move |_| {
        plans.plans.with(|ps| {
            ps.iter()
                .map(|p| (p.namespace.clone(), p.id.clone()))
                .collect::<Vec<_>>()
        })
    });
    let ready = Memo::new(move |_| access.session.with(Session::shows_console));
    let mut on_ready = Some(on_ready);
    Effect::new(move |_| {
        if ready.get() {
            if let Some(run) = on_ready.take() {
                run();
            }
        }
    });
    Effect::new(move |_| {
        if !ready.get() {
            return;
        }
        keys.track();
        plan_keys.track();
        leptos::task::spawn_local(async move {
            // Tried again while the console cannot be reached, as the message says.
            let mut attempt = 0;
            loop {
                match rollout::fetch_access().await {
                    Ok(response) => return access.set_access(response),
                    Err(error) => {
                        access.problem.set(Some(format!(
                            "Could not ask the cluster what you may change: {}",
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
    });
}
