//! Pure: the words of one node of the graph (drawn by `scene.rs`: services as rounded pills,
//! workloads as boxes with their version, entry as a circle, unknown as a dashed box): its
//! shortened name, its caption, and the tooltip that says its traffic and health in words.

use super::{
    label::fixed,
    vitals::{error_percent, Vitals},
};
use switchyard_protocol::{Node, NodeKind};

/// Longest name drawn in full inside a node; longer ones end in `…` (the tooltip has it all).
const MAX_NAME: usize = 22;

pub fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(MAX_NAME - 1).collect();
        short.push('…');
        short
    }
}

/// Second line of a node: the version of a workload, the kind of anything else.
pub fn caption(node: &Node) -> String {
    match node.kind {
        NodeKind::Workload => match &node.version {
            Some(version) => format!("{version} · {} rps", fixed(node.rate_in, 1)),
            None => format!("workload · {} rps", fixed(node.rate_in, 1)),
        },
        NodeKind::Service => format!("service · {} rps", fixed(node.rate_in, 1)),
        NodeKind::Entry => "outside the mesh".to_owned(),
        NodeKind::Unknown => "no workload".to_owned(),
    }
}

/// The tooltip: what the node is and its traffic in words, without internal ids. `vitals` is the
/// traffic into it; `out_rate` what it sent (only the entry uses it).
pub fn tooltip(node: &Node, vitals: &Vitals, out_rate: f64) -> String {
    let traffic = if vitals.rate > 0.0 {
        let p95 = vitals
            .p95_ms
            .map(|ms| format!(", p95 {} ms", fixed(ms, 0)))
            .unwrap_or_default();
        format!(
            "{} rps in, {} errors{p95} ({})",
            fixed(vitals.rate, 1),
            error_percent(vitals.errors),
            vitals.health().word()
        )
    } else {
        "no traffic in the window".to_owned()
    };
    match node.kind {
        NodeKind::Entry => format!(
            "Traffic from outside the mesh (load generator or an ingress without a sidecar): {} rps out",
            fixed(out_rate, 1)
        ),
        NodeKind::Unknown => format!("Requests that reached no workload: {traffic}"),
        NodeKind::Service => format!(
            "Service {} in {}: {traffic}. Click for its weights.",
            node.name, node.namespace
        ),
        NodeKind::Workload => {
            let of = match (&node.version, &node.app) {
                (Some(version), Some(app)) => format!(" (version {version} of {app})"),
                (Some(version), None) => format!(" (version {version})"),
                _ => String::new(),
            };
            format!(
                "Workload {}{of} in {}: {traffic}",
                node.name, node.namespace
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened() {
        assert_eq!(shorten("review-v2"), "review-v2");
        let long = "a-very-long-workload-name-v1";
        let short = shorten(long);
        assert_eq!(short.chars().count(), MAX_NAME);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn captions_say_version_and_rate() {
        let node = Node {
            id: "wl:h:review-v2".into(),
            kind: NodeKind::Workload,
            namespace: "h".into(),
            name: "review-v2".into(),
            app: Some("review".into()),
            version: Some("v2".into()),
            rate_in: 3.96,
        };
        assert_eq!(caption(&node), "v2 · 4.0 rps");
        let vitals = Vitals {
            rate: 3.96,
            errors: 6.8,
            p95_ms: Some(31.4),
        };
        assert_eq!(
            tooltip(&node, &vitals, 0.0),
            "Workload review-v2 (version v2 of review) in h: 4.0 rps in, 6.8% errors, p95 31 ms (degraded)"
        );
        let entry = Node {
            id: "entry".into(),
            kind: NodeKind::Entry,
            namespace: String::new(),
            name: "entry".into(),
            app: None,
            version: None,
            rate_in: 0.0,
        };
        let text = tooltip(&entry, &vitals, 12.0);
        assert!(text.starts_with("Traffic from outside the mesh"), "{text}");
        assert!(!text.contains("()") && !text.contains("entry"), "{text}");
    }
}
