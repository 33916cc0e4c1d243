//! Which kind of routing object a target names: an Istio VirtualService (the default, what every
//! request meant before Gateway API support) or a Gateway API HTTPRoute.

use serde::{Deserialize, Serialize};

/// The kind of routing object a shift or plan target names. Absent in a request means
/// `VirtualService`, so bodies written before the field existed keep their meaning.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RouteKind {
    /// `networking.istio.io/v1` VirtualService.
    #[default]
    VirtualService,
    /// `gateway.networking.k8s.io/v1` HTTPRoute.
    #[serde(rename = "HTTPRoute")]
    HTTPRoute,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_spelled_as_kubernetes_spells_them() {
        assert_eq!(
            serde_json::to_string(&RouteKind::VirtualService).unwrap(),
            r#""VirtualService""#
        );
        assert_eq!(
            serde_json::to_string(&RouteKind::HTTPRoute).unwrap(),
            r#""HTTPRoute""#
        );
        assert_eq!(RouteKind::default(), RouteKind::VirtualService);
        assert!(serde_json::from_str::<RouteKind>(r#""httproute""#).is_err());
    }
}
