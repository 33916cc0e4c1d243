//! Which kind of route object a bulk target, a history record or a split is about: an Istio
//! VirtualService (`networking.istio.io`) or a Gateway API HTTPRoute
//! (`gateway.networking.k8s.io/v1`). On the wire exactly `"VirtualService"` or `"HTTPRoute"`
//! (the objects' own `kind`); absent means `VirtualService`, so every body and record written
//! before HTTPRoutes were known still reads the same.

use serde::{Deserialize, Serialize};

/// The kind of a route object the console changes weights in.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RouteKind {
    /// `networking.istio.io` VirtualService: weights per `spec.http[].route[]` destination.
    #[default]
    VirtualService,
    /// `gateway.networking.k8s.io/v1` HTTPRoute: weights per `spec.rules[].backendRefs[]`.
    HTTPRoute,
}

impl RouteKind {
    /// Both kinds, VirtualService first.
    pub const ALL: [RouteKind; 2] = [RouteKind::VirtualService, RouteKind::HTTPRoute];

    /// The object's `kind`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::VirtualService => "VirtualService",
            RouteKind::HTTPRoute => "HTTPRoute",
        }
    }

    /// True for the default kind; the wire types leave a default kind out of what they write.
    pub fn is_virtual_service(&self) -> bool {
        *self == RouteKind::VirtualService
    }
}

impl std::fmt::Display for RouteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_names_are_the_object_kinds() {
        assert_eq!(
            serde_json::to_string(&RouteKind::VirtualService).unwrap(),
            r#""VirtualService""#
        );
        assert_eq!(
            serde_json::to_string(&RouteKind::HTTPRoute).unwrap(),
            r#""HTTPRoute""#
        );
        assert_eq!(
            serde_json::from_str::<RouteKind>(r#""HTTPRoute""#).unwrap(),
            RouteKind::HTTPRoute
        );
        // Not case-folded, not the plural or the snake case.
        for wrong in [
            r#""httproute""#,
            r#""HttpRoute""#,
            r#""http_route""#,
            r#""""#,
        ] {
            assert!(serde_json::from_str::<RouteKind>(wrong).is_err(), "{wrong}");
        }
        assert_eq!(RouteKind::default(), RouteKind::VirtualService);
        assert_eq!(RouteKind::HTTPRoute.to_string(), "HTTPRoute");
    }
}
