//! The routes page: one card per VirtualService and per HTTPRoute that has a weighted route, kept
//! current by the event stream. The first read runs inside `<Transition>` + `<ErrorBoundary>` so a failure is
//! shown in words; afterwards the store, not a refetch, drives the list.

use crate::{
    api::client,
    state::routes::{use_routes, VsEntry},
    weight_controls::virtual_service_card::VirtualServiceCard,
};
use leptos::prelude::*;

#[component]
pub fn RoutesPage() -> impl IntoView {
    let store = use_routes();
    let first_read = LocalResource::new(client::fetch_routes);
    let has_weighted =
        |entry: &VsEntry| entry.routes.with(|v| v.weighted_routes().next().is_some());
    let weighted = move || {
        store
            .entries()
            .into_iter()
            .filter(has_weighted)
            .collect::<Vec<_>>()
    };
    let without_weighted = move || {
        store
            .entries()
            .into_iter()
            .filter(|entry| !has_weighted(entry))
            .map(|entry| entry.key.label())
            .collect::<Vec<_>>()
    };

    view! {
        <Transition fallback=|| view! { <p class="page-note">"Loading routes…"</p> }>
            <ErrorBoundary fallback=move |errors| {
                // Once the event stream delivered the list, the failed first read is moot.
                move || {
                    (!store.is_loaded())
                        .then(|| {
                            view! {
                                <div class="page-error" role="alert">
                                    <p>"Could not load the routes:"</p>
                                    <ul>
                                        {errors
                                            .get()
                                            .into_iter()
                                            .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                                            .collect_view()}
                                    </ul>
                                    <p>"The page fills in by itself once the server answers."</p>
                                </div>
                            }
                        })
                }
            }>
                {move || Suspend::new(async move { first_read.await.map(|routes| store.seed(routes)) })}
            </ErrorBoundary>
        </Transition>
        <div class="routes-page-cards">
            <For each=weighted key=|entry| entry.key.clone() let(entry)>
                <VirtualServiceCard routes=entry.routes kind=entry.key.kind />
            </For>
        </div>
        {move || {
            (store.is_loaded() && weighted().is_empty())
                .then(|| view! { <p class="page-note">"No VirtualService or HTTPRoute in scope has a route with two or more destinations."</p> })
        }}
        {move || {
            let others = without_weighted();
            (!others.is_empty())
                .then(|| {
                    view! {
                        <p class="page-note routes-page-unweighted">
                            {format!("Without a weighted route (not shown): {}", others.join(", "))}
                        </p>
                    }
                })
        }}
    }
}
