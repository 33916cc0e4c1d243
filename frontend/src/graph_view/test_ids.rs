//! The `data-testid` values of the graph view, in one place so the browser tests and the
//! components cannot drift apart. `tests/README.md` lists them for people.
//!
//! Node ids are used as they are (`svc:hands-on:review`): attribute selectors quote them, so the
//! colons need no escaping. `{service}` is a service's name without its namespace.

/// The `<svg>` of the graph.
pub const GRAPH: &str = "graph";
/// "metrics stale since …" when the last metrics refresh failed.
pub const METRICS_BANNER: &str = "metrics-banner";
/// The namespace `<select>`.
pub const NAMESPACE_FILTER: &str = "graph-namespace";
/// The VirtualService card opened by clicking a service.
pub const SELECTED_SERVICE: &str = "selected-service";
/// Closes the selected service's card.
pub const CLOSE_SELECTED: &str = "close-selected";
/// Pauses the graph (and resumes it: the same button, `aria-pressed` when paused).
pub const GRAPH_PAUSE: &str = "graph-pause";
/// Shows the server's latest snapshot now, paused or not.
pub const GRAPH_REFRESH: &str = "graph-refresh";
/// "paused at the HH:MM:SS UTC snapshot…" while paused; empty otherwise.
pub const GRAPH_PAUSED_NOTE: &str = "graph-paused-note";
/// The snapshot's time and window above the graph.
pub const GRAPH_UPDATED: &str = "graph-updated";
/// Downloads the graph as `switchyard-graph.svg`.
pub const EXPORT_SVG: &str = "export-svg";
/// Downloads the graph as `switchyard-graph.png`.
pub const EXPORT_PNG: &str = "export-png";
/// Milliseconds from handing the synthetic graph to the page until the frame after it was drawn
/// (only with `?bench=N`).
pub const BENCH_RENDER_MS: &str = "bench-render-ms";
/// Milliseconds the layout of the synthetic graph took in wasm (only with `?bench=N`).
pub const BENCH_LAYOUT_MS: &str = "bench-layout-ms";

/// One node: `graph-node-{id}`.
pub fn node(id: &str) -> String {
    format!("graph-node-{id}")
}

/// One edge's path: `graph-edge-{source}--{target}`.
pub fn edge(source: &str, target: &str) -> String {
    format!("graph-edge-{source}--{target}")
}

/// One edge's label: `edge-label-{source}--{target}`.
pub fn edge_label(source: &str, target: &str) -> String {
    format!("edge-label-{source}--{target}")
}

/// A label-mode button: `label-mode-{distribution|rate|p95|errors}`.
pub fn label_mode(mode: &str) -> String {
    format!("label-mode-{mode}")
}

/// Requested-against-observed under a service on the graph: `split-{service}`.
pub fn split(service: &str) -> String {
    format!("split-{service}")
}

/// "requested 20%" on the graph: `requested-{service}`.
pub fn requested(service: &str) -> String {
    format!("requested-{service}")
}

/// "observed 19%" or "no traffic yet" on the graph: `observed-{service}`.
pub fn observed(service: &str) -> String {
    format!("observed-{service}")
}

/// "in line" / "off by N points" on the graph: `verdict-{service}`.
pub fn verdict(service: &str) -> String {
    format!("verdict-{service}")
}

/// The rollout version's errors and p95 under a service on the graph, coloured by health:
/// `split-health-{service}` (class `is-healthy`, `is-degraded`, `is-failing` or `is-idle`).
pub fn split_health(service: &str) -> String {
    format!("split-health-{service}")
}

/// One version's share, errors and p95 in the side panel: `version-health-{service}-{subset}`
/// (class as [`split_health`]).
pub fn version_health(service: &str, subset: &str) -> String {
    format!("version-health-{service}-{subset}")
}

/// The current value and time span under a sparkline: `sparkline-caption-{service}`.
pub fn sparkline_caption(service: &str) -> String {
    format!("sparkline-caption-{service}")
}

/// One service's entry in the side panel: `split-panel-{service}`.
pub fn split_panel(service: &str) -> String {
    format!("split-panel-{service}")
}

/// The side panel's worked-out sentence: `explanation-{service}`.
pub fn explanation(service: &str) -> String {
    format!("explanation-{service}")
}

/// The sparkline of the observed rollout share: `sparkline-{service}`.
pub fn sparkline(service: &str) -> String {
    format!("sparkline-{service}")
}

/// A weight-change marker on a sparkline: `change-marker-{service}`.
pub fn change_marker(service: &str) -> String {
    format!("change-marker-{service}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_documented_shapes() {
        assert_eq!(
            node("svc:hands-on:review"),
            "graph-node-svc:hands-on:review"
        );
        assert_eq!(
            edge("svc:hands-on:review", "wl:hands-on:review-v2"),
            "graph-edge-svc:hands-on:review--wl:hands-on:review-v2"
        );
        assert_eq!(label_mode("p95"), "label-mode-p95");
        assert_eq!(split("review"), "split-review");
        assert_eq!(sparkline("review"), "sparkline-review");
    }
}
