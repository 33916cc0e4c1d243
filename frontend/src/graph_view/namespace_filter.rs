//! Shows one namespace of the graph, or all; the choice is kept in the URL.

use super::{namespaces, test_ids};
use crate::state::{graph::use_graph, view_url::use_view};
use leptos::prelude::*;

#[component]
pub fn NamespaceFilter() -> impl IntoView {
    let store = use_graph();
    let view = use_view();
    let choices = Memo::new(move |_| {
        let mut all = store
            .graph
            .with(|g| g.as_ref().map(namespaces).unwrap_or_default());
        // A namespace from a link stays choosable even before (or without) traffic in it.
        if let Some(chosen) = view.0.with(|v| v.namespace.clone()) {
            if !all.contains(&chosen) {
                all.push(chosen);
            }
        }
        all
    });
    let chosen = move || view.0.with(|v| v.namespace.clone().unwrap_or_default());
    view! {
        <label class="graph-namespace">
            <span>"Namespace"</span>
            <select
                data-testid=test_ids::NAMESPACE_FILTER
                prop:value=chosen
                on:change=move |event| {
                    let value = event_target_value(&event);
                    view.0.update(|v| v.namespace = (!value.is_empty()).then_some(value));
                }
            >
                <option value="">"all"</option>
                {move || {
                    choices
                        .get()
                        .into_iter()
                        .map(|ns| {
                            let selected = chosen() == ns;
                            view! { <option value=ns.clone() selected=selected>{ns.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
