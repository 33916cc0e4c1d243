//! The page's copy of the live traffic graph, and what the sparklines need that no single
//! snapshot holds: the observed share of each service's rollout version over the last minutes
//! (kept here, from every graph event since the page opened) and the times of weight changes
//! (from the history on load, then from change events).
//!
//! [`ShareHistory`], [`ChangeMarks`] and [`ReceivedGraph`] (the stream's last graph, which the
//! next `graph_delta` applies to) are plain data with pure methods, unit-tested natively;
//! [`GraphStore`] only holds them in signals.

use crate::{graph_view::label::rollout_version, state::settings::SettingsStore};
use leptos::prelude::*;
use std::collections::{BTreeMap, VecDeque};
use switchyard_protocol::{ChangeRecord, Graph, GraphDelta};

/// How far back sparklines reach, in seconds.
pub const HORIZON_SECONDS: f64 = 600.0;
/// Most samples kept per service whatever the refresh interval (a 1 s refresh over 10 min).
pub const MAX_SAMPLES: usize = 600;

/// A service with a weighted route: (namespace, service).
pub type SplitKey = (String, String);

/// One point of a sparkline: when (server's unix seconds) and the observed share, if any traffic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareSample {
    pub at: f64,
    pub observed: Option<f64>,
}

/// A ring buffer of observed shares per service, bounded by age and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShareHistory {
    series: BTreeMap<SplitKey, VecDeque<ShareSample>>,
    latest: f64,
    /// The rate window of the shares kept: another window starts the lines afresh.
    window_seconds: u32,
}

impl ShareHistory {
    /// Adds one snapshot, following each split's rollout version (see [`rollout_version`]; the
    /// server's new subset is `new_subset`, when known). The same snapshot twice (the stream
    /// resends the latest on reconnect) and snapshots older than the newest seen are ignored,
    /// so time only moves forward. A snapshot over another rate window than the kept ones
    /// starts every line afresh: shares over 30 s and over 15 min are not one line.
    pub fn record(&mut self, graph: &Graph, new_subset: Option<&str>) {
        if graph.window_seconds != self.window_seconds {
            self.series.clear();
            self.latest = 0.0;
            self.window_seconds = graph.window_seconds;
        }
        if graph.generated_at <= self.latest {
            return;
        }
        self.latest = graph.generated_at;
        for split in &graph.splits {
            let observed = rollout_version(split, new_subset)
                .and_then(|v| v.observed)
                .filter(|_| split.rate > 0.0);
            self.series
                .entry((split.namespace.clone(), split.service.clone()))
                .or_default()
                .push_back(ShareSample {
                    at: graph.generated_at,
                    observed,
                });
        }
        let oldest = self.latest - HORIZON_SECONDS;
        for samples in self.series.values_mut() {
            while samples
                .front()
                .is_some_and(|s| s.at < oldest || samples.len() > MAX_SAMPLES)
            {
                samples.pop_front();
            }
        }
        self.series.retain(|_, samples| !samples.is_empty());
    }

    pub fn samples(&self, key: &SplitKey) -> Vec<ShareSample> {
        self.series
            .get(key)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The newest snapshot time seen (the right end of every sparkline).
    pub fn latest(&self) -> f64 {
        self.latest
    }
}

/// A weight change, as a vertical marker on its service's sparkline.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeMark {
    pub id: String,
    pub at: f64,
    pub namespace: String,
    pub virtual_service: String,
    /// e.g. `old 80 / new 20`, for the marker's tooltip.
    pub summary: String,
}

/// The changes of the last minutes, oldest first, each once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeMarks {
    marks: Vec<ChangeMark>,
}

impl ChangeMarks {
    /// Adds a change unless it is already there or its time cannot be read.
    pub fn add(&mut self, record: &ChangeRecord) {
        if self.marks.iter().any(|m| m.id == record.id) {
            return;
        }
        let Some(at) = parse_rfc3339(&record.time) else {
            return;
        };
        let summary = record
            .after
            .iter()
            .map(|(key, weight)| format!("{key} {weight}"))
            .collect::<Vec<_>>()
            .join(" / ");
        let mark = ChangeMark {
            id: record.id.clone(),
            at,
            namespace: record.namespace.clone(),
            virtual_service: record.virtual_service.clone(),
            summary,
        };
        let position = self.marks.partition_point(|m| m.at <= at);
        self.marks.insert(position, mark);
        // Far more than a sparkline shows; only bounds memory on a page left open for days.
        if self.marks.len() > 1000 {
            self.marks.remove(0);
        }
    }

    /// The changes of one VirtualService at or after `since`.
    pub fn of(&self, namespace: &str, virtual_service: &str, since: f64) -> Vec<ChangeMark> {
        self.marks
            .iter()
            .filter(|m| m.namespace == namespace && m.virtual_service == virtual_service)
            .filter(|m| m.at >= since)
            .cloned()
            .collect()
    }
}

/// Unix seconds of an RFC 3339 time such as `2026-11-27T10:00:00.5Z` or `…+01:00`.
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: u32 = date_parts.next()?.parse().ok()?;
    let day: u32 = date_parts.next()?.parse().ok()?;
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = offset[1..].split_once(':')?;
        let hours: i64 = hours.parse().ok()?;
        let minutes: i64 = minutes.parse().ok()?;
        (clock, sign * (hours * 3600 + minutes * 60))
    };
    let mut clock_parts = clock.splitn(3, ':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next()?.parse().ok()?;
    let second: f64 = clock_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 - offset_seconds) as f64 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `HH:MM:SS` (UTC) of unix seconds.
pub fn clock_time(unix_seconds: f64) -> String {
    let seconds = unix_seconds.floor() as i64;
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The last graph one connection of the event stream delivered, whole or as a delta: what the
/// next delta applies to. Kept apart from what the page shows, which may be paused on an older
/// one. A new connection starts empty (its first graph event is whole).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReceivedGraph {
    last: Option<Graph>,
}

impl ReceivedGraph {
    /// A whole snapshot: remembered and passed on.
    pub fn snapshot(&mut self, graph: Graph) -> Graph {
        self.last = Some(graph.clone());
        graph
    }

    /// A delta: the snapshot it describes, made from the last one; an error when it does not
    /// fit (the caller then reconnects, which starts with a whole snapshot).
    pub fn delta(&mut self, delta: &GraphDelta) -> Result<Graph, String> {
        let base = self
            .last
            .as_ref()
            .ok_or_else(|| "a graph update arrived before any graph".to_owned())?;
        let graph = delta.apply(base).map_err(|e| e.to_string())?;
        self.last = Some(graph.clone());
        Ok(graph)
    }
}

/// The graph and its history, shared by every part of the graph view.
#[derive(Clone, Copy)]
pub struct GraphStore {
    pub graph: RwSignal<Option<Graph>>,
    pub history: RwSignal<ShareHistory>,
    pub changes: RwSignal<ChangeMarks>,
    /// While the render benchmark runs, live snapshots must not replace its synthetic graph.
    pub frozen: RwSignal<bool>,
    /// Paused by the person looking: the graph shown stays as it is; the newest snapshot that
    /// arrived meanwhile waits in `held` and is shown on resume.
    pub paused: RwSignal<bool>,
    pub held: RwSignal<Option<Graph>>,
    /// Which subset is the new version.
    pub settings: SettingsStore,
}

pub fn provide_graph(settings: SettingsStore) -> GraphStore {
    let store = GraphStore {
        settings,
        graph: RwSignal::new(None),
        history: RwSignal::new(ShareHistory::default()),
        changes: RwSignal::new(ChangeMarks::default()),
        frozen: RwSignal::new(false),
        paused: RwSignal::new(false),
        held: RwSignal::new(None),
    };
    provide_context(store);
    store
}

pub fn use_graph() -> GraphStore {
    expect_context::<GraphStore>()
}

impl GraphStore {
    /// A new snapshot: shown unless an older one would replace a newer one, or held while the
    /// view is paused.
    pub fn apply_graph(&self, graph: Graph) {
        if self.frozen.get_untracked() {
            return;
        }
        if self.paused.get_untracked() {
            let newer = self.held.with_untracked(|held| {
                held.as_ref()
                    .is_none_or(|h| h.generated_at <= graph.generated_at)
            });
            if newer {
                self.held.set(Some(graph));
            }
            return;
        }
        self.show(graph);
    }

    /// Stops showing new snapshots (the stream keeps running; the newest is held).
    pub fn pause(&self) {
        self.paused.set(true);
    }

    /// Shows the newest snapshot held while paused, and follows the stream again.
    pub fn resume(&self) {
        self.paused.set(false);
        if let Some(graph) = self.held.try_update(Option::take).flatten() {
            self.show(graph);
        }
    }

    /// Shows `graph` now, paused or not (a refresh the person asked for).
    pub fn show_now(&self, graph: Graph) {
        if self.frozen.get_untracked() {
            return;
        }
        self.held.update(|held| {
            if held
                .as_ref()
                .is_some_and(|h| h.generated_at <= graph.generated_at)
            {
                *held = None;
            }
        });
        self.show(graph);
    }

    fn show(&self, graph: Graph) {
        let newer = self.graph.with_untracked(|current| {
            current
                .as_ref()
                .is_none_or(|c| c.generated_at <= graph.generated_at)
        });
        if !newer {
            return;
        }
        let subsets = self.settings.subsets.get_untracked();
        let new_subset = subsets.as_ref().map(|s| s.new_name());
        self.history.update(|h| h.record(&graph, new_subset));
        self.graph.set(Some(graph));
    }

    pub fn apply_change(&self, record: &ChangeRecord) {
        self.changes.update(|c| c.add(record));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{ServiceSplit, VersionSplit};

    fn graph(at: f64, observed_new: Option<f64>) -> Graph {
        Graph {
            splits: vec![ServiceSplit {
                namespace: "hands-on".into(),
                service: "review".into(),
                virtual_service: "review".into(),
                kind: Default::default(),
                route_index: 1,
                versions: vec![
                    VersionSplit {
                        subset: "old".into(),
                        version: Some("v1".into()),
                        requested: 80.0,
                        observed: observed_new.map(|o| 100.0 - o),
                    },
                    VersionSplit {
                        subset: "new".into(),
                        version: Some("v2".into()),
                        requested: 20.0,
                        observed: observed_new,
                    },
                ],
                rate: if observed_new.is_some() { 20.0 } else { 0.0 },
                samples: 600.0,
                tolerance: 5.0,
                agrees: None,
                settling: None,
            }],
            generated_at: at,
            ..Graph::default()
        }
    }

    fn key() -> SplitKey {
        ("hands-on".into(), "review".into())
    }

    #[test]
    fn history_keeps_the_rollout_share_in_time_order_once() {
        let mut history = ShareHistory::default();
        history.record(&graph(100.0, None), Some("new"));
        history.record(&graph(105.0, Some(10.0)), Some("new"));
        history.record(&graph(105.0, Some(99.0)), Some("new"));
        history.record(&graph(103.0, Some(99.0)), Some("new"));
        history.record(&graph(110.0, Some(19.5)), Some("new"));
        let observed: Vec<Option<f64>> =
            history.samples(&key()).iter().map(|s| s.observed).collect();
        assert_eq!(observed, vec![None, Some(10.0), Some(19.5)]);
        assert_eq!(history.latest(), 110.0);
        assert!(history.samples(&("x".into(), "y".into())).is_empty());
    }

    #[test]
    fn another_rate_window_starts_the_lines_afresh() {
        let mut history = ShareHistory::default();
        history.record(&graph(100.0, Some(10.0)), Some("new"));
        history.record(&graph(105.0, Some(12.0)), Some("new"));
        // The same moment over five minutes: a line of its own, from this sample.
        let long = Graph {
            window_seconds: 300,
            ..graph(105.0, Some(30.0))
        };
        history.record(&long, Some("new"));
        let observed: Vec<Option<f64>> =
            history.samples(&key()).iter().map(|s| s.observed).collect();
        assert_eq!(observed, vec![Some(30.0)]);
    }

    #[test]
    fn history_forgets_what_is_older_than_the_horizon_and_stays_bounded() {
        let mut history = ShareHistory::default();
        for i in 0..2000 {
            history.record(&graph(f64::from(i), Some(20.0)), Some("new"));
        }
        let samples = history.samples(&key());
        assert_eq!(samples.len(), MAX_SAMPLES);
        assert!(samples.iter().all(|s| s.at >= 1999.0 - HORIZON_SECONDS));
        // A gap longer than the horizon leaves only the new sample.
        history.record(&graph(10_000.0, Some(1.0)), Some("new"));
        assert_eq!(history.samples(&key()).len(), 1);
    }

    #[test]
    fn changes_are_marked_once_in_time_order() {
        let record = |id: &str, time: &str| ChangeRecord {
            id: id.into(),
            time: time.into(),
            user: "jane".into(),
            source: "console".into(),
            namespace: "hands-on".into(),
            virtual_service: "review".into(),
            kind: Default::default(),
            route_index: 1,
            before: BTreeMap::from([("new".into(), 0), ("old".into(), 100)]),
            after: BTreeMap::from([("new".into(), 20), ("old".into(), 80)]),
            resource_version: "9".into(),
            operation: None,
        };
        let mut marks = ChangeMarks::default();
        marks.add(&record("b", "2026-11-27T10:05:00Z"));
        marks.add(&record("a", "2026-11-27T10:00:00Z"));
        marks.add(&record("a", "2026-11-27T10:00:00Z"));
        marks.add(&record("bad", "yesterday"));
        let of_review = marks.of("hands-on", "review", 0.0);
        let ids: Vec<&str> = of_review.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(of_review[0].summary, "new 20 / old 80");
        assert!(marks.of("hands-on", "product", 0.0).is_empty());
        assert_eq!(marks.of("hands-on", "review", of_review[1].at).len(), 1);
    }

    #[test]
    fn rfc3339_times_read_as_unix_seconds() {
        let table = [
            ("1970-01-01T00:00:00Z", Some(0.0)),
            ("2000-03-01T00:00:00Z", Some(951_868_800.0)),
            ("2026-11-27T10:00:00Z", Some(1_795_773_600.0)),
            ("2026-11-27T10:00:00.5Z", Some(1_795_773_600.5)),
            ("2026-11-27T11:30:00+01:30", Some(1_795_773_600.0)),
            ("2026-11-27T08:00:00-02:00", Some(1_795_773_600.0)),
            ("2026-13-01T00:00:00Z", None),
            ("not a time", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_rfc3339(text), expected, "{text}");
        }
        assert_eq!(clock_time(1_795_773_600.0 + 3661.9), "11:01:01");
    }
}
