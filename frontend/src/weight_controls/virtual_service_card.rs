//! The card of one route object — a VirtualService, or an HTTPRoute (its rules, with its
//! backend Services as destinations, and a badge saying it is one): its identity, hosts (an
//! HTTPRoute's: the Services it attaches to) and resourceVersion, then its routes in order —
//! weighted ones as editable panels, single-destination ones in words. When the cluster says the
//! person may not patch it, the card says why (the panels are disabled).

use super::{ownership, read_only_route::ReadOnlyRoute, test_ids, weight_panel::WeightPanel};
use crate::{
    rollout::test_ids::readonly_reason,
    state::{access::use_access, routes::VsKey},
};
use leptos::{either::Either, prelude::*};
use switchyard_protocol::{HttpRoute, RouteKind, VirtualServiceRoutes};

/// What makes a route's panel: if any of it changes the panel is rebuilt (its draft would no
/// longer fit); anything else, weights included, updates the panel in place.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RouteShape {
    index: usize,
    destination_keys: Vec<String>,
}

impl RouteShape {
    fn of(route: &HttpRoute) -> Self {
        RouteShape {
            index: route.index,
            destination_keys: route
                .destinations
                .iter()
                .map(|d| d.key().to_owned())
                .collect(),
        }
    }

    fn is_weighted(&self) -> bool {
        self.destination_keys.len() >= 2
    }
}

#[component]
pub fn VirtualServiceCard(
    routes: ArcRwSignal<VirtualServiceRoutes>,
    /// What the routes are of; a VirtualService unless said.
    #[prop(optional)]
    kind: RouteKind,
) -> impl IntoView {
    // Arena-owned from here on, so the card's closures are Copy and it is freed with the card.
    let vs = RwSignal::from(routes);
    let (namespace, name) = vs.with_untracked(|v| (v.namespace.clone(), v.name.clone()));
    // The `{name}` of the ids inside the card: an HTTPRoute's differ from a VirtualService's.
    let id_name = test_ids::name_for(kind, &name);
    let heading_id = test_ids::element_id(&[
        match kind {
            RouteKind::VirtualService => "vs",
            RouteKind::HTTPRoute => "httproute",
        },
        &namespace,
        &name,
    ]);
    let read_only_reason = {
        let access = use_access();
        let key = VsKey {
            namespace: namespace.clone(),
            name: name.clone(),
            kind,
        };
        Memo::new(move |_| access.and_then(|a| a.permission(&key).reason().map(str::to_owned)))
    };
    let reason_test_id = readonly_reason(&id_name);
    let managers = Memo::new(move |_| vs.with(|v| v.weight_managers.clone()));
    let ownership_test_id = test_ids::ownership_warning(&id_name);
    let labelled_by = heading_id.clone();
    let shapes = move || vs.with(|v| v.routes.iter().map(RouteShape::of).collect::<Vec<_>>());
    let route_view = {
        let (namespace, name, id_name) = (namespace.clone(), name.clone(), id_name.clone());
        move |shape: RouteShape| {
            let index = shape.index;
            let initial =
                vs.with_untracked(|v| v.routes.iter().find(|r| r.index == index).cloned());
            let route = Memo::new(move |previous: Option<&HttpRoute>| {
                vs.with(|v| v.routes.iter().find(|r| r.index == index).cloned())
                    // Briefly absent while the list re-keys; keep showing what was there.
                    .or_else(|| previous.cloned())
                    .or_else(|| initial.clone())
                    .unwrap_or_else(|| HttpRoute {
                        index,
                        name: None,
                        match_summary: String::new(),
                        destinations: Vec::new(),
                    })
            });
            if shape.is_weighted() {
                Either::Left(view! {
                    <WeightPanel namespace=namespace.clone() name=name.clone() kind route managers />
                })
            } else {
                Either::Right(view! { <ReadOnlyRoute name=id_name.clone() route /> })
            }
        }
    };

    let card_test_id = match kind {
        RouteKind::VirtualService => test_ids::virtual_service(&namespace, &name),
        RouteKind::HTTPRoute => test_ids::http_route(&namespace, &name),
    };
    let hosts_label = match kind {
        RouteKind::VirtualService => "hosts",
        RouteKind::HTTPRoute => "attached to",
    };
    view! {
        <article
            class="virtual-service-card"
            class:is-http-route=kind == RouteKind::HTTPRoute
            data-testid=card_test_id
            aria-labelledby=labelled_by
        >
            <header class="virtual-service-card-header">
                <h2 class="virtual-service-card-title" id=heading_id>
                    <span class="virtual-service-card-namespace">{namespace.clone()}</span>
                    <span class="virtual-service-card-separator" aria-hidden="true">" / "</span>
                    <span class="virtual-service-card-name">{name.clone()}</span>
                    " "
                    <span class="virtual-service-card-kind" data-testid=test_ids::kind_badge(&id_name)>
                        {kind.as_str()}
                    </span>
                </h2>
                <p class="virtual-service-card-meta">
                    <span class="virtual-service-card-hosts">
                        {move || vs.with(|v| format!("{hosts_label}: {}", v.hosts.join(", ")))}
                    </span>
                    <span class="virtual-service-card-version">
                        {move || vs.with(|v| format!("resourceVersion {}", v.resource_version))}
                    </span>
                </p>
                {move || {
                    read_only_reason
                        .get()
                        .map(|reason| {
                            view! {
                                <p class="readonly-reason" data-testid=reason_test_id.clone()>
                                    {format!("read-only: {reason}")}
                                </p>
                            }
                        })
                }}
                {move || {
                    managers
                        .with(|m| ownership::warning(m))
                        .map(|text| {
                            view! {
                                <p class="ownership-warning" role="note" data-testid=ownership_test_id.clone()>
                                    {text}
                                </p>
                            }
                        })
                }}
            </header>
            <ol class="virtual-service-card-routes">
                <For each=shapes key=|shape| shape.clone() children=route_view />
            </ol>
        </article>
    }
}
