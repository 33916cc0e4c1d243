//! Pure text and styling rules of the graph: what an edge says in each label mode, how wide and
//! which colour it is, and the requested-against-observed wording for a split. No DOM, no
//! signals, so every sentence the page shows about traffic is unit-tested natively.
//!
//! Numbers are formatted with integer arithmetic ([`fixed`]) rather than `{:.1}`: float
//! formatting machinery costs wasm size, and this keeps rounding identical everywhere.

use switchyard_protocol::{Edge, Graph, ServiceSplit, VersionSplit};

/// What the edge labels show, as in Kiali's "edge labels" menu.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LabelMode {
    /// Percent of the source's outbound requests taking this edge.
    #[default]
    Distribution,
    /// Requests per second.
    Rate,
    /// 95th percentile response time.
    ResponseTime,
    /// Percent of the edge's requests that failed.
    Errors,
}

impl LabelMode {
    pub const ALL: [LabelMode; 4] = [
        LabelMode::Distribution,
        LabelMode::Rate,
        LabelMode::ResponseTime,
        LabelMode::Errors,
    ];

    /// The name in URLs and test ids.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelMode::Distribution => "distribution",
            LabelMode::Rate => "rate",
            LabelMode::ResponseTime => "p95",
            LabelMode::Errors => "errors",
        }
    }

    pub fn parse(text: &str) -> Option<LabelMode> {
        LabelMode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The button's words.
    pub fn title(self) -> &'static str {
        match self {
            LabelMode::Distribution => "Requests distribution",
            LabelMode::Rate => "Request rate",
            LabelMode::ResponseTime => "Response time (p95)",
            LabelMode::Errors => "Error rate",
        }
    }
}

/// `value` rounded to `decimals` places (0..=3), e.g. `fixed(6.4, 2)` = `6.40`. Non-finite values
/// read as `–`.
pub fn fixed(value: f64, decimals: u32) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let decimals = decimals.min(3);
    let scale = 10_i64.pow(decimals);
    let scaled = (value * scale as f64).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    let whole = magnitude / scale as u64;
    if decimals == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = magnitude % scale as u64;
    format!(
        "{sign}{whole}.{fraction:0width$}",
        width = decimals as usize
    )
}

/// A percentage with one decimal under 10 and none above, the way people read shares: `6.4%`,
/// `19%`, `100%`.
pub fn short_percent(value: f64) -> String {
    if value.abs() < 9.95 && value.round() != value {
        format!("{}%", fixed(value, 1))
    } else {
        format!("{}%", fixed(value, 0))
    }
}

/// An edge's label in the given mode; empty when the edge has nothing to say in that mode (no
/// traffic, no latency samples), so idle edges stay quiet.
pub fn edge_label(mode: LabelMode, edge: &Edge) -> String {
    match mode {
        LabelMode::Distribution => edge
            .share
            .map(|share| format!("{}%", fixed(share, 1)))
            .unwrap_or_default(),
        LabelMode::Rate => {
            if edge.rate > 0.0 {
                format!("{} rps", fixed(edge.rate, 2))
            } else {
                String::new()
            }
        }
        LabelMode::ResponseTime => edge
            .p95_ms
            .map(|ms| format!("{} ms", fixed(ms, 0)))
            .unwrap_or_default(),
        LabelMode::Errors => {
            if edge.rate > 0.0 {
                format!("{}%", fixed(edge.error_share, 1))
            } else {
                String::new()
            }
        }
    }
}

/// Thinnest and thickest edge stroke, in pixels.
pub const MIN_WIDTH: f64 = 1.5;
pub const MAX_WIDTH: f64 = 9.0;

/// Stroke width for an edge: logarithmic in the rate relative to the busiest edge, so a 1 rps
/// edge next to a 100 rps one is still visible. An idle edge gets the thinnest stroke.
pub fn edge_width(rate: f64, max_rate: f64) -> f64 {
    if rate <= 0.0 || max_rate <= 0.0 || !rate.is_finite() {
        return MIN_WIDTH;
    }
    let ratio = (1.0 + rate).ln() / (1.0 + max_rate.max(rate)).ln();
    MIN_WIDTH + ratio.clamp(0.0, 1.0) * (MAX_WIDTH - MIN_WIDTH)
}

/// How an edge is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// No requests over the window.
    Idle,
    /// At most 0.1% errors.
    Healthy,
    /// Above 0.1% and under 10% errors.
    Degraded,
    /// 10% errors or more.
    Failing,
}

impl Health {
    /// An edge's colour, by Kiali's thresholds ([`super::vitals::health`]).
    pub fn of(edge: &Edge) -> Health {
        super::vitals::health(edge.rate, edge.error_share)
    }

    /// The word for it in tooltips and the side panel.
    pub fn word(self) -> &'static str {
        match self {
            Health::Idle => "no traffic",
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Failing => "failing",
        }
    }

    /// The CSS class (colours live in `style/graph.css`).
    pub fn class(self) -> &'static str {
        match self {
            Health::Idle => "is-idle",
            Health::Healthy => "is-healthy",
            Health::Degraded => "is-degraded",
            Health::Failing => "is-failing",
        }
    }
}

/// The version a rollout moves traffic to: the server's new subset (`new_subset`, from the
/// console's settings, when known), else version `v2`, else the last destination. Its observed
/// share is what the sparkline follows.
pub fn rollout_version<'a>(
    split: &'a ServiceSplit,
    new_subset: Option<&str>,
) -> Option<&'a VersionSplit> {
    split
        .versions
        .iter()
        .find(|v| Some(v.subset.as_str()) == new_subset)
        .or_else(|| {
            split
                .versions
                .iter()
                .find(|v| v.version.as_deref() == Some("v2"))
        })
        .or_else(|| split.versions.last())
}

/// The words of a split next to its service and in the side panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitText {
    /// `v2`, or the subset when the DestinationRule does not say.
    pub version: String,
    /// `requested 20%`.
    pub requested: String,
    /// `observed 19%`, or `no traffic yet`.
    pub observed: String,
    /// `in line`, `off by 7 points`, `settling 40%` while the window still holds traffic from
    /// before the last change, or nothing without traffic.
    pub verdict: Option<String>,
    pub agrees: Option<bool>,
    /// True while settling: neither in line nor off, whatever the numbers say.
    pub settling: bool,
}

/// Requested against observed for the rollout version of a split.
pub fn split_text(split: &ServiceSplit, new_subset: Option<&str>) -> Option<SplitText> {
    let version = rollout_version(split, new_subset)?;
    let observed = match version.observed {
        Some(observed) if split.rate > 0.0 => format!("observed {}", short_percent(observed)),
        _ => "no traffic yet".to_owned(),
    };
    let verdict = match (split.agrees, version.observed) {
        _ if split.settling.is_some() => split
            .settling
            .as_ref()
            .map(|s| format!("settling {}%", fixed(s.progress.clamp(0.0, 1.0) * 100.0, 0))),
        (Some(true), Some(_)) => Some("in line".to_owned()),
        (Some(false), Some(observed)) => Some(format!(
            "off by {} points",
            fixed((observed - version.requested).abs(), 0)
        )),
        _ => None,
    };
    Some(SplitText {
        version: version
            .version
            .clone()
            .unwrap_or_else(|| version.subset.clone()),
        requested: format!("requested {}", short_percent(version.requested)),
        observed,
        verdict,
        agrees: split.agrees,
        settling: split.settling.is_some(),
    })
}

/// The sentence a person would otherwise work out by hand, e.g. "6.4% of
/// product-composite-v1's calls reach review v2, out of the 33.3% going to review → 19% of
/// review's traffic; requested 20%, in line (±4.2 points)".
pub fn explanation(split: &ServiceSplit, graph: &Graph, new_subset: Option<&str>) -> String {
    let Some(text) = split_text(split, new_subset) else {
        return format!("{} has no weighted destinations", split.service);
    };
    let Some(version) = rollout_version(split, new_subset) else {
        return String::new();
    };
    let service = &split.service;
    let requested = short_percent(version.requested);
    let Some(observed) = version.observed.filter(|_| split.rate > 0.0) else {
        return format!(
            "{service} has had no traffic over the last {} s; requested {requested} to {}",
            graph.window_seconds, text.version
        );
    };
    let service_id = format!("svc:{}:{}", split.namespace, service);
    let callers: Vec<&str> = graph
        .edges
        .iter()
        .filter(|e| e.target == service_id)
        .map(|e| e.source.as_str())
        .collect();
    let into_service: f64 = graph
        .edges
        .iter()
        .filter(|e| e.target == service_id)
        .map(|e| e.rate)
        .sum();
    let callers_out: f64 = graph
        .edges
        .iter()
        .filter(|e| callers.contains(&e.source.as_str()))
        .map(|e| e.rate)
        .sum();
    let verdict = match &text.verdict {
        Some(verdict) => format!(", {verdict} (±{} points)", fixed(split.tolerance, 1)),
        None => String::new(),
    };
    let tail = format!(
        "{} of {service}'s traffic; requested {requested}{verdict}",
        short_percent(observed)
    );
    if callers_out <= 0.0 {
        return format!("{} → {tail}", text.version);
    }
    let service_share = into_service * 100.0 / callers_out;
    let version_share = service_share * observed / 100.0;
    let whose = match callers.as_slice() {
        [one] => format!("{}'s", node_name(one)),
        _ => "its callers'".to_owned(),
    };
    format!(
        "{}% of {whose} calls reach {service} {}, out of the {}% going to {service} → {tail}",
        fixed(version_share, 1),
        text.version,
        fixed(service_share, 1)
    )
}

/// The readable part of a node id: `wl:hands-on:review-v1` → `review-v1`.
pub fn node_name(id: &str) -> &str {
    id.rsplit(':').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::MetricsStatus;

    fn edge(source: &str, target: &str, rate: f64, share: Option<f64>) -> Edge {
        Edge {
            id: format!("{source}->{target}"),
            source: source.into(),
            target: target.into(),
            rate,
            share,
            error_share: 0.0,
            p95_ms: None,
        }
    }

    fn review_split(observed: Option<f64>, agrees: Option<bool>, rate: f64) -> ServiceSplit {
        ServiceSplit {
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
                    observed: observed.map(|o| 100.0 - o),
                },
                VersionSplit {
                    subset: "new".into(),
                    version: Some("v2".into()),
                    requested: 20.0,
                    observed,
                },
            ],
            rate,
            samples: rate * 30.0,
            tolerance: 4.2,
            agrees,
            settling: None,
        }
    }

    #[test]
    fn fixed_rounds_with_integers() {
        let cases = [
            (6.4, 2, "6.40"),
            (33.333, 1, "33.3"),
            (19.2, 0, "19"),
            (0.05, 1, "0.1"),
            (-1.25, 1, "-1.3"),
            (100.0, 1, "100.0"),
            (0.004, 2, "0.00"),
            (f64::NAN, 1, "–"),
        ];
        for (value, decimals, expected) in cases {
            assert_eq!(fixed(value, decimals), expected, "{value} to {decimals}");
        }
        assert_eq!(short_percent(6.4), "6.4%");
        assert_eq!(short_percent(19.2), "19%");
        assert_eq!(short_percent(20.0), "20%");
        assert_eq!(short_percent(0.0), "0%");
        assert_eq!(short_percent(9.96), "10%");
    }

    #[test]
    fn edge_labels_follow_the_mode() {
        let mut e = edge("a", "b", 6.4, Some(33.333));
        e.p95_ms = Some(47.6);
        e.error_share = 5.0;
        let labels: Vec<String> = LabelMode::ALL.iter().map(|&m| edge_label(m, &e)).collect();
        assert_eq!(labels, ["33.3%", "6.40 rps", "48 ms", "5.0%"]);
        let idle = edge("a", "b", 0.0, None);
        for mode in LabelMode::ALL {
            assert_eq!(edge_label(mode, &idle), "", "{mode:?}");
        }
    }

    #[test]
    fn modes_round_trip_through_their_names() {
        for mode in LabelMode::ALL {
            assert_eq!(LabelMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(LabelMode::parse("bogus"), None);
    }

    #[test]
    fn width_grows_with_rate_within_bounds() {
        assert_eq!(edge_width(0.0, 10.0), MIN_WIDTH);
        assert_eq!(edge_width(10.0, 10.0), MAX_WIDTH);
        let (one, five, ten) = (
            edge_width(1.0, 100.0),
            edge_width(5.0, 100.0),
            edge_width(10.0, 100.0),
        );
        assert!(MIN_WIDTH < one && one < five && five < ten && ten < MAX_WIDTH);
        assert_eq!(edge_width(500.0, 100.0), MAX_WIDTH);
        assert_eq!(edge_width(f64::NAN, 100.0), MIN_WIDTH);
    }

    #[test]
    fn colour_by_error_share() {
        let mut e = edge("a", "b", 1.0, Some(100.0));
        let table = [
            (0.0, Health::Healthy),
            (0.1, Health::Healthy),
            (0.2, Health::Degraded),
            (9.9, Health::Degraded),
            (10.0, Health::Failing),
        ];
        for (errors, health) in table {
            e.error_share = errors;
            assert_eq!(Health::of(&e), health, "{errors}%");
        }
        e.rate = 0.0;
        assert_eq!(Health::of(&e), Health::Idle);
    }

    #[test]
    fn split_text_says_requested_observed_and_verdict() {
        let text = split_text(&review_split(Some(19.2), Some(true), 20.0), NEW).unwrap();
        assert_eq!(text.version, "v2");
        assert_eq!(text.requested, "requested 20%");
        assert_eq!(text.observed, "observed 19%");
        assert_eq!(text.verdict.as_deref(), Some("in line"));

        let off = split_text(&review_split(Some(31.0), Some(false), 20.0), NEW).unwrap();
        assert_eq!(off.verdict.as_deref(), Some("off by 11 points"));

        let idle = split_text(&review_split(None, None, 0.0), NEW).unwrap();
        assert_eq!(idle.observed, "no traffic yet");
        assert_eq!(idle.verdict, None);
    }

    /// Right after a change the window still holds the old traffic: the numbers are shown, the
    /// verdict is neither in line nor off, and says how far the window has come.
    #[test]
    fn a_settling_split_is_no_verdict_either_way() {
        let mut split = review_split(Some(2.0), None, 20.0);
        split.settling = Some(switchyard_protocol::Settling {
            since: 100.0,
            until: 130.0,
            progress: 0.4,
        });
        let text = split_text(&split, NEW).unwrap();
        assert_eq!(text.observed, "observed 2%");
        assert_eq!(text.verdict.as_deref(), Some("settling 40%"));
        assert!(text.settling);
        assert_eq!(text.agrees, None);
    }

    /// The demo's (and the server's default) name of the new subset.
    const NEW: Option<&str> = Some("new");

    #[test]
    fn rollout_version_prefers_new_then_v2_then_last() {
        let mut split = review_split(None, None, 0.0);
        assert_eq!(rollout_version(&split, NEW).unwrap().subset, "new");
        split.versions[1].subset = "canary".into();
        assert_eq!(rollout_version(&split, NEW).unwrap().subset, "canary");
        split.versions[1].version = Some("v3".into());
        assert_eq!(rollout_version(&split, NEW).unwrap().subset, "canary");
        // The server's name for new wins over version v2, whatever it is.
        let mut named = review_split(None, None, 0.0);
        named.versions[0].subset = "green".into();
        assert_eq!(
            rollout_version(&named, Some("green")).unwrap().subset,
            "green"
        );
        assert_eq!(rollout_version(&named, None).unwrap().subset, "new");
        split.versions.clear();
        assert!(split_text(&split, NEW).is_none());
    }

    #[test]
    fn explanation_works_the_numbers_out() {
        let caller = "wl:hands-on:product-composite-v1";
        let graph = Graph {
            edges: vec![
                edge(caller, "svc:hands-on:product", 20.0, Some(33.3)),
                edge(caller, "svc:hands-on:recommendation", 20.0, Some(33.3)),
                edge(caller, "svc:hands-on:review", 20.0, Some(33.3)),
            ],
            window_seconds: 30,
            metrics: MetricsStatus::default(),
            ..Graph::default()
        };
        assert_eq!(
            explanation(&review_split(Some(19.2), Some(true), 20.0), &graph, NEW),
            "6.4% of product-composite-v1's calls reach review v2, out of the 33.3% going to \
             review → 19% of review's traffic; requested 20%, in line (±4.2 points)"
        );
        assert_eq!(
            explanation(&review_split(None, None, 0.0), &graph, NEW),
            "review has had no traffic over the last 30 s; requested 20% to v2"
        );
    }
}
