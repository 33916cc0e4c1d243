//! Pure: the shape and words of one edge (drawn by `scene.rs`): a curve from the right side of
//! its source to the left side of its target, with an arrowhead, width by request rate, colour
//! by error share, and a label in the chosen mode. An edge without traffic (a route at weight 0)
//! is the dashed "no traffic" line of the legend.

use super::{
    label::{fixed, node_name},
    layout::NODE_WIDTH,
    vitals::error_percent,
};
use switchyard_protocol::Edge;

/// A node's name for people: `entry` is "outside the mesh", ids lose their kind and namespace.
fn endpoint(id: &str) -> &str {
    match id {
        "entry" => "outside the mesh",
        "unknown" => "no workload",
        _ => node_name(id),
    }
}

/// The tooltip: "review → review-v2: 4.00 rps, 0.40% errors, p95 12 ms", no internal ids.
pub fn tooltip(edge: &Edge) -> String {
    let ends = format!("{} → {}", endpoint(&edge.source), endpoint(&edge.target));
    if edge.rate <= 0.0 {
        return format!("{ends}: no traffic in the window");
    }
    let p95 = edge
        .p95_ms
        .map(|ms| format!(", p95 {} ms", fixed(ms, 0)))
        .unwrap_or_default();
    let share = edge
        .share
        .map(|s| format!(", {}% of what its source sends", fixed(s, 1)))
        .unwrap_or_default();
    format!(
        "{ends}: {} rps{share}, {} errors{p95}",
        fixed(edge.rate, 2),
        error_percent(edge.error_share)
    )
}

/// The SVG path of an edge between two node centres, and where its label goes.
pub fn geometry(source: (i64, i64), target: (i64, i64)) -> (String, (i64, i64)) {
    let (x1, y1) = (source.0 + NODE_WIDTH / 2, source.1);
    let (x2, y2) = (target.0 - NODE_WIDTH / 2, target.1);
    // Horizontal tangents at both ends; a backward edge (a cycle) swings out wider.
    let bend = ((x2 - x1) / 2).max(60);
    let path = format!(
        "M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}",
        x1 + bend,
        x2 - bend
    );
    // The midpoint of this cubic Bézier is the mean of its ends (the control points cancel).
    (path, ((x1 + x2) / 2, (y1 + y2) / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_leave_right_and_enter_left() {
        let (path, mid) = geometry((100, 50), (600, 150));
        let (x1, x2) = (100 + NODE_WIDTH / 2, 600 - NODE_WIDTH / 2);
        assert!(path.starts_with(&format!("M {x1} 50 C")));
        assert!(path.ends_with(&format!("{x2} 150")));
        assert_eq!(mid, ((x1 + x2) / 2, 100));
        // Backwards (a cycle) still curves outwards.
        let (back, _) = geometry((600, 50), (100, 150));
        assert!(back.contains(&format!("C {} 50", 600 + NODE_WIDTH / 2 + 60)));
    }

    #[test]
    fn tooltips_name_things_as_people_do() {
        let mut e = Edge {
            id: "entry->svc:hands-on:product".into(),
            source: "entry".into(),
            target: "svc:hands-on:product".into(),
            rate: 4.0,
            share: Some(100.0),
            error_share: 0.4,
            p95_ms: Some(12.2),
        };
        assert_eq!(
            tooltip(&e),
            "outside the mesh → product: 4.00 rps, 100.0% of what its source sends, 0.40% errors, p95 12 ms"
        );
        e.rate = 0.0;
        assert_eq!(
            tooltip(&e),
            "outside the mesh → product: no traffic in the window"
        );
    }
}
