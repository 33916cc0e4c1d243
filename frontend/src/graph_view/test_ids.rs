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
/// Milliseconds from handing the page a refresh that changes every edge until it was drawn.
pub const BENCH_REFRESH_MS: &str = "bench-refresh-ms";
/// Milliseconds from the start of the frame that got a refresh of every edge to the start of
/// the next one (one frame, 16.7 ms at 60 Hz, when the refresh fits in it).
pub const BENCH_REFRESH_FRAME_MS: &str = "bench-refresh-frame-ms";
/// Milliseconds of script work (the page's effects) for that refresh.
pub const BENCH_REFRESH_WORK_MS: &str = "bench-refresh-work-ms";
/// Milliseconds from a label-mode switch until it was drawn.
pub const BENCH_LABEL_MS: &str = "bench-label-ms";
/// Frames per second during a scripted zoom and pan (from requestAnimationFrame timestamps).
pub const BENCH_FPS: &str = "bench-fps";
/// The longest frame of the scripted zoom and pan, in ms.
pub const BENCH_WORST_FRAME_MS: &str = "bench-worst-frame-ms";
/// Milliseconds from the end of the gesture until the sharp redraw at the new zoom was drawn.
pub const BENCH_SETTLE_MS: &str = "bench-settle-ms";
/// How many SVG elements the drawn graph has.
pub const BENCH_ELEMENTS: &str = "bench-elements";

/// The panel the graph is drawn in (pan with the pointer, zoom with the wheel or `+`/`-`/`0`).
pub const GRAPH_VIEWPORT: &str = "graph-viewport";
/// Zoom buttons of the panel.
pub const ZOOM_IN: &str = "zoom-in";
pub const ZOOM_OUT: &str = "zoom-out";
pub const ZOOM_FIT: &str = "zoom-fit";
/// Finds services, versions and namespaces (`ns:`, `v:`, `svc:` narrow a term).
pub const GRAPH_SEARCH: &str = "graph-search";
/// "3 matches" under the search.
pub const SEARCH_COUNT: &str = "graph-search-count";
/// The disclosure holding the numeric filters and the collapse controls (closed unless a
/// numeric filter is set).
pub const FIND_MORE: &str = "graph-find-more";
/// "only services with a weighted route".
pub const FILTER_WEIGHTED: &str = "filter-weighted";
/// "errors above N %" (empty: off).
pub const FILTER_ERRORS: &str = "filter-errors";
/// "p95 above N ms" (empty: off).
pub const FILTER_P95: &str = "filter-p95";
/// Collapses the chosen namespace into one node.
pub const COLLAPSE_NAMESPACE: &str = "collapse-namespace";
/// Collapses the selected service's app (the service and its versions) into one node.
pub const COLLAPSE_APP: &str = "collapse-app";
/// Switches between the drawing and the list of services (`aria-pressed` in the list).
pub const LIST_TOGGLE: &str = "graph-list-toggle";
/// The list view's table.
pub const LIST_VIEW: &str = "graph-list";

/// A search result, zooms to its node (and selects a service): `search-result-{id}`.
pub fn search_result(id: &str) -> String {
    format!("search-result-{id}")
}

/// Expands a collapsed group: `expand-{ns:NS|app:NS:APP}`.
pub fn expand(key: &str) -> String {
    format!("expand-{key}")
}

/// One service's row in the list view: `list-row-{id}`.
pub fn list_row(id: &str) -> String {
    format!("list-row-{id}")
}

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
