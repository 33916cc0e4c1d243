//! What a bulk shift will do, decided before anything is sent: for each chosen VirtualService or
//! HTTPRoute, its old/new route (the protocol's rule, `switchyard_protocol::backends::old_new`),
//! the weights now, the weights after, and the destinations as shown (sent as `expected`, so a
//! route that changes after the preview fails with 409 and is not touched). Also the sentences
//! for the per-target results. Pure: no signals, no DOM; tested natively.

use crate::{api::Error, state::route_draft::expected_of};
use switchyard_protocol::{
    backends::old_new,
    weights::{validate_values, WeightError},
    Backends, ExpectedDestination, RouteKind, ShiftOutcome, ShiftRequest, ShiftResult, ShiftTarget,
    Subsets, VirtualServiceRoutes,
};

/// "old 80 / new 20", with the subset names the server uses.
pub fn split_text(subsets: &Subsets, old: u32, new: u32) -> String {
    format!(
        "{} {old} / {} {new}",
        subsets.old_name(),
        subsets.new_name()
    )
}

/// One route object of a preview.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewRow {
    pub kind: RouteKind,
    pub namespace: String,
    pub name: String,
    pub route_index: usize,
    /// (old, new) as shown.
    pub before: (u32, u32),
    /// (old, new) after the shift.
    pub after: (u32, u32),
    /// The route's destinations as shown: the guard the server checks.
    pub expected: Vec<ExpectedDestination>,
    /// What old and new are called.
    pub subsets: Subsets,
    /// Which backends of an HTTPRoute are old and new.
    pub backends: Backends,
    /// The keys of the route's old and new destinations, as its weights name them (the subset
    /// names of a VirtualService, the backend Services of an HTTPRoute such as `review-v1`).
    pub keys: (String, String),
}

impl PreviewRow {
    pub fn changes(&self) -> bool {
        self.before != self.after
    }

    /// "old 100 / new 0 → old 0 / new 100", or "old 0 / new 100 (no change)"; an HTTPRoute's
    /// with its backends' names: "review-v1 100 / review-v2 0 → …".
    pub fn text(&self) -> String {
        let split =
            |(old, new): (u32, u32)| format!("{} {old} / {} {new}", self.keys.0, self.keys.1);
        let before = split(self.before);
        if self.changes() {
            format!("{before} → {}", split(self.after))
        } else {
            format!("{before} (no change)")
        }
    }

    /// `ns/name`, with `(HTTPRoute)` after an HTTPRoute's.
    pub fn label(&self) -> String {
        match self.kind {
            RouteKind::VirtualService => format!("{}/{}", self.namespace, self.name),
            RouteKind::HTTPRoute => format!("{}/{} (HTTPRoute)", self.namespace, self.name),
        }
    }

    /// Whether `now` (the route object as the page knows it now) no longer matches what the
    /// preview showed; applying will then fail for this one with 409.
    pub fn is_stale(&self, now: &VirtualServiceRoutes) -> bool {
        old_new(self.kind, now, &self.subsets, &self.backends).is_none_or(|found| {
            found.route.index != self.route_index || expected_of(found.route) != self.expected
        })
    }
}

/// A bulk shift as previewed: the split and one row per chosen route object that has an
/// old/new route (the one the server will change, by the protocol's rule).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub subsets: Subsets,
    pub old: u32,
    pub new: u32,
    pub rows: Vec<PreviewRow>,
}

impl Plan {
    /// The preview for `old` percent to the old version (the rest to new) over `chosen`
    /// VirtualServices.
    pub fn new<'a>(
        subsets: &Subsets,
        chosen: impl IntoIterator<Item = &'a VirtualServiceRoutes>,
        old: u32,
    ) -> Plan {
        Plan::of(
            subsets,
            &Backends::default(),
            chosen.into_iter().map(|vs| (RouteKind::VirtualService, vs)),
            old,
        )
    }

    /// The preview over `chosen` route objects of either kind (their views).
    pub fn of<'a>(
        subsets: &Subsets,
        backends: &Backends,
        chosen: impl IntoIterator<Item = (RouteKind, &'a VirtualServiceRoutes)>,
        old: u32,
    ) -> Plan {
        let weights = subsets.weights(old);
        let (old, new) = (weights[subsets.old_name()], weights[subsets.new_name()]);
        let rows = chosen
            .into_iter()
            .filter_map(|(kind, vs)| {
                let found = old_new(kind, vs, subsets, backends)?;
                Some(PreviewRow {
                    kind,
                    namespace: vs.namespace.clone(),
                    name: vs.name.clone(),
                    route_index: found.route.index,
                    before: found.split(),
                    after: (old, new),
                    expected: expected_of(found.route),
                    subsets: subsets.clone(),
                    backends: backends.clone(),
                    keys: (found.old.clone(), found.new.clone()),
                })
            })
            .collect();
        Plan {
            subsets: subsets.clone(),
            old,
            new,
            rows,
        }
    }

    /// How many of the rows would change.
    pub fn change_count(&self) -> usize {
        self.rows.iter().filter(|r| r.changes()).count()
    }

    /// The one request that applies the whole preview, checked against the weight policy the
    /// server applies. Targets are always named (the server refuses an empty list; rollback is
    /// the action for everything), and the page offers Apply only for a preview with rows.
    pub fn request(&self) -> Result<ShiftRequest, WeightError> {
        let weights = self.subsets.weights(self.old);
        validate_values(&weights)?;
        Ok(ShiftRequest {
            targets: self
                .rows
                .iter()
                .map(|row| ShiftTarget {
                    namespace: row.namespace.clone(),
                    name: row.name.clone(),
                    kind: row.kind,
                    expected: Some(row.expected.clone()),
                })
                .collect(),
            weights,
        })
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
pub fn results_summary(results: &[ShiftResult], subsets: Option<&Subsets>) -> String {
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
        match subsets {
            Some(s) => format!(
                "nothing to do: no VirtualService has a route split between exactly {} and {}, \
                 nor an HTTPRoute a rule between its old and new backends",
                s.old_name(),
                s.new_name()
            ),
            None => "nothing to do: no VirtualService or HTTPRoute has a route to change".into(),
        }
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
    use std::collections::BTreeMap;
    use switchyard_protocol::{Destination, HttpRoute};

    fn old_new() -> Subsets {
        Subsets::default()
    }

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
        vs_named(&old_new(), name, old, new)
    }

    /// The same shape with other subset names.
    fn vs_named(subsets: &Subsets, name: &str, old: u32, new: u32) -> VirtualServiceRoutes {
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: name.into(),
            resource_version: "7".into(),
            hosts: vec![name.into()],
            weight_managers: Vec::new(),
            routes: vec![
                route(0, vec![dest(subsets.new_name(), 100)]),
                route(
                    1,
                    vec![dest(subsets.old_name(), old), dest(subsets.new_name(), new)],
                ),
            ],
        }
    }

    #[test]
    fn the_preview_says_what_changes_from_what_to_what() {
        let services = [
            vs("product", 100, 0),
            vs("recommendation", 100, 0),
            vs("review", 0, 100),
        ];
        let plan = Plan::new(&old_new(), &services, 0);
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
        assert_eq!(Plan::new(&old_new(), &services, 250).new, 0);
    }

    #[test]
    fn the_request_carries_the_split_and_the_routes_as_shown() {
        let services = [vs("product", 80, 20), vs("review", 100, 0)];
        let plan = Plan::new(&old_new(), &services, 50);
        let request = plan.request().expect("within the policy");
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
            routes: vec![route(0, vec![dest("old", 100)])],
            ..vs("product-composite", 0, 0)
        };
        assert!(Plan::new(&old_new(), [&lone], 0)
            .request()
            .unwrap()
            .targets
            .is_empty());
    }

    #[test]
    fn other_subset_names_are_previewed_and_sent_as_the_server_named_them() {
        let blue_green = Subsets::new("blue", "green").unwrap();
        let services = [
            vs_named(&blue_green, "product", 100, 0),
            vs_named(&blue_green, "review", 60, 40),
            // Split between old and new: not a route this console shifts.
            vs("recommendation", 100, 0),
        ];
        let plan = Plan::new(&blue_green, &services, 0);
        let texts: Vec<(&str, String)> = plan
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.text()))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "product",
                    "blue 100 / green 0 → blue 0 / green 100".to_owned()
                ),
                (
                    "review",
                    "blue 60 / green 40 → blue 0 / green 100".to_owned()
                ),
            ]
        );
        let request = plan.request().expect("within the policy");
        assert_eq!(
            request.weights,
            BTreeMap::from([("blue".to_owned(), 0), ("green".to_owned(), 100)])
        );
        // With the default names nothing of the blue/green services would be offered.
        assert_eq!(Plan::new(&old_new(), &services[..2], 0).rows, []);
    }

    /// An HTTPRoute's view as the page holds it: rule 0 pins testers to v2, rule 1 splits.
    fn http_route(name: &str, v1: u32, v2: u32) -> VirtualServiceRoutes {
        let backend = |host: String, weight: u32| Destination {
            host,
            subset: None,
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        };
        VirtualServiceRoutes {
            namespace: "hands-on-gateway".into(),
            name: name.into(),
            resource_version: "3".into(),
            hosts: vec![name.into()],
            weight_managers: Vec::new(),
            routes: vec![
                route(0, vec![backend(format!("{name}-v2"), 1)]),
                route(
                    1,
                    vec![
                        backend(format!("{name}-v1"), v1),
                        backend(format!("{name}-v2"), v2),
                    ],
                ),
            ],
        }
    }

    #[test]
    fn virtual_services_and_http_routes_shift_together() {
        let vs_review = vs("review", 100, 0);
        let hr_review = http_route("review", 1, 3);
        let plan = Plan::of(
            &old_new(),
            &Backends::default(),
            [
                (RouteKind::VirtualService, &vs_review),
                (RouteKind::HTTPRoute, &hr_review),
            ],
            80,
        );
        let texts: Vec<(String, String)> =
            plan.rows.iter().map(|r| (r.label(), r.text())).collect();
        assert_eq!(
            texts,
            [
                (
                    "hands-on/review".to_owned(),
                    "old 100 / new 0 → old 80 / new 20".to_owned()
                ),
                (
                    "hands-on-gateway/review (HTTPRoute)".to_owned(),
                    "review-v1 1 / review-v2 3 → review-v1 80 / review-v2 20".to_owned()
                ),
            ]
        );
        let request = plan.request().unwrap();
        // One request: the weights by subset name, each target with its kind and its route as
        // shown (an HTTPRoute's keyed by backend Service).
        assert_eq!(
            request.weights,
            BTreeMap::from([("new".to_owned(), 20), ("old".to_owned(), 80)])
        );
        assert_eq!(request.targets[1].kind, RouteKind::HTTPRoute);
        assert_eq!(
            request.targets[1].expected.as_ref().unwrap()[0],
            ExpectedDestination {
                host: "review-v1".into(),
                subset: None,
                weight: 1
            }
        );
        assert!(!plan.rows[1].is_stale(&hr_review));
        assert!(plan.rows[1].is_stale(&http_route("review", 1, 1)));
        // An HTTPRoute's view is no VirtualService: read as one it has no old/new route.
        let wrong = Plan::of(
            &old_new(),
            &Backends::default(),
            [(RouteKind::VirtualService, &hr_review)],
            80,
        );
        assert!(wrong.rows.is_empty());
    }

    #[test]
    fn a_route_changed_after_the_preview_is_stale() {
        let shown = vs("review", 100, 0);
        let plan = Plan::new(&old_new(), [&shown], 0);
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
            kind: RouteKind::VirtualService,
            outcome,
            route_index: Some(1),
            message: message.into(),
            status,
            virtual_service: None,
            http_route: None,
        };
        let changed = result(ShiftOutcome::Changed, None, "set to old 0 / new 100");
        let conflict = result(ShiftOutcome::Failed, Some(409), "route 1 changed");
        let forbidden = result(ShiftOutcome::Failed, Some(403), "viewer may not patch");
        let same = result(ShiftOutcome::Unchanged, None, "already old 0 / new 100");
        assert_eq!(
            result_text(&changed, None),
            "changed: set to old 0 / new 100"
        );
        let shown = Plan::new(&old_new(), [&vs("review", 100, 0)], 0)
            .rows
            .remove(0);
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
            results_summary(
                &[changed.clone(), changed, conflict, same],
                Some(&old_new())
            ),
            "2 changed, 1 unchanged, 1 failed"
        );
        assert!(results_summary(&[], None).starts_with("nothing to do"));
        assert_eq!(
            results_summary(&[], Some(&Subsets::new("blue", "green").unwrap())),
            "nothing to do: no VirtualService has a route split between exactly blue and green, nor an HTTPRoute a rule between its old and new backends"
        );
    }

    #[test]
    fn refusals_name_their_code() {
        let forbidden = Error::Api(Box::new(switchyard_protocol::ApiError {
            code: "forbidden".into(),
            message: "virtualservices is forbidden: User \"viewer\" cannot patch".into(),
            current: None,
            current_http_route: None,
        }));
        assert_eq!(
            error_text(&forbidden),
            "refused (forbidden): virtualservices is forbidden: User \"viewer\" cannot patch"
        );
        assert_eq!(
            error_text(&Error::Network("down".into())),
            "cannot reach the console — retrying"
        );
    }
}
