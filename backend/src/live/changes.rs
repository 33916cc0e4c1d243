//! When each weighted route last changed its weights, as the refresher saw it (console writes,
//! kubectl, anything else), seeded from the recorded history so a restarted console knows too.

use std::collections::{BTreeMap, HashMap};
use switchyard_protocol::{ChangeRecord, RouteKind, VirtualServiceRoutes};

use crate::graph::settling::RouteKey;

#[derive(Default)]
pub(super) struct RouteChanges {
    /// Weights per route last seen, per route object (`(kind, namespace, name)`).
    seen: HashMap<(RouteKind, String, String), Vec<Vec<u32>>>,
    changed_at: BTreeMap<RouteKey, f64>,
}

impl RouteChanges {
    /// Compares the route objects in scope (VirtualServices and HTTPRoutes, as views) with what
    /// was seen before: a route whose weights differ changed at `now`. An object seen for the
    /// first time takes its routes' last change from `history` (called at most once per call,
    /// and only then).
    pub(super) fn observe<'a>(
        &mut self,
        routes: impl IntoIterator<Item = (RouteKind, &'a VirtualServiceRoutes)>,
        history: impl FnOnce() -> Vec<ChangeRecord>,
        now: f64,
    ) {
        let mut history = Some(history);
        let mut recorded: Option<BTreeMap<RouteKey, f64>> = None;
        for (kind, vs) in routes {
            let weights: Vec<Vec<u32>> = vs
                .routes
                .iter()
                .map(|r| r.destinations.iter().map(|d| d.weight).collect())
                .collect();
            let id = (kind, vs.namespace.clone(), vs.name.clone());
            match self.seen.get(&id) {
                Some(before) if *before == weights => continue,
                Some(before) => {
                    for (index, route) in weights.iter().enumerate() {
                        if before.get(index) != Some(route) {
                            self.changed_at
                                .insert((kind, id.1.clone(), id.2.clone(), index), now);
                        }
                    }
                }
                None => {
                    let recorded = recorded.get_or_insert_with(|| {
                        last_recorded(history.take().map(|h| h()).unwrap_or_default())
                    });
                    for index in 0..weights.len() {
                        let key = (kind, id.1.clone(), id.2.clone(), index);
                        if let Some(&time) = recorded.get(&key) {
                            self.changed_at.insert(key, time);
                        }
                    }
                }
            }
            self.seen.insert(id, weights);
        }
    }

    pub(super) fn changed_at(&self) -> &BTreeMap<RouteKey, f64> {
        &self.changed_at
    }
}

/// The latest recorded change time per route (records carry RFC 3339 times).
fn last_recorded(records: Vec<ChangeRecord>) -> BTreeMap<RouteKey, f64> {
    let mut latest = BTreeMap::new();
    for record in records {
        let Ok(time) = chrono::DateTime::parse_from_rfc3339(&record.time) else {
            continue;
        };
        let seconds = time.timestamp_micros() as f64 / 1e6;
        let key = (
            record.kind,
            record.namespace,
            record.virtual_service,
            record.route_index,
        );
        let entry = latest.entry(key).or_insert(seconds);
        if *entry < seconds {
            *entry = seconds;
        }
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Destination, HttpRoute};

    fn vs(weights: [u32; 2]) -> VirtualServiceRoutes {
        let destination = |subset: &str, weight| Destination {
            host: "review".into(),
            subset: Some(subset.into()),
            weight,
            requested_share: f64::from(weight),
            observed_share: None,
        };
        VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: "review".into(),
            resource_version: "1".into(),
            hosts: vec!["review".into()],
            weight_managers: Vec::new(),
            routes: vec![
                HttpRoute {
                    index: 0,
                    name: None,
                    match_summary: "header x-group = test".into(),
                    destinations: vec![destination("new", 100)],
                },
                HttpRoute {
                    index: 1,
                    name: None,
                    match_summary: "all requests".into(),
                    destinations: vec![
                        destination("old", weights[0]),
                        destination("new", weights[1]),
                    ],
                },
            ],
        }
    }

    fn key(index: usize) -> RouteKey {
        (
            RouteKind::VirtualService,
            "hands-on".into(),
            "review".into(),
            index,
        )
    }

    fn one(vs: &VirtualServiceRoutes) -> [(RouteKind, &VirtualServiceRoutes); 1] {
        [(RouteKind::VirtualService, vs)]
    }

    #[test]
    fn a_weight_change_is_dated_when_seen_and_only_for_its_route() {
        let mut changes = RouteChanges::default();
        changes.observe(one(&vs([100, 0])), Vec::new, 10.0);
        assert!(
            changes.changed_at().is_empty(),
            "first sight, no history: no change"
        );
        changes.observe(one(&vs([100, 0])), || panic!("history is read once"), 15.0);
        assert!(changes.changed_at().is_empty());
        changes.observe(one(&vs([80, 20])), || panic!("history is read once"), 20.0);
        assert_eq!(changes.changed_at(), &BTreeMap::from([(key(1), 20.0)]));
        // An HTTPRoute of the same name is another object: first sight, no change.
        let http = vs([80, 20]);
        changes.observe([(RouteKind::HTTPRoute, &http)], Vec::new, 25.0);
        assert_eq!(changes.changed_at(), &BTreeMap::from([(key(1), 20.0)]));
    }

    #[test]
    fn a_restarted_console_takes_the_last_change_from_the_history() {
        let record = |time: &str, index| ChangeRecord {
            id: time.into(),
            time: time.into(),
            user: "operator".into(),
            source: "console".into(),
            namespace: "hands-on".into(),
            virtual_service: "review".into(),
            kind: RouteKind::VirtualService,
            route_index: index,
            before: BTreeMap::new(),
            after: BTreeMap::new(),
            resource_version: "2".into(),
            operation: None,
        };
        let mut changes = RouteChanges::default();
        changes.observe(
            one(&vs([80, 20])),
            || {
                vec![
                    record("1970-01-01T00:01:40Z", 1),
                    record("1970-01-01T00:02:00.5Z", 1),
                    record("not a time", 1),
                ]
            },
            130.0,
        );
        assert_eq!(changes.changed_at(), &BTreeMap::from([(key(1), 120.5)]));
    }
}
