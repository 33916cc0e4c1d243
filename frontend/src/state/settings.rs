//! How the server was started, as far as the page needs it (`GET /api/v1/settings`): the subset
//! names of the old and the new version, the rate windows offered, and the suffixes of an
//! HTTPRoute's old and new backend Services. Nothing on the page
//! assumes them: until the answer is in, the bulk shift and rollback wait, weights list in route
//! order, and the graph uses the server's default window.

use crate::api::{rollout, Error};
use leptos::prelude::*;
use switchyard_protocol::{Backends, RateWindows, Settings, Subsets};

#[derive(Clone, Copy)]
pub struct SettingsStore {
    /// `None` until the server answered.
    pub subsets: RwSignal<Option<Subsets>>,
    /// The rate windows the server offers; `None` until it answered.
    pub windows: RwSignal<Option<RateWindows>>,
    /// The old and new backend suffixes of HTTPRoutes; `None` until the server answered.
    pub backends: RwSignal<Option<Backends>>,
    /// Why the settings could not be read, shown instead of the actions that need them.
    pub problem: RwSignal<Option<String>>,
}

/// Creates the store, asks the server once, and makes it available to every component below.
pub fn provide_settings() -> SettingsStore {
    let store = SettingsStore {
        subsets: RwSignal::new(None),
        windows: RwSignal::new(None),
        backends: RwSignal::new(None),
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
                self.backends.set(Some(settings.backends));
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

    /// Tracked: the subset names and the backend suffixes, once both are known.
    pub fn old_new(&self) -> Option<(Subsets, Backends)> {
        Some((self.subsets.get()?, self.backends.get()?))
    }
}
