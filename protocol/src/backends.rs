//! Which backendRefs of an HTTPRoute rule are the "old" and the "new" version, and the rule that
//! picks the route a bulk shift or a rollback changes in either kind of route object. An HTTPRoute
//! splits traffic between Services, one per version (`review-v1`, `review-v2`, as Istio's
//! migration guide recommends instead of DestinationRule subsets), so old and new are named by a
//! suffix: a rule's backends `{service}-{old}` and `{service}-{new}` (the same `{service}`) are its
//! old and new version. The server is started with the suffixes (`--old-backend-suffix`,
//! `--new-backend-suffix`, default `v1` and `v2`) and sends them to the page
//! (`GET /api/v1/settings`, `backends`); both sides pick routes with [`old_new`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::subsets::{is_dns_label, Which};
use crate::{HttpRoute, RouteKind, Subsets, VirtualServiceRoutes};

/// The server's default suffix of the old version's backend Service.
pub const DEFAULT_OLD_SUFFIX: &str = "v1";
/// The server's default suffix of the new version's backend Service.
pub const DEFAULT_NEW_SUFFIX: &str = "v2";

/// The suffixes of the old and the new version's backend Services: two different DNS-1123
/// labels (a Service name `{service}-{suffix}` must be one). On the wire
/// `{"old_suffix":"v1","new_suffix":"v2"}`; reading it checks the same rules as
/// [`Backends::new`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawBackends")]
pub struct Backends {
    old_suffix: String,
    new_suffix: String,
}

#[derive(Deserialize)]
struct RawBackends {
    old_suffix: String,
    new_suffix: String,
}

impl TryFrom<RawBackends> for Backends {
    type Error = BackendError;

    fn try_from(raw: RawBackends) -> Result<Self, Self::Error> {
        Backends::new(raw.old_suffix, raw.new_suffix)
    }
}

/// Why a pair of suffixes cannot name the old and new backends.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error(
        "the {which} backend suffix {suffix:?} is not a DNS-1123 label (1 to 63 lowercase \
         letters, digits and '-', starting and ending with a letter or digit), which a Service \
         name ending in it must be"
    )]
    NotALabel { which: Which, suffix: String },
    #[error("the old and the new backend suffix are both {0:?}; they must differ")]
    Same(String),
}

impl Default for Backends {
    /// `v1` and `v2`, the server's defaults.
    fn default() -> Self {
        Backends {
            old_suffix: DEFAULT_OLD_SUFFIX.to_owned(),
            new_suffix: DEFAULT_NEW_SUFFIX.to_owned(),
        }
    }
}

impl Backends {
    /// The pair, checked: both DNS-1123 labels, and different.
    pub fn new(old: impl Into<String>, new: impl Into<String>) -> Result<Backends, BackendError> {
        let (old, new) = (old.into(), new.into());
        for (which, suffix) in [(Which::Old, &old), (Which::New, &new)] {
            if !is_dns_label(suffix) {
                return Err(BackendError::NotALabel {
                    which,
                    suffix: suffix.clone(),
                });
            }
        }
        if old == new {
            return Err(BackendError::Same(old));
        }
        Ok(Backends {
            old_suffix: old,
            new_suffix: new,
        })
    }

    pub fn old_suffix(&self) -> &str {
        &self.old_suffix
    }

    pub fn new_suffix(&self) -> &str {
        &self.new_suffix
    }

    /// The (old, new) backends of a rule: exactly two destinations without subsets, Services
    /// `{service}-{old suffix}` and `{service}-{new suffix}` of the same `{service}`, in any
    /// order.
    pub fn split_keys<'a>(&self, route: &'a HttpRoute) -> Option<(&'a str, &'a str)> {
        let [a, b] = route.destinations.as_slice() else {
            return None;
        };
        if a.subset.is_some() || b.subset.is_some() {
            return None;
        }
        let service = |host: &str, suffix: &str| {
            host.strip_suffix(suffix)
                .and_then(|rest| rest.strip_suffix('-'))
                .filter(|s| !s.is_empty() && !s.ends_with('/'))
                .map(str::to_owned)
        };
        let pair = |old: &'a str, new: &'a str| {
            let old_service = service(old, &self.old_suffix)?;
            (service(new, &self.new_suffix)? == old_service).then_some((old, new))
        };
        pair(&a.host, &b.host).or_else(|| pair(&b.host, &a.host))
    }

    /// The route of `routes` (an HTTPRoute's view) a shift between old and new changes: the
    /// last rule whose backends are exactly an old/new pair (the default traffic after any
    /// matched rules).
    pub fn shift_route<'a>(&self, routes: &'a VirtualServiceRoutes) -> Option<&'a HttpRoute> {
        routes
            .routes
            .iter()
            .rev()
            .find(|r| self.split_keys(r).is_some())
    }
}

/// The route a bulk shift or rollback changes in a route object, and the weight keys of its old
/// and new destinations (subset names for a VirtualService, Service names for an HTTPRoute).
#[derive(Clone, Debug, PartialEq)]
pub struct OldNew<'a> {
    pub route: &'a HttpRoute,
    pub old: String,
    pub new: String,
}

impl OldNew<'_> {
    /// The route's (old, new) weights.
    pub fn split(&self) -> (u32, u32) {
        let weight = |key: &str| {
            self.route
                .destinations
                .iter()
                .filter(|d| d.key() == key)
                .map(|d| d.weight)
                .sum()
        };
        (weight(&self.old), weight(&self.new))
    }

    /// `weights` keyed by the subset names (a bulk shift's or rollback's) as this route's keys.
    /// `None` unless they name exactly the old and the new subset.
    pub fn translate(
        &self,
        subsets: &Subsets,
        weights: &BTreeMap<String, u32>,
    ) -> Option<BTreeMap<String, u32>> {
        if weights.len() != 2 {
            return None;
        }
        let old = *weights.get(subsets.old_name())?;
        let new = *weights.get(subsets.new_name())?;
        Some(BTreeMap::from([
            (self.old.clone(), old),
            (self.new.clone(), new),
        ]))
    }
}

/// The old/new route of a route object of `kind` (its view): for a VirtualService the last route
/// split between exactly the old and new subsets ([`Subsets::shift_route`]), for an HTTPRoute the
/// last rule split between an old/new backend pair ([`Backends::shift_route`]).
pub fn old_new<'a>(
    kind: RouteKind,
    routes: &'a VirtualServiceRoutes,
    subsets: &Subsets,
    backends: &Backends,
) -> Option<OldNew<'a>> {
    match kind {
        RouteKind::VirtualService => subsets.shift_route(routes).map(|route| OldNew {
            route,
            old: subsets.old_name().to_owned(),
            new: subsets.new_name().to_owned(),
        }),
        RouteKind::HTTPRoute => {
            let route = backends.shift_route(routes)?;
            let (old, new) = backends.split_keys(route)?;
            Some(OldNew {
                route,
                old: old.to_owned(),
                new: new.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;

    fn backend(host: &str, weight: u32) -> Destination {
        Destination {
            host: host.into(),
            subset: None,
            weight,
            requested_share: 0.0,
            observed_share: None,
        }
    }

    fn rule(index: usize, destinations: Vec<Destination>) -> HttpRoute {
        HttpRoute {
            index,
            name: None,
            match_summary: "all requests".into(),
            destinations,
        }
    }

    fn review(rules: Vec<HttpRoute>) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: "hands-on-gateway".into(),
            name: "review".into(),
            resource_version: "1".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: rules,
        }
    }

    #[test]
    fn suffixes_must_be_two_different_labels() {
        assert_eq!(Backends::default().old_suffix(), "v1");
        assert_eq!(Backends::default().new_suffix(), "v2");
        assert!(Backends::new("blue", "green").is_ok());
        assert_eq!(
            Backends::new("v1", "v1"),
            Err(BackendError::Same("v1".into()))
        );
        for bad in ["", "V2", "-v2", "v2-", "v.2"] {
            assert!(
                matches!(
                    Backends::new("v1", bad),
                    Err(BackendError::NotALabel {
                        which: Which::New,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let json = serde_json::to_string(&Backends::default()).unwrap();
        assert_eq!(json, r#"{"old_suffix":"v1","new_suffix":"v2"}"#);
        assert!(
            serde_json::from_str::<Backends>(r#"{"old_suffix":"a","new_suffix":"a"}"#).is_err()
        );
    }

    #[test]
    fn old_and_new_are_the_two_suffixed_services_of_one_service() {
        let b = Backends::default();
        let r = rule(0, vec![backend("review-v2", 20), backend("review-v1", 80)]);
        assert_eq!(b.split_keys(&r), Some(("review-v1", "review-v2")));
        // Different services, a third backend, a lone one, or no prefix: not an old/new pair.
        for wrong in [
            vec![backend("review-v1", 50), backend("product-v2", 50)],
            vec![
                backend("review-v1", 50),
                backend("review-v2", 50),
                backend("review-v3", 0),
            ],
            vec![backend("review-v1", 100)],
            vec![backend("v1", 50), backend("v2", 50)],
            vec![backend("-v1", 50), backend("-v2", 50)],
            vec![backend("review-v1", 50), backend("review-v1", 50)],
        ] {
            assert_eq!(b.split_keys(&rule(0, wrong.clone())), None, "{wrong:?}");
        }
        // Hyphens inside the service name are fine.
        let r = rule(
            0,
            vec![
                backend("product-composite-v1", 1),
                backend("product-composite-v2", 1),
            ],
        );
        assert_eq!(
            b.split_keys(&r),
            Some(("product-composite-v1", "product-composite-v2"))
        );
    }

    #[test]
    fn the_shift_route_is_the_last_old_new_rule() {
        let b = Backends::default();
        let routes = review(vec![
            rule(0, vec![backend("review-v2", 1)]),
            rule(1, vec![backend("review-v1", 1), backend("review-v2", 3)]),
            rule(2, vec![backend("other", 1), backend("review-v2", 1)]),
        ]);
        assert_eq!(b.shift_route(&routes).map(|r| r.index), Some(1));
        let subsets = Subsets::default();
        let found = old_new(RouteKind::HTTPRoute, &routes, &subsets, &b).unwrap();
        assert_eq!(
            (found.old.as_str(), found.new.as_str()),
            ("review-v1", "review-v2")
        );
        assert_eq!(found.split(), (1, 3));
        assert_eq!(
            found.translate(&subsets, &subsets.weights(80)),
            Some(BTreeMap::from([
                ("review-v1".to_owned(), 80),
                ("review-v2".to_owned(), 20)
            ]))
        );
        // Weights naming other keys do not translate.
        let three = BTreeMap::from([
            ("old".to_owned(), 50),
            ("new".to_owned(), 50),
            ("x".to_owned(), 0),
        ]);
        assert_eq!(found.translate(&subsets, &three), None);
        let other = BTreeMap::from([("old".to_owned(), 50), ("x".to_owned(), 50)]);
        assert_eq!(found.translate(&subsets, &other), None);
        // The same view read as a VirtualService has no old/new subsets.
        assert_eq!(
            old_new(RouteKind::VirtualService, &routes, &subsets, &b),
            None
        );
    }
}
