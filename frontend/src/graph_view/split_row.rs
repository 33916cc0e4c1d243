//! One weighted service in the side panel: "v2: requested 20% · observed 19% · in line", the
//! sentence behind it, each version's share with its errors and p95 (coloured by health), and
//! the sparkline. Clicking the name selects the service.

use super::{
    label::{explanation, rollout_version, short_percent, split_text},
    sparkline::Sparkline,
    test_ids, use_graph_data,
    vitals::version_vitals,
};
use crate::state::graph::HORIZON_SECONDS;
use crate::state::{graph::use_graph, settings::use_settings, view_url::use_view};
use leptos::prelude::*;

#[component]
pub fn SplitRow(service_id: String) -> impl IntoView {
    let data = use_graph_data();
    let store = use_graph();
    let view = use_view();
    let split = {
        let id = service_id.clone();
        Memo::new(move |_| data.splits.with(|s| s.get(&id).cloned()))
    };
    let (namespace, service, virtual_service) = split.with_untracked(|s| {
        s.as_ref()
            .map(|s| {
                (
                    s.namespace.clone(),
                    s.service.clone(),
                    s.virtual_service.clone(),
                )
            })
            .unwrap_or_default()
    });
    let settings = use_settings();
    // The server's name of the new subset, once known.
    let new_subset = move || {
        settings
            .subsets
            .with(|s| s.as_ref().map(|s| s.new_name().to_owned()))
    };
    let text = Memo::new(move |_| {
        let new_subset = new_subset();
        split.with(|s| {
            s.as_ref()
                .and_then(|s| split_text(s, new_subset.as_deref()))
        })
    });
    let sentence = move || {
        let new_subset = new_subset();
        split.with(|s| {
            s.as_ref()
                .map(|s| {
                    data.graph
                        .with(|g| explanation(s, g, new_subset.as_deref()))
                })
                .unwrap_or_default()
        })
    };
    let samples = {
        let key = (namespace.clone(), service.clone());
        Signal::derive(move || store.history.with(|h| h.samples(&key)))
    };
    let end = Signal::derive(move || store.history.with(|h| h.latest()));
    let changes = {
        let (namespace, virtual_service) = (namespace.clone(), virtual_service.clone());
        Signal::derive(move || {
            let since = end.get() - HORIZON_SECONDS;
            store
                .changes
                .with(|c| c.of(&namespace, &virtual_service, since))
        })
    };
    let requested = Signal::derive(move || {
        let new_subset = new_subset();
        split.with(|s| {
            s.as_ref()
                .and_then(|s| rollout_version(s, new_subset.as_deref()))
                .map(|v| v.requested)
        })
    });
    let selected = {
        let id = service_id.clone();
        move || view.0.with(|v| v.select.as_deref() == Some(id.as_str()))
    };
    let select = {
        let id = service_id.clone();
        move |_| view.0.update(|v| v.select = Some(id.clone()))
    };
    let versions = {
        let service = service.clone();
        move || {
            split.with(|s| {
                let Some(s) = s.as_ref() else {
                    return Vec::new();
                };
                s.versions
                    .iter()
                    .map(|v| {
                        let vitals = data.graph.with(|g| version_vitals(g, s, v));
                        let name = v.version.clone().unwrap_or_else(|| v.subset.clone());
                        let observed = match v.observed {
                            Some(o) if s.rate > 0.0 => format!(" (observed {})", short_percent(o)),
                            _ => String::new(),
                        };
                        view! {
                            <li
                                class=format!("split-row-version-health {}", vitals.health().class())
                                data-testid=test_ids::version_health(&service, &v.subset)
                            >
                                <span class="split-row-version-name">{name}</span>
                                {format!(" {}{observed} · ", short_percent(v.requested))}
                                <span class="split-row-vitals">{vitals.summary()}</span>
                            </li>
                        }
                    })
                    .collect::<Vec<_>>()
            })
        }
    };
    let verdict_class = move || {
        text.with(|t| match t.as_ref().and_then(|t| t.agrees) {
            Some(true) => "split-row-verdict is-in-line",
            Some(false) => "split-row-verdict is-off",
            None => "split-row-verdict",
        })
    };

    view! {
        <li
            class=move || if selected() { "split-row is-selected" } else { "split-row" }
            data-testid=test_ids::split_panel(&service)
        >
            <p class="split-row-head">
                // Services of the same name live in several namespaces (the gateway demo's).
                <span class="split-row-namespace">{format!("{namespace} /")}</span>
                <button type="button" class="split-row-name" on:click=select>
                    {service.clone()}
                </button>
                <span class="split-row-version">
                    {move || text.with(|t| t.as_ref().map(|t| t.version.clone()).unwrap_or_default())}
                </span>
            </p>
            <p class="split-row-numbers">
                <span>{move || text.with(|t| t.as_ref().map(|t| t.requested.clone()).unwrap_or_default())}</span>
                " · "
                <span>{move || text.with(|t| t.as_ref().map(|t| t.observed.clone()).unwrap_or_default())}</span>
                <span class=verdict_class>
                    {move || text.with(|t| t.as_ref().and_then(|t| t.verdict.clone()).unwrap_or_default())}
                </span>
            </p>
            <ul class="split-row-versions" aria-label=format!("{service}'s versions: share, errors, p95")>
                {versions}
            </ul>
            <Sparkline service=service.clone() samples changes requested end />
            <p class="split-row-explanation" data-testid=test_ids::explanation(&service)>
                {sentence}
            </p>
        </li>
    }
}
