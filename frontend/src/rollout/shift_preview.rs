//! What a bulk shift will do, decided before anything is sent: for each chosen VirtualService,
//! its old/new route, the weights now, the weights after, and the destinations as shown (sent
//! as `expected`, so a route that changes after the preview fails with 409 and is not touched).
//! Also the sentences for the per-target results. Pure: no signals, no DOM; tested natively.

use crate::{api::Error, state::route_draft::expected_of};
use std::collections::BTreeMap;
use switchyard_protocol::{
    ExpectedDestination, HttpRoute, ShiftOutcome, ShiftRequest, ShiftResult, ShiftTarget,
    VirtualServiceRoutes,
};

/// The subset names of the two versions, as the demo and the server's defaults name them.
pub const OLD: &str = "old";
pub const NEW: &str = "new";

/// The splits offered as one-click presets, as (old, new).
pub const PRESETS: [(u32, u32); 4] = [(100, 0), (80, 20), (50, 50), (0, 100)];

/// The route a bulk shift changes, as the server picks it: the last route whose destinations are
/// exactly `old` and `new` (the default traffic; header-matched routes come before it).
pub fn shift_route(vs: &VirtualServiceRoutes) -> Option<&HttpRoute> {
    vs.routes.iter().rev().find(|route| {
        let keys: Vec<&str> = route.destinations.iter().map(|d| d.key()).collect();
        keys.len() == 2 && keys.contains(&OLD) && keys.contains(&NEW)
    })
}

/// The weight of `key` in a route (0 when absent, as Istio reads a missing weight).
fn weight_of(route: &HttpRoute, key: &str) -> u32 {
    route
        .destinations
        .iter()
        .filter(|d| d.key() == key)
        .map(|d| d.weight)
        .sum()
}

/// "old 80 / new 20".
pub fn split_text(old: u32, new: u32) -> String {
    format!("{OLD} {old} / {NEW} {new}")
}

/// One VirtualService of a preview.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewRow {
    pub namespace: String,
    pub name: String,
    pub route_index: usize,
    /// (old, new) as shown.
    pub before: (u32, u32),
    /// (old, new) after the shift.
    pub after: (u32, u32),
    /// The route's destinations as shown: the guard the server checks.
    pub expected: Vec<ExpectedDestination>,
}

impl PreviewRow {
    pub fn changes(&self) -> bool {
        self.before != self.after
    }

    /// "old 100 / new 0 → old 0 / new 100", or "old 0 / new 100 (no change)".
    pub fn text(&self) -> String {
        let before = split_text(self.before.0, self.before.1);
        if self.changes() {
            format!("{before} → {}", split_text(self.after.0, self.after.1))
        } else {
            format!("{before} (no change)")
        }
    }

    /// Whether `now` (the VirtualService as the page knows it now) no longer matches what the
    /// preview showed; applying will then fail for this one with 409.
    pub fn is_stale(&self, now: &VirtualServiceRoutes) -> bool {
        shift_route(now).is_none_or(|route| {
            route.index != self.route_index || expected_of(route) != self.expected
        })
    }
}

/// A bulk shift as previewed: the split and one row per chosen VirtualService that has an
/// old/new route.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub old: u32,
    pub new: u32,
    pub rows: Vec<PreviewRow>,
}

impl Plan {
    /// The preview for `old` percent to the old version (the rest to new) over `chosen`.
    pub fn new<'a>(chosen: impl IntoIterator<Item = &'a VirtualServiceRoutes>, old: u32) -> Plan {
        let old = old.min(100);
        let new = 100 - old;
        let rows = chosen
            .into_iter()
            .filter_map(|vs| {
                let route = shift_route(vs)?;
                Some(PreviewRow {
                    namespace: vs.namespace.clone(),
                    name: vs.name.clone(),
                    route_index: route.index,
                    before: (weight_of(route, OLD), weight_of(route, NEW)),
                    after: (old, new),
                    expected: expected_of(route),
                })
            })
            .collect();
        Plan { old, new, rows }
    }

    /// How many of the rows would change.
    pub fn change_count(&self) -> usize {
        self.rows.iter().filter(|r| r.changes()).count()
    }

    /// The one request that applies the whole preview. Targets are always named (an empty list
    /// would mean "every VirtualService", which is not what a preview of none shows).
    pub fn request(&self) -> ShiftRequest {
        ShiftRequest {
            targets: self
                .rows
                .iter()
                .map(|row| ShiftTarget {
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                    expected: Some(row.expected.clone()),
                })
                .collect(),
            weights: BTreeMap::from([(OLD.to_owned(), self.old), (NEW.to_owned(), self.new)]),
        }
    }
}

/// The HTTP status in words, as a failed target reports it.
fn status_words(status: u16) -> &'static str {
    match status {
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        422 => "invalid",
        503 => "unavailable",
        _ => "error",
    }
}

/// What one target's outcome reads as, e.g. "changed: old 100 / new 0 → old 0 / new 100" or
/// "failed (409 conflict): review route 1 changed since it was shown". With the preview row it
/// was applied from, a change says from what to what: the server changed it only because the
/// route still was as that row showed.
pub fn result_text(result: &ShiftResult, shown: Option<&PreviewRow>) -> String {
    match result.outcome {
        ShiftOutcome::Changed => match shown {
            Some(row) if row.route_index == result.route_index.unwrap_or(row.route_index) => {
                format!("changed: {}", row.text())
            }
            _ => format!("changed: {}", result.message),
        },
        ShiftOutcome::Unchanged => format!("unchanged: {}", result.message),
        ShiftOutcome::Failed => match result.status {
            Some(status) => format!(
                "failed ({status} {}): {}",
                status_words(status),
                result.message
            ),
            None => format!("failed: {}", result.message),
        },
    }
}

/// "3 changed, 1 failed" over all results; "nothing to do" for none.
pub fn results_summary(results: &[ShiftResult]) -> String {
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    let parts: Vec<String> = [
        (ShiftOutcome::Changed, "changed"),
        (ShiftOutcome::Unchanged, "unchanged"),
        (ShiftOutcome::Failed, "failed"),
    ]
    .into_iter()
    .filter_map(|(outcome, word)| {
        let n = count(outcome);
        (n > 0).then(|| format!("{n} {word}"))
    })
    .collect();
    if parts.is_empty() {
        "nothing to do: no VirtualService has an old/new route".into()
    } else {
        parts.join(", ")
    }
}

/// A refused or failed request in words, with the server's code when there is one, so a 403
/// from the cluster reads as a refusal, e.g. "refused (forbidden): viewer may not patch …".
pub fn error_text(error: &Error) -> String {
    match error.code() {
        Some(code) => format!("refused ({code}): {error}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::Destination;

    fn dest(subset: &str, weight: u32) -> Destination {
        Destination {
            host: "svc".into(),
            subset: Some(subset.into()),
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

    /// The demo's shape: route 0 pins testers to new, route 1 is the old/new split.
    fn vs(name: &str, old: u32, new: u32) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: name.into(),
            resource_version: "7".into(),
            hosts: vec![name.into()],
            routes: vec![
                route(0, vec![dest(NEW, 100)]),
                route(1, vec![dest(OLD, old), dest(NEW, new)]),
            ],
        }
    }

    #[test]
    fn the_old_new_route_is_the_last_with_exactly_those_subsets() {
        let demo = vs("review", 100, 0);
        assert_eq!(shift_route(&demo).map(|r| r.index), Some(1));

        let mut three_way = vs("review", 100, 0);
        three_way.routes[1].destinations.push(dest("canary", 0));
        assert_eq!(shift_route(&three_way), None);

        let mut two_splits = vs("review", 100, 0);
        two_splits
            .routes
            .insert(0, route(0, vec![dest(NEW, 50), dest(OLD, 50)]));
        two_splits.routes[1].index = 1;
        two_splits.routes[2].index = 2;
        assert_eq!(shift_route(&two_splits).map(|r| r.index), Some(2));

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
            ..vs("product", 0, 0)
        };
        assert_eq!(shift_route(&hosts_only), None);
    }

    #[test]
    fn the_preview_says_what_changes_from_what_to_what() {
        let services = [
            vs("product", 100, 0),
            vs("recommendation", 100, 0),
            vs("review", 0, 100),
        ];
        let plan = Plan::new(&services, 0);
        let texts: Vec<(String, String)> = plan
            .rows
            .iter()
            .map(|r| (r.name.clone(), r.text()))
            .collect();
        assert_eq!(
            texts,
            [
                ("product".into(), "old 100 / new 0 → old 0 / new 100".into()),
                (
                    "recommendation".into(),
                    "old 100 / new 0 → old 0 / new 100".into()
                ),
                ("review".into(), "old 0 / new 100 (no change)".into()),
            ]
        );
        assert_eq!(plan.change_count(), 2);
        assert_eq!(Plan::new(&services, 250).new, 0);
    }

    #[test]
    fn the_request_carries_the_split_and_the_routes_as_shown() {
        let services = [vs("product", 80, 20), vs("review", 100, 0)];
        let plan = Plan::new(&services, 50);
        let request = plan.request();
        assert_eq!(
            request.weights,
            BTreeMap::from([("new".to_owned(), 50), ("old".to_owned(), 50)])
        );
        assert_eq!(request.targets.len(), 2);
        assert_eq!(request.targets[0].name, "product");
        let expected = request.targets[0].expected.as_ref().expect("expected");
        assert_eq!(
            expected.iter().map(|d| d.weight).collect::<Vec<_>>(),
            [80, 20]
        );
        // A VirtualService without an old/new route is not a target.
        let lone = VirtualServiceRoutes {
            routes: vec![route(0, vec![dest(OLD, 100)])],
            ..vs("product-composite", 0, 0)
        };
        assert!(Plan::new([&lone], 0).request().targets.is_empty());
    }

    #[test]
    fn a_route_changed_after_the_preview_is_stale() {
        let shown = vs("review", 100, 0);
        let plan = Plan::new([&shown], 0);
        let row = &plan.rows[0];
        assert!(!row.is_stale(&shown));
        let mut newer_version_same_route = shown.clone();
        newer_version_same_route.resource_version = "8".into();
        assert!(!row.is_stale(&newer_version_same_route));
        assert!(row.is_stale(&vs("review", 50, 50)));
        let mut gone = shown.clone();
        gone.routes.truncate(1);
        assert!(row.is_stale(&gone));
    }

    #[test]
    fn results_read_as_sentences() {
        let result = |outcome, status, message: &str| ShiftResult {
            namespace: "hands-on".into(),
            name: "review".into(),
            outcome,
            route_index: Some(1),
            message: message.into(),
            status,
            virtual_service: None,
        };
        let changed = result(ShiftOutcome::Changed, None, "set to old 0 / new 100");
        let conflict = result(ShiftOutcome::Failed, Some(409), "route 1 changed");
        let forbidden = result(ShiftOutcome::Failed, Some(403), "viewer may not patch");
        let same = result(ShiftOutcome::Unchanged, None, "already old 0 / new 100");
        assert_eq!(
            result_text(&changed, None),
            "changed: set to old 0 / new 100"
        );
        let shown = Plan::new([&vs("review", 100, 0)], 0).rows.remove(0);
        assert_eq!(
            result_text(&changed, Some(&shown)),
            "changed: old 100 / new 0 → old 0 / new 100"
        );
        assert_eq!(
            result_text(&conflict, Some(&shown)),
            "failed (409 conflict): route 1 changed"
        );
        assert_eq!(
            result_text(&forbidden, None),
            "failed (403 forbidden): viewer may not patch"
        );
        assert_eq!(
            results_summary(&[changed.clone(), changed, conflict, same]),
            "2 changed, 1 unchanged, 1 failed"
        );
        assert!(results_summary(&[]).starts_with("nothing to do"));
    }

    #[test]
    fn refusals_name_their_code() {
        let forbidden = Error::Api(Box::new(switchyard_protocol::ApiError {
            code: "forbidden".into(),
            message: "virtualservices is forbidden: User \"viewer\" cannot patch".into(),
            current: None,
        }));
        assert_eq!(
            error_text(&forbidden),
            "refused (forbidden): virtualservices is forbidden: User \"viewer\" cannot patch"
        );
        assert_eq!(
            error_text(&Error::Network("down".into())),
            "could not reach the server: down"
        );
    }
}
