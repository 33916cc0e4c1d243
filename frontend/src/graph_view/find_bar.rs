//! Find and hide above the graph (as Kiali's): a search by service, version or namespace whose
//! first matches are buttons that zoom to their node (a service also opens its weight card);
//! filters that hide every service but those with a weighted route, with errors above N % or a
//! p95 above N ms; collapsing a namespace or the selected service's app into one node, and the
//! collapsed groups as buttons that expand them; the switch to the list view. All of it is kept
//! in the URL.

use super::{
    find::{search, Group},
    graph_canvas::{focus_node, use_camera},
    namespaces, test_ids, use_graph_data,
};
use crate::state::view_url::use_view;
use leptos::prelude::*;
use switchyard_protocol::NodeKind;

/// Matches listed under the search.
const RESULTS: usize = 8;

fn parse_limit(text: &str) -> Option<f64> {
    let text = text
        .trim()
        .trim_end_matches('%')
        .trim_end_matches("ms")
        .trim();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[component]
pub fn FindBar() -> impl IntoView {
    let view = use_view();
    let data = use_graph_data();
    let camera = use_camera();
    let query = Memo::new(move |_| view.0.with(|v| v.query.clone()));
    // Matches among what is drawn (a collapsed group matches by its name).
    let found = Memo::new(move |_| {
        let q = query.get();
        data.drawn.with(|drawn| {
            let g = &drawn.graph;
            data.hidden.with(|hidden| {
                let all = search(g, &q, usize::MAX);
                let total = all.iter().filter(|n| !hidden.contains(&n.id)).count();
                let first: Vec<(String, String, bool)> = all
                    .into_iter()
                    .filter(|n| !hidden.contains(&n.id))
                    .take(RESULTS)
                    .map(|n| {
                        let what = match (n.kind, &n.version) {
                            _ if n.id.starts_with(super::find::GROUP_PREFIX) => "collapsed",
                            (NodeKind::Service, _) => "service",
                            (NodeKind::Workload, Some(_)) => "version",
                            _ => "workload",
                        };
                        let label = if n.namespace.is_empty() {
                            format!("{} ({what})", n.name)
                        } else {
                            format!("{} ({what} in {})", n.name, n.namespace)
                        };
                        (n.id.clone(), label, n.kind == NodeKind::Service)
                    })
                    .collect();
                (total, first)
            })
        })
    });
    let go = move |id: String, service: bool| {
        if let Some(point) = data.scene.with_untracked(|s| s.point_of(&id)) {
            camera.zoom_to(point);
        }
        if service && !id.starts_with(super::find::GROUP_PREFIX) {
            view.0.update(|v| v.select = Some(id.clone()));
        }
        // The keyboard follows to the node it went to.
        request_animation_frame(move || focus_node(&id));
    };
    let results = move || {
        let (total, first) = found.get();
        if query.with(|q| q.trim().is_empty()) {
            return None;
        }
        let count = match total {
            0 => "no match".to_owned(),
            1 => "1 match".to_owned(),
            n if n > RESULTS => format!("{n} matches, the first {RESULTS}:"),
            n => format!("{n} matches"),
        };
        Some(view! {
            <div class="graph-find-results">
                <span class="graph-find-count" data-testid=test_ids::SEARCH_COUNT role="status">{count}</span>
                <ul class="graph-find-list">
                    {first
                        .into_iter()
                        .map(|(id, label, service)| {
                            let target = id.clone();
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        class="secondary-button"
                                        data-testid=test_ids::search_result(&id)
                                        on:click=move |_| go(target.clone(), service)
                                    >
                                        {label}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </div>
        })
    };
    let on_search = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        view.0.update(|v| v.query = value);
    };
    let on_search_key = move |event: leptos::ev::KeyboardEvent| {
        // Enter goes to the first match.
        if event.key() == "Enter" {
            if let Some((id, _, service)) = found.with_untracked(|f| f.1.first().cloned()) {
                event.prevent_default();
                go(id, service);
            }
        }
    };
    let number_field =
        move |get: fn(&crate::state::view_url::ViewState) -> Option<f64>,
              set: fn(&mut crate::state::view_url::ViewState, Option<f64>)| {
            (
                move || {
                    view.0
                        .with(|v| get(v).map(|n| super::label::fixed(n, 2)))
                        .map(|t| t.trim_end_matches('0').trim_end_matches('.').to_owned())
                        .unwrap_or_default()
                },
                move |event: leptos::ev::Event| {
                    let value = parse_limit(&event_target_value(&event));
                    view.0.update(|v| set(v, value));
                },
            )
        };
    let (errors_value, on_errors) = number_field(|v| v.errors_above, |v, n| v.errors_above = n);
    let (p95_value, on_p95) = number_field(|v| v.p95_above, |v, n| v.p95_above = n);
    let choices = Memo::new(move |_| data.graph.with(namespaces));
    // The select is an action, not a state: it reads "a namespace…" again after each change (its
    // value is re-set to "" whenever the view changes).
    let collapse_namespace = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        if value.is_empty() {
            return;
        }
        let key = Group::Namespace(value).key();
        view.0.update(|v| {
            if !v.collapse.contains(&key) {
                v.collapse.push(key);
            }
        });
    };
    // The selected service's app: its name (the synthetic and demo meshes name apps after
    // their services).
    let selected_app = Memo::new(move |_| {
        let id = view.0.with(|v| v.select.clone())?;
        let (namespace, service) = super::selected_service::service_of(&id)?;
        Some(Group::App {
            namespace: namespace.to_owned(),
            app: service.to_owned(),
        })
    });
    let collapse_app = move |_| {
        if let Some(group) = selected_app.get_untracked() {
            let key = group.key();
            view.0.update(|v| {
                v.select = None;
                if !v.collapse.contains(&key) {
                    v.collapse.push(key);
                }
            });
        }
    };
    let collapsed =
        move || {
            view.0.with(|v| v.collapse.clone()).into_iter().filter_map(|key| {
            let group = Group::parse_key(&key)?;
            let expand = key.clone();
            Some(view! {
                <li>
                    <button
                        type="button"
                        class="secondary-button graph-find-chip"
                        data-testid=test_ids::expand(&key)
                        on:click=move |_| view.0.update(|v| v.collapse.retain(|g| g != &expand))
                    >
                        {format!("expand {}", group.describe())}
                    </button>
                </li>
            })
        }).collect_view()
        };
    let list = move || view.0.with(|v| v.list);

    view! {
        <div class="graph-find" role="search" aria-label="find and hide in the graph">
            <label class="graph-find-field">
                <span>"Find"</span>
                <input
                    type="search"
                    data-testid=test_ids::GRAPH_SEARCH
                    placeholder="service, v:version, ns:namespace"
                    prop:value=move || query.get()
                    on:input=on_search
                    on:keydown=on_search_key
                />
            </label>
            <label class="graph-find-check">
                <input
                    type="checkbox"
                    data-testid=test_ids::FILTER_WEIGHTED
                    prop:checked=move || view.0.with(|v| v.weighted)
                    on:change=move |event| {
                        let checked = event_target_checked(&event);
                        view.0.update(|v| v.weighted = checked);
                    }
                />
                "only weighted routes"
            </label>
            <button
                type="button"
                class="secondary-button"
                data-testid=test_ids::LIST_TOGGLE
                aria-pressed=move || list().to_string()
                on:click=move |_| view.0.update(|v| v.list = !v.list)
            >
                "List view"
            </button>
            <details
                class="graph-find-more"
                // Open on load when the URL sets a numeric filter; the user's toggle after that.
                open=view.0.with_untracked(|v| v.errors_above.is_some() || v.p95_above.is_some())
            >
                <summary data-testid=test_ids::FIND_MORE>"Filters…"</summary>
                // A box of its own: a `<details>` lays out its content through a slot, so its
                // own `display: flex` does not reach these (they would run into each other).
                <div class="graph-find-more-body">
                    <label class="graph-find-number">
                        <span>"errors above"</span>
                        <input type="text" inputmode="decimal" size="4" data-testid=test_ids::FILTER_ERRORS prop:value=errors_value on:change=on_errors />
                        <span>"%"</span>
                    </label>
                    <label class="graph-find-number">
                        <span>"p95 above"</span>
                        <input type="text" inputmode="decimal" size="5" data-testid=test_ids::FILTER_P95 prop:value=p95_value on:change=on_p95 />
                        <span>"ms"</span>
                    </label>
                    <label class="graph-find-number">
                        <span>"Collapse"</span>
                        <select
                            data-testid=test_ids::COLLAPSE_NAMESPACE
                            prop:value=move || view.0.with(|_| String::new())
                            on:change=collapse_namespace
                        >
                            <option value="">"a namespace…"</option>
                            {move || choices.get().into_iter().map(|ns| view! { <option value=ns.clone()>{ns.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <button
                        type="button"
                        class="secondary-button"
                        data-testid=test_ids::COLLAPSE_APP
                        disabled=move || selected_app.with(Option::is_none)
                        on:click=collapse_app
                    >
                        "Collapse the selected app"
                    </button>
                </div>
            </details>
            <ul class="graph-find-collapsed" aria-label="collapsed groups">{collapsed}</ul>
            {results}
        </div>
    }
}
