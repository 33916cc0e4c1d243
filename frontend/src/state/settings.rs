//! How the server was started, as far as the page needs it (`GET /api/v1/settings`): the subset
//! names of the old and the new version, and the rate windows offered. Nothing on the page
//! assumes them: until the answer is in, the bulk shift and rollback wait, weights list in route
//! order, and the graph uses the server's default window.

use crate::api::{rollout, Error};
use leptos::prelude::*;
use switchyard_protocol::{RateWindows, Settings, Subsets};

#[derive(Clone, Copy)]
pub struct SettingsStore {
    /// `None` until the server answered.
    pub subsets: RwSignal<Option<Subsets>>,
    /// The rate windows the server offers; `None` until it answered.
    pub windows: RwSignal<Option<RateWindows>>,
    /// Why the settings could not be read, shown instead of the actions that need them.
    pub problem: RwSignal<Option<String>>,
}

/// Creates the store, asks the server once, and makes it available to every component below.
pub fn provide_settings() -> SettingsStore {
    let store = SettingsStore {
        subsets: RwSignal::new(None),
        windows: RwSignal::new(None),
        problem: RwSignal::new(None),
    };
    provide_context(store);
    leptos::task::spawn_local(async move {
        store.set_answer(rollout::fetch_settings().await);
    });
    store
}

/// The store provided by [`provide_settings`].
pub fn use_settings() -> SettingsStore {
    expect_context::<SettingsStore>()
}

impl SettingsStore {
    fn set_answer(&self, answer: Result<Settings, Error>) {
        match answer {
            Ok(settings) => {
                self.subsets.set(Some(settings.subsets));
                self.windows.set(Some(settings.windows));
                self.problem.set(None);
            }
            Err(error) => self.problem.set(Some(format!(
                "Could not read the console's settings (which subsets are old and new): {error}"
            ))),
        }
    }

    /// Tracked: the subset names, once known.
    pub fn subsets(&self) -> Option<Subsets> {
        self.subsets.get()
    }
}
