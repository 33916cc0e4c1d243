//! Requested against observed under a weighted service on the graph: "requested 20% · observed
//! 19%", "v2 in line" (or "off by N points", or nothing without traffic), and the rollout
//! version's errors and p95, coloured by its health (Kiali's thresholds, `vitals.rs`).

use super::{
    label::{rollout_version, split_text},
    layout::NODE_HEIGHT,
    test_ids, use_graph_data,
    vitals::{version_vitals, Vitals},
};
use crate::state::settings::use_settings;
use leptos::prelude::*;

#[component]
pub fn SplitBadge(service_id: String) -> impl IntoView {
    let data = use_graph_data();
    let split = {
        let id = service_id.clone();
        Memo::new(move |_| data.splits.with(|s| s.get(&id).cloned()))
    };
    let settings = use_settings();
    let text = Memo::new(move |_| {
        settings.subsets.with(|subsets| {
            let new_subset = subsets.as_ref().map(|s| s.new_name());
            split.with(|s| s.as_ref().and_then(|s| split_text(s, new_subset)))
        })
    });
    let vitals = Memo::new(move |_| {
        settings.subsets.with(|subsets| {
            let new_subset = subsets.as_ref().map(|s| s.new_name());
            split.with(|s| {
                let s = s.as_ref()?;
                let version = rollout_version(s, new_subset)?;
                let name = version
                    .version
                    .clone()
                    .unwrap_or_else(|| version.subset.clone());
                Some((name, data.graph.with(|g| version_vitals(g, s, version))))
            })
        })
    });
    let health_class = move || {
        vitals.with(|v| {
            format!(
                "graph-split-health {}",
                v.as_ref()
                    .map_or("is-idle", |(_, v): &(String, Vitals)| v.health().class())
            )
        })
    };
    let point = {
        let id = service_id.clone();
        Memo::new(move |_| data.positions.with(|p| p.point(&id)))
    };
    let service =
        split.with_untracked(|s| s.as_ref().map(|s| s.service.clone()).unwrap_or_default());
    let verdict_class = move || {
        text.with(|t| match t.as_ref().and_then(|t| t.agrees) {
            Some(true) => "graph-split-verdict is-in-line",
            Some(false) => "graph-split-verdict is-off",
            None => "graph-split-verdict",
        })
    };
    let line = move |f: fn(&super::label::SplitText) -> String| {
        move || text.with(|t| t.as_ref().map(f).unwrap_or_default())
    };

    view! {
        <g
            class="graph-split"
            transform=move || {
                point.get().map(|(x, y)| format!("translate({x},{})", y + NODE_HEIGHT / 2)).unwrap_or_default()
            }
            style=move || if point.get().is_none() { "display: none" } else { "" }
        >
            <text class="graph-split-text" data-testid=test_ids::split(&service) y=14 text-anchor="middle">
                <tspan data-testid=test_ids::requested(&service)>{line(|t| t.requested.clone())}</tspan>
                " · "
                <tspan data-testid=test_ids::observed(&service)>{line(|t| t.observed.clone())}</tspan>
            </text>
            <text y=28 text-anchor="middle" class=verdict_class data-testid=test_ids::verdict(&service)>
                {move || {
                    text.with(|t| {
                        t.as_ref()
                            .and_then(|t| t.verdict.as_ref().map(|v| format!("{} {v}", t.version)))
                            .unwrap_or_default()
                    })
                }}
            </text>
            <text y=42 text-anchor="middle" class=health_class data-testid=test_ids::split_health(&service)>
                {move || vitals.with(|v| v.as_ref().map(|(name, v)| format!("{name} {}", v.summary())).unwrap_or_default())}
            </text>
        </g>
    }
}
