//! The weight-change history: the first read of `/api/v1/history` plus every `change` event from
//! the live stream, without duplicates, oldest first. The pure parts — merging, grouping by
//! operation, filtering by service and user, the JSON and CSV exports and the sentences the
//! timeline shows — are unit-tested natively.

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

/// Which changes the timeline shows: every one, or those of one VirtualService
/// (`namespace/name`) and/or one user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub service: Option<String>,
    pub user: Option<String>,
}

impl Filter {
    pub fn keeps(&self, record: &ChangeRecord) -> bool {
        self.service
            .as_ref()
            .is_none_or(|s| *s == service_of(record))
            && self.user.as_ref().is_none_or(|u| *u == record.user)
    }
}

/// "hands-on/review": how the timeline and its filter name a VirtualService; an HTTPRoute as
/// "hands-on-gateway/review (HTTPRoute)".
pub fn service_of(record: &ChangeRecord) -> String {
    match record.kind {
        switchyard_protocol::RouteKind::VirtualService => {
            format!("{}/{}", record.namespace, record.virtual_service)
        }
        switchyard_protocol::RouteKind::HTTPRoute => {
            format!(
                "{}/{} (HTTPRoute)",
                record.namespace, record.virtual_service
            )
        }
    }
}

/// The distinct values of one field, sorted, for a filter's choices.
pub fn choices(changes: &[ChangeRecord], field: impl Fn(&ChangeRecord) -> String) -> Vec<String> {
    let mut values: Vec<String> = changes.iter().map(field).collect();
    values.sort();
    values.dedup();
    values
}

/// One operation in the timeline: every change one bulk shift or rollback made (or a single
/// change), each with its position counted from the oldest record (stable as newer ones arrive).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub entries: Vec<(usize, ChangeRecord)>,
}

impl Group {
    /// The position of the group's oldest change: its stable id.
    pub fn first(&self) -> usize {
        self.entries.first().map_or(0, |(i, _)| *i)
    }

    /// "bulk shift by jane · 3 routes": what one group was.
    pub fn heading(&self) -> String {
        let Some((_, first)) = self.entries.first() else {
            return String::new();
        };
        let n = self.entries.len();
        format!(
            "{} by {} · {n} route{}",
            source_label(&first.source),
            first.user,
            if n == 1 { "" } else { "s" }
        )
    }
}

/// The changes `filter` keeps, grouped by operation, newest group first and each group's changes
/// oldest first. A record without an operation (made elsewhere, or written before operations were
/// recorded) is a group of its own.
pub fn groups(changes: &[ChangeRecord], filter: &Filter) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_operation: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, record) in changes.iter().enumerate() {
        if !filter.keeps(record) {
            continue;
        }
        let entry = (index, record.clone());
        match record.operation.as_deref() {
            Some(op) => match by_operation.get(op) {
                Some(&g) => groups[g].entries.push(entry),
                None => {
                    by_operation.insert(op, groups.len());
                    groups.push(Group {
                        entries: vec![entry],
                    });
                }
            },
            None => groups.push(Group {
                entries: vec![entry],
            }),
        }
    }
    // Newest first, by each group's newest change.
    groups.sort_by_key(|g| std::cmp::Reverse(g.entries.last().map_or(0, |(i, _)| *i)));
    groups
}

/// The records as the JSON the server's `/api/v1/history` answers (`{"changes": [...]}`).
pub fn export_json(records: &[ChangeRecord]) -> String {
    serde_json::to_string_pretty(&switchyard_protocol::HistoryResponse {
        changes: records.to_vec(),
        plan_events: Vec::new(),
    })
    .unwrap_or_default()
}

/// The CSV columns, in order.
pub const CSV_HEADER: &str =
    "time,user,source,operation,namespace,virtual_service,route_index,before,after,resource_version,id,kind";

/// The records as CSV (RFC 4180: fields with a comma, quote or line break are quoted, quotes
/// doubled), weights as "old 100 / new 0".
pub fn export_csv(records: &[ChangeRecord], subsets: Option<&Subsets>) -> String {
    fn field(text: &str) -> String {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    }
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for r in records {
        let row = [
            r.time.clone(),
            r.user.clone(),
            r.source.clone(),
            r.operation.clone().unwrap_or_default(),
            r.namespace.clone(),
            r.virtual_service.clone(),
            r.route_index.to_string(),
            weights_text(&r.before, subsets),
            weights_text(&r.after, subsets),
            r.resource_version.clone(),
            r.id.clone(),
            r.kind.as_str().to_owned(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// A `data:` URL holding `text` (percent-encoded UTF-8), for a download link.
pub fn data_url(media_type: &str, text: &str) -> String {
    let mut out = format!("data:{media_type};charset=utf-8,");
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The history as the page knows it.
#[derive(Clone, Copy)]
pub struct HistoryStore {
    /// Every change, oldest first (read it tracked with `with`).
    pub changes: RwSignal<Vec<ChangeRecord>>,
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
            kind: Default::default(),
            route_index: 1,
            before: BTreeMap::from([("old".into(), before.0), ("new".into(), before.1)]),
            after: BTreeMap::from([("old".into(), after.0), ("new".into(), after.1)]),
            resource_version: id.into(),
            operation: None,
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

    fn in_operation(mut record: ChangeRecord, op: &str, name: &str, user: &str) -> ChangeRecord {
        record.operation = Some(op.into());
        record.virtual_service = name.into();
        record.user = user.into();
        record
    }

    #[test]
    fn changes_group_by_operation_newest_first() {
        let records = vec![
            // An old Event without an operation, then a bulk shift of two, then a rollback of two.
            change("x", (100, 0), (80, 20)),
            in_operation(change("a", (80, 20), (0, 100)), "bulk-1", "review", "jane"),
            in_operation(change("b", (100, 0), (0, 100)), "bulk-1", "product", "jane"),
            in_operation(change("c", (0, 100), (100, 0)), "rb-1", "review", "ops"),
            in_operation(change("d", (0, 100), (100, 0)), "rb-1", "product", "ops"),
        ];
        let all = groups(&records, &Filter::default());
        let ids: Vec<Vec<&str>> = all
            .iter()
            .map(|g| g.entries.iter().map(|(_, r)| r.id.as_str()).collect())
            .collect();
        assert_eq!(ids, [vec!["c", "d"], vec!["a", "b"], vec!["x"]]);
        assert_eq!(all[0].first(), 3);
        assert_eq!(all[1].heading(), "bulk shift by jane · 2 routes");
        assert_eq!(all[2].heading(), "bulk shift by anonymous · 1 route");

        let product = Filter {
            service: Some("hands-on/product".into()),
            user: None,
        };
        let kept = groups(&records, &product);
        let ids: Vec<&str> = kept
            .iter()
            .flat_map(|g| g.entries.iter().map(|(_, r)| r.id.as_str()))
            .collect();
        assert_eq!(ids, ["d", "b"]);
        let ops = Filter {
            service: None,
            user: Some("ops".into()),
        };
        assert_eq!(groups(&records, &ops).len(), 1);
        assert_eq!(
            choices(&records, |r| r.user.clone()),
            ["anonymous", "jane", "ops"]
        );
    }

    #[test]
    fn exports_hold_every_field() {
        let mut odd = change("a", (100, 0), (0, 100));
        odd.user = "O'Brien, \"ops\"".into();
        let csv = export_csv(&[odd.clone()], Some(&Subsets::default()));
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next(), Some(CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some("2026-11-27T16:40:05.123Z,\"O'Brien, \"\"ops\"\"\",bulk,,hands-on,review,1,old 100 / new 0,old 0 / new 100,a,a,VirtualService")
        );
        let json = export_json(&[odd.clone()]);
        let back: switchyard_protocol::HistoryResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back.changes, vec![odd]);
        assert_eq!(
            data_url("text/csv", "a,b c"),
            "data:text/csv;charset=utf-8,a%2Cb%20c"
        );
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
