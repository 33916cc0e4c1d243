//! Which subsets are "old" and "new", and the rule that picks the route a bulk shift or a
//! rollback changes. The server is started with the names (`--old-subset`, `--new-subset`) and
//! sends them to the page (`GET /api/v1/settings`); both sides pick routes with
//! [`shift_route`], so the page previews exactly the routes the server will change.

use crate::{HttpRoute, VirtualServiceRoutes};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The server's default subset name of the old version.
pub const DEFAULT_OLD: &str = "old";
/// The server's default subset name of the new version.
pub const DEFAULT_NEW: &str = "new";

/// The longest DNS-1123 label, and so the longest subset name Istio accepts.
const MAX_NAME_LEN: usize = 63;

/// The subset names of the old and the new version of every service: two different DNS-1123
/// labels, as Istio requires of subset names. On the wire `{"old":"old","new":"new"}`; reading
/// it checks the same rules as [`Subsets::new`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawSubsets")]
pub struct Subsets {
    old: String,
    new: String,
}

#[derive(Deserialize)]
struct RawSubsets {
    old: String,
    new: String,
}

impl TryFrom<RawSubsets> for Subsets {
    type Error = SubsetError;

    fn try_from(raw: RawSubsets) -> Result<Self, Self::Error> {
        Subsets::new(raw.old, raw.new)
    }
}

/// Which of the two names is meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Old,
    New,
}

impl Which {
    fn word(self) -> &'static str {
        match self {
            Which::Old => "old",
            Which::New => "new",
        }
    }
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// Why a pair of names cannot be the old and new subsets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubsetError {
    #[error("the {0} subset name is empty")]
    Empty(Which),
    #[error(
        "the {which} subset name {name:?} is not a DNS-1123 label (at most 63 lowercase letters, \
         digits and '-', starting and ending with a letter or digit), which Istio requires of \
         subset names"
    )]
    NotALabel { which: Which, name: String },
    #[error("the old and the new subset are both called {0:?}; they must differ")]
    Same(String),
}

/// Whether `name` is a DNS-1123 label: 1 to 63 of `a-z`, `0-9`, `-`, not starting or ending
/// with `-`.
pub(crate) fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    bytes.len() <= MAX_NAME_LEN
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

impl Subsets {
    /// The pair, checked: both DNS-1123 labels, and different.
    pub fn new(old: impl Into<String>, new: impl Into<String>) -> Result<Subsets, SubsetError> {
        let (old, new) = (old.into(), new.into());
        for (which, name) in [(Which::Old, &old), (Which::New, &new)] {
            if name.is_empty() {
                return Err(SubsetError::Empty(which));
            }
            if !is_dns_label(name) {
                return Err(SubsetError::NotALabel {
                    which,
                    name: name.clone(),
                });
            }
        }
        if old == new {
            return Err(SubsetError::Same(old));
        }
        Ok(Subsets { old, new })
    }

    /// The subset name of the old version (what a rollback sends everything to).
    pub fn old_name(&self) -> &str {
        &self.old
    }

    /// The subset name of the new version.
    pub fn new_name(&self) -> &str {
        &self.new
    }

    /// Both names, old first.
    pub fn keys(&self) -> [&str; 2] {
        [&self.old, &self.new]
    }

    /// The route of `vs` a shift between these two subsets changes (see [`shift_route`]).
    pub fn shift_route<'a>(&self, vs: &'a VirtualServiceRoutes) -> Option<&'a HttpRoute> {
        shift_route(vs, &self.keys())
    }

    /// A route's (old, new) weights: the weights of the destinations with each name (0 when
    /// absent, as Istio reads a missing weight).
    pub fn split_of(&self, route: &HttpRoute) -> (u32, u32) {
        let weight = |key: &str| {
            route
                .destinations
                .iter()
                .filter(|d| d.key() == key)
                .map(|d| d.weight)
                .sum()
        };
        (weight(&self.old), weight(&self.new))
    }

    /// The weights of a shift to `old` percent old (clamped to 100), the rest new.
    pub fn weights(&self, old: u32) -> BTreeMap<String, u32> {
        let old = old.min(crate::weights::TOTAL);
        BTreeMap::from([
            (self.old.clone(), old),
            (self.new.clone(), crate::weights::TOTAL - old),
        ])
    }

    /// A rollback's weights: everything to old.
    pub fn rollback_weights(&self) -> BTreeMap<String, u32> {
        self.weights(crate::weights::TOTAL)
    }

    /// Where a destination key sorts when weights are listed: old first, new second, then the
    /// others (by name, as the caller breaks ties).
    pub fn rank(&self, key: &str) -> u8 {
        if key == self.old {
            0
        } else if key == self.new {
            1
        } else {
            2
        }
    }
}

impl Default for Subsets {
    /// `old` and `new`, the server's defaults.
    fn default() -> Self {
        Subsets {
            old: DEFAULT_OLD.to_owned(),
            new: DEFAULT_NEW.to_owned(),
        }
    }
}

/// The route a bulk shift or rollback changes: the last route whose destinations are exactly
/// the subsets in `keys`, each once (the default traffic: header- or URI-matched routes come
/// before it, and Istio takes the first match). `None` with fewer than two keys: a lone
/// destination always takes all of its route's traffic.
pub fn shift_route<'a>(vs: &'a VirtualServiceRoutes, keys: &[&str]) -> Option<&'a HttpRoute> {
    let mut wanted: Vec<&str> = keys.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.len() < 2 {
        return None;
    }
    vs.routes.iter().rev().find(|route| {
        let mut route_keys: Vec<&str> = route.destinations.iter().map(|d| d.key()).collect();
        route_keys.sort_unstable();
        route_keys == wanted
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Destination;

    fn dest(subset: Option<&str>, weight: u32) -> Destination {
        Destination {
            host: "review".into(),
            subset: subset.map(str::to_owned),
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        }
    }

    fn route(index: usize, destinations: Vec<Destination>) -> HttpRoute {
        HttpRoute {
            index,
            name: None,
            match_summary: "all requests".into(),
            destinations,
        }
    }

    /// The demo's shape: route 0 pins testers to `new`, route 1 splits between the two.
    fn vs(old: &str, new: &str) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: "review".into(),
            resource_version: "7".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: vec![
                route(0, vec![dest(Some(new), 100)]),
                route(1, vec![dest(Some(old), 80), dest(Some(new), 20)]),
            ],
        }
    }

    #[test]
    fn names_must_be_two_different_dns_labels() {
        let blue_green = Subsets::new("blue", "green").unwrap();
        assert_eq!(
            (blue_green.old_name(), blue_green.new_name()),
            ("blue", "green")
        );
        assert_eq!(Subsets::default().keys(), ["old", "new"]);
        assert!(Subsets::new("v1", "v-2").is_ok());
        assert!(Subsets::new("a".repeat(63), "b").is_ok());
        assert_eq!(Subsets::new("", "new"), Err(SubsetError::Empty(Which::Old)));
        assert_eq!(
            Subsets::new("blue", "blue"),
            Err(SubsetError::Same("blue".into()))
        );
        for bad in ["Blue", "-blue", "blue-", "bl_ue", "blue.green", "b lue"] {
            assert_eq!(
                Subsets::new("old", bad),
                Err(SubsetError::NotALabel {
                    which: Which::New,
                    name: bad.into()
                }),
                "{bad:?}"
            );
        }
        assert!(Subsets::new("a".repeat(64), "b").is_err());
        assert_eq!(
            SubsetError::Same("blue".into()).to_string(),
            "the old and the new subset are both called \"blue\"; they must differ"
        );
        assert!(Subsets::new("Blue", "green")
            .unwrap_err()
            .to_string()
            .starts_with("the old subset name \"Blue\" is not a DNS-1123 label"));
    }

    #[test]
    fn the_wire_form_is_checked_when_read() {
        let json = serde_json::to_string(&Subsets::new("blue", "green").unwrap()).unwrap();
        assert_eq!(json, r#"{"old":"blue","new":"green"}"#);
        assert_eq!(
            serde_json::from_str::<Subsets>(&json).unwrap(),
            Subsets::new("blue", "green").unwrap()
        );
        let same = serde_json::from_str::<Subsets>(r#"{"old":"x","new":"x"}"#).unwrap_err();
        assert!(same.to_string().contains("must differ"), "{same}");
    }

    #[test]
    fn the_shift_route_is_the_last_with_exactly_those_subsets() {
        let subsets = Subsets::new("blue", "green").unwrap();
        assert_eq!(
            subsets.shift_route(&vs("blue", "green")).map(|r| r.index),
            Some(1)
        );
        // Other names: no route qualifies.
        assert_eq!(Subsets::default().shift_route(&vs("blue", "green")), None);

        let mut three_way = vs("blue", "green");
        three_way.routes[1]
            .destinations
            .push(dest(Some("canary"), 0));
        assert_eq!(subsets.shift_route(&three_way), None);
        // …unless all three are asked for, in any order.
        assert_eq!(
            shift_route(&three_way, &["green", "canary", "blue"]).map(|r| r.index),
            Some(1)
        );

        let mut two_splits = vs("blue", "green");
        two_splits.routes.push(route(
            2,
            vec![dest(Some("green"), 50), dest(Some("blue"), 50)],
        ));
        assert_eq!(subsets.shift_route(&two_splits).map(|r| r.index), Some(2));

        let mut twice = vs("blue", "green");
        twice.routes[1].destinations.push(dest(Some("blue"), 0));
        assert_eq!(subsets.shift_route(&twice), None);

        // Destinations without a subset are keyed by host, which is not a subset name.
        let hosts_only = VirtualServiceRoutes {
            routes: vec![route(0, vec![dest(None, 50), dest(None, 50)])],
            ..vs("blue", "green")
        };
        assert_eq!(subsets.shift_route(&hosts_only), None);
        // One key never names a split.
        assert_eq!(shift_route(&vs("blue", "green"), &["green", "green"]), None);
    }

    /// The page's former copy of the rule, kept: old/new on the demo's shape (`svc` hosts).
    #[test]
    fn the_old_new_route_is_the_last_with_exactly_those_subsets() {
        let old_new = Subsets::default();
        let dest = |subset: &str, weight| Destination {
            host: "svc".into(),
            ..dest(Some(subset), weight)
        };
        let vs = |old, new| VirtualServiceRoutes {
            routes: vec![
                route(0, vec![dest("new", 100)]),
                route(1, vec![dest("old", old), dest("new", new)]),
            ],
            ..vs("old", "new")
        };
        let demo = vs(100, 0);
        assert_eq!(old_new.shift_route(&demo).map(|r| r.index), Some(1));

        let mut three_way = vs(100, 0);
        three_way.routes[1].destinations.push(dest("canary", 0));
        assert_eq!(old_new.shift_route(&three_way), None);

        let mut two_splits = vs(100, 0);
        two_splits
            .routes
            .insert(0, route(0, vec![dest("new", 50), dest("old", 50)]));
        two_splits.routes[1].index = 1;
        two_splits.routes[2].index = 2;
        assert_eq!(old_new.shift_route(&two_splits).map(|r| r.index), Some(2));

        let hosts_only = VirtualServiceRoutes {
            routes: vec![route(
                0,
                vec![
                    Destination {
                        subset: None,
                        ..dest("x", 50)
                    },
                    Destination {
                        subset: None,
                        host: "other".into(),
                        ..dest("x", 50)
                    },
                ],
            )],
            ..vs(0, 0)
        };
        assert_eq!(old_new.shift_route(&hosts_only), None);
    }

    #[test]
    fn splits_and_weights_use_the_names() {
        let subsets = Subsets::new("blue", "green").unwrap();
        let shape = vs("blue", "green");
        assert_eq!(subsets.split_of(&shape.routes[1]), (80, 20));
        assert_eq!(subsets.split_of(&shape.routes[0]), (0, 100));
        assert_eq!(
            subsets.weights(30),
            BTreeMap::from([("blue".to_owned(), 30), ("green".to_owned(), 70)])
        );
        assert_eq!(subsets.weights(250), subsets.rollback_weights());
        assert_eq!(
            subsets.rollback_weights(),
            BTreeMap::from([("blue".to_owned(), 100), ("green".to_owned(), 0)])
        );
        assert_eq!(
            [
                subsets.rank("blue"),
                subsets.rank("green"),
                subsets.rank("x")
            ],
            [0, 1, 2]
        );
    }
}
