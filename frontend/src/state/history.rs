//! The weight-change history: the first read of `/api/v1/history` plus every `change` event from
//! the live stream, without duplicates, oldest first. The pure parts — merging and the sentences
//! the timeline shows — are unit-tested natively.

use leptos::prelude::*;
use std::collections::{BTreeMap, HashSet};
use switchyard_protocol::{ChangeRecord, Subsets};

/// Adds `incoming` records not already present (by id), keeping `into`'s order and appending the
/// new ones in their own order: the server sends the history oldest first and each live change
/// after the ones before it.
pub fn merge(into: &mut Vec<ChangeRecord>, incoming: Vec<ChangeRecord>) -> bool {
    let mut seen: HashSet<String> = into.iter().map(|r| r.id.clone()).collect();
    let before = into.len();
    for record in incoming {
        if seen.insert(record.id.clone()) {
            into.push(record);
        }
    }
    into.len() != before
}

/// Seeds from the first read: the read is authoritative and in order; live changes it does not
/// contain yet (they happened after it was taken) go after it.
pub fn seed(live_so_far: &[ChangeRecord], read: Vec<ChangeRecord>) -> Vec<ChangeRecord> {
    let mut merged = read;
    merge(&mut merged, live_so_far.to_vec());
    merged
}

/// "old 100 / new 0": weights by key, the server's old subset first and its new one second,
/// then the others by name (all by name while the subset names are not known).
pub fn weights_text(weights: &BTreeMap<String, u32>, subsets: Option<&Subsets>) -> String {
    let rank = |key: &str| subsets.map_or(0, |s| s.rank(key));
    let mut entries: Vec<(&String, &u32)> = weights.iter().collect();
    entries.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
    if entries.is_empty() {
        return "nothing".into();
    }
    entries
        .iter()
        .map(|(key, weight)| format!("{key} {weight}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// "old 100 / new 0 → old 0 / new 100".
pub fn change_text(record: &ChangeRecord, subsets: Option<&Subsets>) -> String {
    format!(
        "{} → {}",
        weights_text(&record.before, subsets),
        weights_text(&record.after, subsets)
    )
}

/// How the source reads in the timeline.
pub fn source_label(source: &str) -> &str {
    match source {
        "console" => "console",
        "bulk" => "bulk shift",
        "rollback" => "rollback",
        "external" => "outside the console",
        other => other,
    }
}

/// "2026-11-27 16:40:05 UTC" from an RFC 3339 time, without a date library (wasm size): the
/// server writes UTC with a `Z`; anything else is shown as it came.
pub fn time_text(rfc3339: &str) -> String {
    let Some((date, rest)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let utc = rest
        .strip_suffix('Z')
        .or_else(|| rest.strip_suffix("+00:00"));
    match utc {
        Some(time) => {
            let seconds = time.split('.').next().unwrap_or(time);
            format!("{date} {seconds} UTC")
        }
        None => rfc3339.to_owned(),
    }
}

/// The history as the page knows it.
#[derive(Clone, Copy)]
pub struct HistoryStore {
    changes: RwSignal<Vec<ChangeRecord>>,
    /// False until the first read answered.
    loaded: RwSignal<bool>,
    /// Why the first read failed, when it did.
    pub problem: RwSignal<Option<String>>,
}

pub fn provide_history() -> HistoryStore {
    let store = HistoryStore {
        changes: RwSignal::new(Vec::new()),
        loaded: RwSignal::new(false),
        problem: RwSignal::new(None),
    };
    provide_context(store);
    store
}

pub fn use_history() -> HistoryStore {
    expect_context::<HistoryStore>()
}

impl HistoryStore {
    /// Tracked: every change, oldest first.
    pub fn changes(&self) -> Vec<ChangeRecord> {
        self.changes.get()
    }

    /// Tracked: whether no change is known.
    pub fn is_empty(&self) -> bool {
        self.changes.with(Vec::is_empty)
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.get()
    }

    /// The first read's answer.
    pub fn seed(&self, read: Vec<ChangeRecord>) {
        let merged = self.changes.with_untracked(|live| seed(live, read));
        self.changes.set(merged);
        self.loaded.set(true);
        self.problem.set(None);
    }

    /// One change from the live stream.
    pub fn record(&self, change: ChangeRecord) {
        let mut changes = self.changes.get_untracked();
        if merge(&mut changes, vec![change]) {
            self.changes.set(changes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: &str, before: (u32, u32), after: (u32, u32)) -> ChangeRecord {
        ChangeRecord {
            id: id.into(),
            time: "2026-11-27T16:40:05.123Z".into(),
            user: "anonymous".into(),
            source: "bulk".into(),
            namespace: "hands-on".into(),
            virtual_service: "review".into(),
            route_index: 1,
            before: BTreeMap::from([("old".into(), before.0), ("new".into(), before.1)]),
            after: BTreeMap::from([("old".into(), after.0), ("new".into(), after.1)]),
            resource_version: id.into(),
        }
    }

    #[test]
    fn live_changes_and_the_first_read_merge_without_duplicates() {
        let a = change("a", (100, 0), (0, 100));
        let b = change("b", (0, 100), (100, 0));
        let c = change("c", (100, 0), (50, 50));
        // b and c arrived live before the read (which was taken after b) answered.
        let merged = seed(&[b.clone(), c.clone()], vec![a.clone(), b.clone()]);
        let ids: Vec<&str> = merged.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);

        let mut list = merged;
        assert!(!merge(&mut list, vec![c]));
        assert!(merge(&mut list, vec![change("d", (50, 50), (80, 20))]));
        assert_eq!(list.len(), 4);
    }

    #[test]
    fn changes_read_as_sentences() {
        let old_new = Subsets::default();
        assert_eq!(
            change_text(&change("a", (100, 0), (0, 100)), Some(&old_new)),
            "old 100 / new 0 → old 0 / new 100"
        );
        let three = BTreeMap::from([("new".into(), 10), ("canary".into(), 5), ("old".into(), 85)]);
        assert_eq!(
            weights_text(&three, Some(&old_new)),
            "old 85 / new 10 / canary 5"
        );
        assert_eq!(weights_text(&BTreeMap::new(), Some(&old_new)), "nothing");
        // Other names lead when the server uses them; without names, keys go by name.
        let blue_green = Subsets::new("green", "blue").unwrap();
        let weights = BTreeMap::from([("blue".into(), 30), ("green".into(), 70)]);
        assert_eq!(
            weights_text(&weights, Some(&blue_green)),
            "green 70 / blue 30"
        );
        assert_eq!(weights_text(&three, None), "canary 5 / new 10 / old 85");
        assert_eq!(source_label("external"), "outside the console");
        assert_eq!(source_label("bulk"), "bulk shift");
        assert_eq!(source_label("robot"), "robot");
    }

    #[test]
    fn times_read_in_utc() {
        assert_eq!(
            time_text("2026-11-27T16:40:05.123Z"),
            "2026-11-27 16:40:05 UTC"
        );
        assert_eq!(time_text("2026-11-27T16:40:05Z"), "2026-11-27 16:40:05 UTC");
        assert_eq!(
            time_text("2026-11-27T16:40:05+00:00"),
            "2026-11-27 16:40:05 UTC"
        );
        assert_eq!(
            time_text("2026-11-27T17:40:05+01:00"),
            "2026-11-27T17:40:05+01:00"
        );
        assert_eq!(time_text("yesterday"), "yesterday");
    }
}
