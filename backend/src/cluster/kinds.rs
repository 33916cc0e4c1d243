//! Where the two kinds of route object differ, for the code that handles both (pure): where their
//! routes are (`spec.http` of a VirtualService, `spec.rules` of an HTTPRoute), what a route's
//! destinations are called (`route[]`, `backendRefs[]`) and how each reads, and how an object
//! becomes the route-list shape. No I/O.

use serde_json::Value;
use switchyard_protocol::{ExpectedDestination, HttpRouteRoutes, RouteKind, VirtualServiceRoutes};

use super::view;
use crate::gateway::http_route;

/// JSON pointer of the list of routes (rules).
pub fn routes_pointer(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::VirtualService => "/spec/http",
        RouteKind::HTTPRoute => http_route::RULES,
    }
}

/// The field of one route (rule) that lists its weighted destinations.
pub fn destinations_field(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::VirtualService => "route",
        RouteKind::HTTPRoute => http_route::BACKENDS,
    }
}

/// The object's name in messages and errors: `virtualservice`, `httproute`.
pub fn noun(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::VirtualService => "virtualservice",
        RouteKind::HTTPRoute => "httproute",
    }
}

/// One route's name in messages: `http route`, `rule`.
pub fn route_noun(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::VirtualService => "http route",
        RouteKind::HTTPRoute => "rule",
    }
}

/// An HTTPRoute in the route-list shape, with the controllers that own its rules.
pub fn http_route_routes(object: &Value) -> HttpRouteRoutes {
    let mut routes = http_route::http_route_routes(object);
    routes.weight_managers = view::managers_owning(object, "/fieldsV1/f:spec/f:rules");
    routes
}

/// Either kind as a [`VirtualServiceRoutes`] (an HTTPRoute's destinations keyed by Service).
pub fn routes_view(kind: RouteKind, object: &Value) -> VirtualServiceRoutes {
    match kind {
        RouteKind::VirtualService => view::virtual_service_routes(object),
        RouteKind::HTTPRoute => http_route_routes(object).view(),
    }
}

/// A destination entry (`route[j]`, `backendRefs[j]`) as a client would have seen it.
pub fn expected_of(kind: RouteKind, entry: &Value, home: &str) -> ExpectedDestination {
    match kind {
        RouteKind::VirtualService => ExpectedDestination {
            host: entry
                .pointer("/destination/host")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            subset: entry
                .pointer("/destination/subset")
                .and_then(Value::as_str)
                .map(str::to_owned),
            weight: view::weight_of(entry),
        },
        RouteKind::HTTPRoute => ExpectedDestination {
            host: http_route::backend_host(entry, home),
            subset: None,
            weight: http_route::weight_of(entry),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_http_routes_backends_read_as_destinations() {
        let rule = json!({"backendRefs": [{"name": "review-v1", "port": 80}, {"name": "review-v2", "weight": 3}]});
        let entries = rule[destinations_field(RouteKind::HTTPRoute)]
            .as_array()
            .unwrap();
        let seen: Vec<ExpectedDestination> = entries
            .iter()
            .map(|e| expected_of(RouteKind::HTTPRoute, e, "ns"))
            .collect();
        assert_eq!(
            seen,
            [
                ExpectedDestination {
                    host: "review-v1".into(),
                    subset: None,
                    weight: 1
                },
                ExpectedDestination {
                    host: "review-v2".into(),
                    subset: None,
                    weight: 3
                },
            ]
        );
        assert_eq!(routes_pointer(RouteKind::HTTPRoute), "/spec/rules");
        assert_eq!(routes_pointer(RouteKind::VirtualService), "/spec/http");
    }

    #[test]
    fn controllers_owning_rules_are_weight_managers() {
        let object = json!({
            "metadata": {"name": "review", "namespace": "ns", "managedFields": [
                {"manager": "flagger", "fieldsV1": {"f:spec": {"f:rules": {}}}},
                {"manager": "argo-rollouts", "fieldsV1": {"f:spec": {"f:http": {}}}}
            ]},
            "spec": {"rules": []}
        });
        assert_eq!(http_route_routes(&object).weight_managers, ["flagger"]);
        assert_eq!(
            routes_view(RouteKind::VirtualService, &object).weight_managers,
            ["argo-rollouts"]
        );
    }
}
