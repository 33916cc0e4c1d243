//! The wire shape of a Gateway API HTTPRoute in `GET /api/v1/routes` (`http_routes`), its event
//! and its weight change: the shape of a `virtual_services` entry, each rule an entry of
//! `routes` and each `backendRef` a destination whose `host` is the Service it names, with its
//! `port`. [`HttpRouteRoutes::view`] gives the same data as a [`VirtualServiceRoutes`] (without
//! the ports), so everything that works on routes (the shift rule, the weight cards, the graph)
//! works on both kinds.

use serde::{Deserialize, Serialize};

use crate::{Destination, HttpRoute, VirtualServiceRoutes};

/// One HTTPRoute and its rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpRouteRoutes {
    pub namespace: String,
    pub name: String,
    pub resource_version: String,
    /// The Services the route is attached to in the mesh (GAMMA `parentRefs` of kind Service),
    /// by name; a parentRef in another namespace as `namespace/name`.
    pub hosts: Vec<String>,
    /// `spec.rules`, in order.
    pub routes: Vec<RouteRule>,
    /// Other controllers that manage this HTTPRoute's rules (`metadata.managedFields` managers
    /// such as `flagger` or `argocd-controller` owning `spec.rules`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_managers: Vec<String>,
}

/// One entry of `spec.rules`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteRule {
    /// Position in `spec.rules`.
    pub index: usize,
    /// The rule's `name`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Readable summary of the rule's `matches`, e.g. `header x-group = test`, or `all requests`.
    pub match_summary: String,
    /// The rule's `backendRefs`.
    pub destinations: Vec<BackendDestination>,
}

/// One `backendRef` of a rule.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackendDestination {
    /// The Service the backendRef names (the weight API's key for it); `namespace/name` when it
    /// names another namespace.
    pub host: String,
    /// The backendRef's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// The weight as the route has it; a backendRef without one counts as 1 (Gateway API).
    pub weight: u32,
    /// Percent of the rule's traffic this weight asks for: weight / sum of the rule's weights.
    pub requested_share: f64,
    /// Percent of the rule's traffic observed over the metrics window; `None` with no traffic.
    #[serde(default)]
    pub observed_share: Option<f64>,
}

impl HttpRouteRoutes {
    /// The same routes as a [`VirtualServiceRoutes`]: destinations keyed by their Service (no
    /// subset), ports left out.
    pub fn view(&self) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            resource_version: self.resource_version.clone(),
            hosts: self.hosts.clone(),
            weight_managers: self.weight_managers.clone(),
            routes: self
                .routes
                .iter()
                .map(|rule| HttpRoute {
                    index: rule.index,
                    name: rule.name.clone(),
                    match_summary: rule.match_summary.clone(),
                    destinations: rule
                        .destinations
                        .iter()
                        .map(|d| Destination {
                            host: d.host.clone(),
                            subset: None,
                            weight: d.weight,
                            requested_share: d.requested_share,
                            observed_share: d.observed_share,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Rules with two or more backendRefs: the ones whose split a person can change.
    pub fn weighted_routes(&self) -> impl Iterator<Item = &RouteRule> {
        self.routes.iter().filter(|r| r.destinations.len() >= 2)
    }

    /// Sets every destination's observed share with `observed(rule index, Service)`.
    pub fn set_observed(&mut self, observed: impl Fn(usize, &str) -> Option<f64>) {
        for rule in &mut self.routes {
            for d in &mut rule.destinations {
                d.observed_share = observed(rule.index, &d.host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn review() -> HttpRouteRoutes {
        let backend = |host: &str, weight: u32, share: f64| BackendDestination {
            host: host.into(),
            port: Some(80),
            weight,
            requested_share: share,
            observed_share: None,
        };
        HttpRouteRoutes {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
            resource_version: "12".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: vec![
                RouteRule {
                    index: 0,
                    name: None,
                    match_summary: "header x-group = test".into(),
                    destinations: vec![backend("review-v2", 1, 100.0)],
                },
                RouteRule {
                    index: 1,
                    name: None,
                    match_summary: "all requests".into(),
                    destinations: vec![
                        backend("review-v1", 1, 25.0),
                        backend("review-v2", 3, 75.0),
                    ],
                },
            ],
        }
    }

    #[test]
    fn json_is_a_virtual_service_entry_with_ports() {
        let json = serde_json::to_string(&review()).unwrap();
        assert_eq!(
            json,
            r#"{"namespace":"hands-on-gateway","name":"review","resource_version":"12","hosts":["review"],"routes":[{"index":0,"match_summary":"header x-group = test","destinations":[{"host":"review-v2","port":80,"weight":1,"requested_share":100.0,"observed_share":null}]},{"index":1,"match_summary":"all requests","destinations":[{"host":"review-v1","port":80,"weight":1,"requested_share":25.0,"observed_share":null},{"host":"review-v2","port":80,"weight":3,"requested_share":75.0,"observed_share":null}]}]}"#
        );
        assert_eq!(
            serde_json::from_str::<HttpRouteRoutes>(&json).unwrap(),
            review()
        );
        // Without the ports it is exactly the JSON of the view, a VirtualService entry.
        let view = serde_json::to_string(&review().view()).unwrap();
        assert_eq!(view, json.replace(r#""port":80,"#, ""));
    }

    #[test]
    fn the_view_keys_destinations_by_service() {
        let view = review().view();
        assert_eq!(view.weighted_routes().count(), 1);
        let keys: Vec<&str> = view.routes[1]
            .destinations
            .iter()
            .map(Destination::key)
            .collect();
        assert_eq!(keys, ["review-v1", "review-v2"]);
        let mut routes = review();
        routes.set_observed(|index, host| (index == 1 && host == "review-v2").then_some(74.0));
        assert_eq!(routes.routes[1].destinations[1].observed_share, Some(74.0));
        assert_eq!(routes.routes[1].destinations[0].observed_share, None);
    }
}
