//! A person's unsaved weights for one route, and the sentences the page says about it. Pure
//! data and functions (no signals) so the rules — when Apply is possible, when the server moved
//! underneath a draft, what the request carries — are unit-tested natively.

use switchyard_protocol::{
    weights::{validate_for_route, WeightError},
    ExpectedDestination, HttpRoute, SetWeightsRequest, SetWeightsResponse,
};

/// Unsaved weights for one route, remembered together with the route as the page showed it when
/// editing began: that is what the server must still hold for the change to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteDraft {
    /// The destinations as shown when the draft began; sent as `expected`.
    pub base: Vec<ExpectedDestination>,
    /// The new weight per destination, in the route's destination order.
    pub weights: Vec<u32>,
}

/// The weights of a route, in destination order.
pub fn weights_of(route: &HttpRoute) -> Vec<u32> {
    route.destinations.iter().map(|d| d.weight).collect()
}

/// The destinations of a route as the guard the server checks before writing.
pub fn expected_of(route: &HttpRoute) -> Vec<ExpectedDestination> {
    route
        .destinations
        .iter()
        .map(ExpectedDestination::from)
        .collect()
}

impl RouteDraft {
    /// The draft after an edit to `weights`, starting from `existing` (or from `server` when
    /// there is no draft yet). Editing back to exactly what the server holds drops the draft, so
    /// the route follows live updates again.
    pub fn edit(
        existing: Option<RouteDraft>,
        server: &HttpRoute,
        weights: Vec<u32>,
    ) -> Option<RouteDraft> {
        let base = match existing {
            Some(draft) => draft.base,
            None => expected_of(server),
        };
        if weights == weights_of(server) && base == expected_of(server) {
            return None;
        }
        Some(RouteDraft { base, weights })
    }

    /// Whether applying would change anything on the server as it is now.
    pub fn differs_from(&self, server: &HttpRoute) -> bool {
        self.weights != weights_of(server)
    }

    /// Whether the route changed on the server since the draft began; the page then keeps the
    /// draft but says so, rather than silently overwriting either side.
    pub fn changed_on_server(&self, server: &HttpRoute) -> bool {
        self.base != expected_of(server)
    }

    /// The request that applies this draft; the guard is the route as it was when editing began,
    /// so a change someone else made meanwhile makes the server answer 409 instead of losing it.
    /// Checked against the weight policy the server applies, so a draft the server would refuse
    /// is never sent and says why in the server's words.
    pub fn request(&self, server: &HttpRoute) -> Result<SetWeightsRequest, WeightError> {
        let weights = server
            .destinations
            .iter()
            .zip(&self.weights)
            .map(|(d, &w)| (d.key().to_owned(), w))
            .collect();
        let keys: Vec<&str> = server.destinations.iter().map(|d| d.key()).collect();
        validate_for_route(&keys, &weights)?;
        Ok(SetWeightsRequest {
            weights,
            expected: self.base.clone(),
        })
    }
}

/// "old 80 / new 20": each destination's key and weight, in route order.
pub fn summary(route: &HttpRoute, weights: &[u32]) -> String {
    route
        .destinations
        .iter()
        .zip(weights)
        .map(|(d, w)| format!("{} {w}", d.key()))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The route's current weights in words, e.g. "old 50 / new 50".
pub fn server_summary(route: &HttpRoute) -> String {
    summary(route, &weights_of(route))
}

/// A share in percent for display: whole numbers without decimals, others with one.
pub fn format_share(share: f64) -> String {
    // Integer tenths rather than `{:.1}`: float formatting would add ~15 KB of wasm for this.
    let tenths = (share * 10.0).round() as i64;
    let (sign, tenths) = if tenths < 0 {
        ("-", -tenths)
    } else {
        ("", tenths)
    };
    match tenths % 10 {
        0 => format!("{sign}{}%", tenths / 10),
        fraction => format!("{sign}{}.{fraction}%", tenths / 10),
    }
}

/// What the page says after a successful write, e.g. "review: applied old 80 / new 20".
pub fn applied_sentence(name: &str, index: usize, response: &SetWeightsResponse) -> String {
    let route = response
        .virtual_service
        .routes
        .iter()
        .find(|r| r.index == index);
    match (route, response.changed) {
        (Some(route), true) => format!("{name}: applied {}", server_summary(route)),
        (Some(route), false) => format!(
            "{name}: already {}, nothing to change",
            server_summary(route)
        ),
        // The write succeeded but the route is gone from the answer (it moved or was removed).
        (None, _) => format!("{name}: applied; route {index} is no longer in the answer"),
    }
}

/// How a read-only route reads, e.g. "header x-group = test → new (100%)".
pub fn read_only_sentence(route: &HttpRoute) -> String {
    let destinations = route
        .destinations
        .iter()
        .map(|d| format!("{} ({})", d.key(), format_share(d.requested_share)))
        .collect::<Vec<_>>()
        .join(", ");
    if destinations.is_empty() {
        format!("{} → no destination", route.match_summary)
    } else {
        format!("{} → {destinations}", route.match_summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Destination, VirtualServiceRoutes};

    fn route(weights: &[(&str, u32)]) -> HttpRoute {
        let shares = switchyard_protocol::requested_shares(
            &weights.iter().map(|&(_, w)| w).collect::<Vec<_>>(),
        );
        HttpRoute {
            index: 1,
            name: None,
            match_summary: "all requests".into(),
            destinations: weights
                .iter()
                .zip(shares)
                .map(|(&(subset, weight), share)| Destination {
                    host: "review".into(),
                    subset: Some(subset.into()),
                    weight,
                    requested_share: share,
                    observed_share: None,
                })
                .collect(),
        }
    }

    #[test]
    fn editing_starts_from_the_route_as_shown() {
        let server = route(&[("old", 100), ("new", 0)]);
        let draft = RouteDraft::edit(None, &server, vec![80, 20]).expect("a draft");
        assert_eq!(draft.base, expected_of(&server));
        assert!(draft.differs_from(&server));
        assert!(!draft.changed_on_server(&server));
        let request = draft.request(&server).expect("within the policy");
        assert_eq!(request.weights.get("old"), Some(&80));
        assert_eq!(request.weights.get("new"), Some(&20));
        assert_eq!(request.expected[0].weight, 100);
    }

    #[test]
    fn a_draft_the_server_would_refuse_is_not_sent() {
        let server = route(&[("old", 100), ("new", 0)]);
        let short = RouteDraft::edit(None, &server, vec![70, 20]).expect("a draft");
        assert_eq!(
            short.request(&server).unwrap_err().to_string(),
            "weights must add up to 100, these add up to 90"
        );
        // The route gained a destination while the draft was open: it has no weight for it.
        let draft = RouteDraft::edit(None, &server, vec![80, 20]).expect("a draft");
        let now = route(&[("old", 100), ("new", 0), ("canary", 0)]);
        assert_eq!(
            draft.request(&now),
            Err(WeightError::Missing {
                key: "canary".into()
            })
        );
    }

    #[test]
    fn editing_back_to_the_server_drops_the_draft() {
        let server = route(&[("old", 100), ("new", 0)]);
        let draft = RouteDraft::edit(None, &server, vec![80, 20]);
        assert_eq!(RouteDraft::edit(draft, &server, vec![100, 0]), None);
    }

    #[test]
    fn a_server_change_keeps_the_draft_and_its_guard() {
        let shown = route(&[("old", 100), ("new", 0)]);
        let draft = RouteDraft::edit(None, &shown, vec![80, 20]).expect("a draft");
        let now = route(&[("old", 50), ("new", 50)]);
        assert!(draft.changed_on_server(&now));
        assert!(draft.differs_from(&now));
        // The guard still names what the person saw, so the server refuses to overwrite 50/50.
        assert_eq!(
            draft.request(&now).expect("within the policy").expected,
            expected_of(&shown)
        );
        // Editing on keeps the original base, and matching the new server state keeps the draft
        // (it is still based on an outdated view) but makes Apply pointless.
        let same = RouteDraft::edit(Some(draft), &now, vec![50, 50]).expect("kept");
        assert!(!same.differs_from(&now));
        assert!(same.changed_on_server(&now));
    }

    #[test]
    fn sentences_read_naturally() {
        let server = route(&[("old", 80), ("new", 20)]);
        assert_eq!(server_summary(&server), "old 80 / new 20");
        let response = SetWeightsResponse {
            changed: true,
            virtual_service: VirtualServiceRoutes {
                namespace: "hands-on".into(),
                name: "review".into(),
                resource_version: "7".into(),
                hosts: vec!["review".into()],
                weight_managers: Vec::new(),
                routes: vec![server.clone()],
            },
        };
        assert_eq!(
            applied_sentence("review", 1, &response),
            "review: applied old 80 / new 20"
        );
        let unchanged = SetWeightsResponse {
            changed: false,
            ..response.clone()
        };
        assert_eq!(
            applied_sentence("review", 1, &unchanged),
            "review: already old 80 / new 20, nothing to change"
        );
        assert_eq!(
            applied_sentence("review", 3, &response),
            "review: applied; route 3 is no longer in the answer"
        );
        let mut header = route(&[("new", 0)]);
        header.match_summary = "header x-group = test".into();
        assert_eq!(
            read_only_sentence(&header),
            "header x-group = test → new (100%)"
        );
    }

    #[test]
    fn shares_are_formatted_briefly() {
        let cases = [
            (80.0, "80%"),
            (0.0, "0%"),
            (33.333, "33.3%"),
            (99.96, "100%"),
            (12.25, "12.3%"),
            (0.04, "0%"),
            (-2.5, "-2.5%"),
        ];
        for (share, text) in cases {
            assert_eq!(format_share(share), text, "{share}");
        }
    }
}
