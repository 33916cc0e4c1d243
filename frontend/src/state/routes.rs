//! The page's copy of every route object's routes (VirtualServices, and HTTPRoutes as their
//! views, keyed by kind), fed by the first read and then patched by live events. Each object has
//! its own signal so an update re-renders only its card, and the list itself changes only when
//! one is added or removed — which keeps unsaved drafts in the other cards untouched.

use leptos::prelude::*;
use switchyard_protocol::{
    HttpRouteRoutes, RouteKind, RoutesResponse, ServerEvent, VirtualServiceRoutes,
};

/// Identity of a route object (a VirtualService or an HTTPRoute); also the key that keeps its
/// card alive across updates.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VsKey {
    pub namespace: String,
    pub name: String,
    pub kind: RouteKind,
}

impl VsKey {
    /// A VirtualService's key.
    pub fn of(vs: &VirtualServiceRoutes) -> Self {
        Self::of_kind(RouteKind::VirtualService, vs)
    }

    /// The key of an object of `kind` from its view.
    pub fn of_kind(kind: RouteKind, vs: &VirtualServiceRoutes) -> Self {
        VsKey {
            namespace: vs.namespace.clone(),
            name: vs.name.clone(),
            kind,
        }
    }

    /// A VirtualService's key by name.
    pub fn virtual_service(namespace: &str, name: &str) -> Self {
        VsKey {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            kind: RouteKind::VirtualService,
        }
    }

    /// `ns/name`, with `(HTTPRoute)` after an HTTPRoute's.
    pub fn label(&self) -> String {
        match self.kind {
            RouteKind::VirtualService => format!("{}/{}", self.namespace, self.name),
            RouteKind::HTTPRoute => format!("{}/{} (HTTPRoute)", self.namespace, self.name),
        }
    }
}

/// One VirtualService in the store. The signal is reference-counted rather than arena-owned
/// because entries are created from event callbacks that run outside any component's owner.
#[derive(Clone)]
pub struct VsEntry {
    pub key: VsKey,
    pub routes: ArcRwSignal<VirtualServiceRoutes>,
}

/// Every VirtualService the server reported, sorted by namespace and name.
#[derive(Clone, Copy)]
pub struct RoutesStore {
    entries: RwSignal<Vec<VsEntry>>,
    /// False until the first full list arrived (from the read or from the event stream), so the
    /// page can tell "nothing here" from "not loaded yet".
    loaded: RwSignal<bool>,
}

/// Creates the store and makes it available to every component below.
pub fn provide_routes() -> RoutesStore {
    let store = RoutesStore {
        entries: RwSignal::new(Vec::new()),
        loaded: RwSignal::new(false),
    };
    provide_context(store);
    store
}

/// The store provided by [`provide_routes`].
pub fn use_routes() -> RoutesStore {
    expect_context::<RoutesStore>()
}

impl RoutesStore {
    /// The entries, tracked: re-runs the caller when one is added or removed.
    pub fn entries(&self) -> Vec<VsEntry> {
        self.entries.get()
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Applies one event from the live stream.
    pub fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Routes(routes) => self.replace_all(routes),
            ServerEvent::VirtualServiceChanged(vs) => self.upsert(vs),
            ServerEvent::VirtualServiceDeleted { namespace, name } => self.remove(&VsKey {
                namespace,
                name,
                kind: RouteKind::VirtualService,
            }),
            ServerEvent::HttpRouteChanged(route) => self.upsert_http_route(&route),
            ServerEvent::HttpRouteDeleted { namespace, name } => self.remove(&VsKey {
                namespace,
                name,
                kind: RouteKind::HTTPRoute,
            }),
            // Graph snapshots, history entries and the like are for other views; the page does
            // not even subscribe to them (see `api::events`).
            _ => {}
        }
    }

    /// Seeds the store from the first read unless the event stream already delivered a list,
    /// which is at least as new.
    pub fn seed(&self, routes: RoutesResponse) {
        if !self.loaded.get_untracked() {
            self.replace_all(routes);
        }
    }

    /// Replaces the whole list: updates entries that still exist in place (so their cards and
    /// drafts survive), adds new ones and drops the ones that are gone.
    pub fn replace_all(&self, routes: RoutesResponse) {
        let mut incoming: Vec<(VsKey, VirtualServiceRoutes)> = routes
            .virtual_services
            .into_iter()
            .map(|vs| (VsKey::of(&vs), vs))
            .chain(routes.http_routes.iter().map(|hr| {
                let view = hr.view();
                (VsKey::of_kind(RouteKind::HTTPRoute, &view), view)
            }))
            .collect();
        incoming.sort_by(|a, b| a.0.cmp(&b.0));
        let current = self.entries.get_untracked();
        let mut next = Vec::with_capacity(incoming.len());
        for (key, vs) in incoming {
            match current.iter().find(|e| e.key == key) {
                Some(entry) => {
                    update_if_changed(&entry.routes, vs);
                    next.push(entry.clone());
                }
                None => next.push(VsEntry {
                    key,
                    routes: ArcRwSignal::new(vs),
                }),
            }
        }
        let same_keys =
            next.len() == current.len() && next.iter().zip(&current).all(|(a, b)| a.key == b.key);
        if !same_keys {
            self.entries.set(next);
        }
        if !self.loaded.get_untracked() {
            self.loaded.set(true);
        }
    }

    /// Adds or updates one VirtualService, e.g. from an event or a write's answer.
    pub fn upsert(&self, vs: VirtualServiceRoutes) {
        self.upsert_kind(RouteKind::VirtualService, vs)
    }

    /// Adds or updates one HTTPRoute (as its view).
    pub fn upsert_http_route(&self, route: &HttpRouteRoutes) {
        self.upsert_kind(RouteKind::HTTPRoute, route.view())
    }

    /// Adds or updates one route object of `kind` from its view.
    pub fn upsert_kind(&self, kind: RouteKind, vs: VirtualServiceRoutes) {
        let key = VsKey::of_kind(kind, &vs);
        let existing = self
            .entries
            .with_untracked(|entries| entries.iter().find(|e| e.key == key).cloned());
        match existing {
            Some(entry) => update_if_changed(&entry.routes, vs),
            None => self.entries.update(|entries| {
                let at = entries.partition_point(|e| e.key < key);
                entries.insert(
                    at,
                    VsEntry {
                        key,
                        routes: ArcRwSignal::new(vs),
                    },
                );
            }),
        }
    }

    pub fn remove(&self, key: &VsKey) {
        let present = self
            .entries
            .with_untracked(|entries| entries.iter().any(|e| &e.key == key));
        if present {
            self.entries
                .update(|entries| entries.retain(|e| &e.key != key));
        }
    }
}

/// Sets the signal only when the data differs, so an identical re-list re-renders nothing.
fn update_if_changed(signal: &ArcRwSignal<VirtualServiceRoutes>, vs: VirtualServiceRoutes) {
    if signal.with_untracked(|current| current != &vs) {
        signal.set(vs);
    }
}
