//! What the graph's shapes, widths and colours mean (health: Kiali's thresholds, `vitals.rs`).

use super::label::{MAX_WIDTH, MIN_WIDTH};
use leptos::prelude::*;

#[component]
pub fn Legend() -> impl IntoView {
    let line = |class: &'static str, width: f64, text: &'static str| {
        view! {
            <li class="graph-legend-item">
                <svg width="40" height="14" aria-hidden="true">
                    <line class=format!("graph-edge-line {class}") x1="2" x2="38" y1="7" y2="7" stroke-width=width.to_string() />
                </svg>
                {text}
            </li>
        }
    };
    view! {
        <footer class="graph-legend" aria-label="legend">
            <ul class="graph-legend-group">
                <li class="graph-legend-item">
                    <svg width="40" height="18" aria-hidden="true" class="graph-node is-service">
                        <rect class="graph-node-shape" x="2" y="2" width="36" height="14" rx="7" />
                    </svg>
                    "service (click for its weights)"
                </li>
                <li class="graph-legend-item">
                    <svg width="40" height="18" aria-hidden="true" class="graph-node is-workload">
                        <rect class="graph-node-shape" x="2" y="2" width="36" height="14" rx="2" />
                    </svg>
                    "workload (version)"
                </li>
                <li class="graph-legend-item">
                    <svg width="40" height="18" aria-hidden="true" class="graph-node is-entry">
                        <circle class="graph-node-shape" cx="20" cy="9" r="7" />
                    </svg>
                    "entry (outside the mesh)"
                </li>
            </ul>
            <ul class="graph-legend-group">
                {line("is-healthy", MIN_WIDTH, "few requests")}
                {line("is-healthy", MAX_WIDTH, "the busiest edge (width grows with the log of the rate)")}
            </ul>
            <ul class="graph-legend-group">
                {line("is-healthy", 3.0, "at most 0.1% errors")}
                {line("is-degraded", 3.0, "above 0.1% errors")}
                {line("is-failing", 3.0, "10% errors or more")}
                {line("is-idle", 3.0, "no traffic in the window (dashed)")}
                <li class="graph-legend-item">"nodes and versions take the same colours"</li>
            </ul>
        </footer>
    }
}
