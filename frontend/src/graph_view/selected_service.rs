//! The weight controls of the service selected on the graph, beside it: the same VirtualService
//! card as in the list below (same component, same store entry, so both show the same weights).

use super::{test_ids, use_graph_data};
use crate::{
    state::{routes::use_routes, view_url::use_view},
    weight_controls::virtual_service_card::VirtualServiceCard,
};
use leptos::prelude::*;

/// `svc:{ns}:{name}` → (ns, name).
pub fn service_of(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("svc:")?;
    rest.split_once(':')
}

#[component]
pub fn SelectedService() -> impl IntoView {
    let data = use_graph_data();
    let routes = use_routes();
    let view = use_view();
    let selected = Memo::new(move |_| view.0.with(|v| v.select.clone()));
    // The route object of the selected service: the one its split names (a VirtualService or
    // an HTTPRoute), else the one named after the service.
    let key = Memo::new(move |_| {
        let id = selected.get()?;
        let (namespace, service) = service_of(&id)?;
        let named = data
            .splits
            .with(|s| s.get(&id).map(|s| (s.virtual_service.clone(), s.kind)));
        let (virtual_service, kind) = match named {
            Some((name, kind)) => (name, Some(kind)),
            None => (service.to_owned(), None),
        };
        routes
            .entries()
            .into_iter()
            .find(|e| {
                e.key.namespace == namespace
                    && e.key.name == virtual_service
                    && kind.is_none_or(|k| k == e.key.kind)
            })
            .map(|e| e.key)
    });
    view! {
        {move || {
            let id = selected.get()?;
            let label = service_of(&id).map(|(_, name)| name.to_owned()).unwrap_or(id.clone());
            // Rebuilt only when the VirtualService changes, not when the list does, so a draft in
            // the card survives other VirtualServices coming and going.
            let card = key.get().and_then(|key| {
                untrack(|| routes.entries()).into_iter().find(|e| e.key == key)
            }).map(|entry| {
                view! { <VirtualServiceCard routes=entry.routes kind=entry.key.kind /> }
            });
            let missing = card.is_none();
            Some(view! {
                <section class="selected-service" data-testid=test_ids::SELECTED_SERVICE aria-label=format!("weight controls of {label}")>
                    <header class="selected-service-header">
                        <h3 class="selected-service-title">{format!("Selected: {label}")}</h3>
                        <button
                            type="button"
                            class="selected-service-close"
                            data-testid=test_ids::CLOSE_SELECTED
                            on:click=move |_| view.0.update(|v| v.select = None)
                        >
                            "close"
                        </button>
                    </header>
                    {card}
                    {missing.then(|| view! { <p class="page-note">"No VirtualService or HTTPRoute routes this service."</p> })}
                </section>
            })
        }}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_ids_split_into_namespace_and_name() {
        assert_eq!(
            super::service_of("svc:hands-on:review"),
            Some(("hands-on", "review"))
        );
        assert_eq!(super::service_of("wl:hands-on:review-v1"), None);
    }
}
