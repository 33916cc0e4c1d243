//! One edge: a curve from the right side of its source to the left side of its target, with an
//! arrowhead, width by request rate, colour by error share, and a label in the chosen mode.

use super::{
    label::{edge_label, edge_width, fixed, Health},
    layout::NODE_WIDTH,
    test_ids, use_graph_data,
};
use crate::state::view_url::use_view;
use leptos::prelude::*;

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

#[component]
pub fn GraphEdge(id: String) -> impl IntoView {
    let data = use_graph_data();
    let view = use_view();
    let edge = {
        let id = id.clone();
        Memo::new(move |_| data.edges.with(|e| e.get(&id).cloned()))
    };
    let (source, target) = edge.with_untracked(|e| {
        e.as_ref()
            .map(|e| (e.source.clone(), e.target.clone()))
            .unwrap_or_default()
    });
    let shape = {
        let (source, target) = (source.clone(), target.clone());
        Memo::new(move |_| {
            data.positions
                .with(|p| match (p.point(&source), p.point(&target)) {
                    (Some(s), Some(t)) => Some(geometry(s, t)),
                    _ => None,
                })
        })
    };
    let health = Memo::new(move |_| edge.with(|e| e.as_ref().map_or(Health::Idle, Health::of)));
    let width = move || {
        let rate = edge.with(|e| e.as_ref().map_or(0.0, |e| e.rate));
        fixed(edge_width(rate, data.max_rate.get()), 1)
    };
    let label = move || {
        let mode = view.0.with(|v| v.mode);
        edge.with(|e| e.as_ref().map(|e| edge_label(mode, e)).unwrap_or_default())
    };
    let title = move || {
        edge.with(|e| {
            e.as_ref()
                .map(|e| {
                    format!(
                        "{} → {}: {} rps, {}% errors",
                        e.source,
                        e.target,
                        fixed(e.rate, 2),
                        fixed(e.error_share, 1)
                    )
                })
                .unwrap_or_default()
        })
    };

    view! {
        <g class=move || format!("graph-edge {}", health.get().class())>
            <path
                class="graph-edge-line"
                data-testid=test_ids::edge(&source, &target)
                d=move || shape.with(|s| s.as_ref().map(|s| s.0.clone()).unwrap_or_default())
                stroke-width=width
                marker-end=move || format!("url(#arrow-{})", health.get().class())
            >
                <title>{title}</title>
            </path>
            <text
                class="graph-edge-label"
                data-testid=test_ids::edge_label(&source, &target)
                x=move || shape.with(|s| s.as_ref().map(|s| s.1 .0).unwrap_or_default())
                y=move || shape.with(|s| s.as_ref().map(|s| s.1 .1 - 5).unwrap_or_default())
                text-anchor="middle"
            >
                {label}
            </text>
        </g>
    }
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
}
