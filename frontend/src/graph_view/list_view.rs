//! The list view (for small screens, and for a mesh too big to read as a drawing): every service
//! in view with its versions' requested and observed shares, its rate, errors and p95, coloured
//! by health; the search and the filters narrow it as they do the drawing. A service's name
//! selects it (its weight card opens) and zooms the drawing to it.

use super::{
    find::matches,
    graph_canvas::use_camera,
    label::{fixed, short_percent},
    test_ids, use_graph_data,
    vitals::VitalsIndex,
};
use crate::state::view_url::use_view;
use leptos::prelude::*;
use switchyard_protocol::NodeKind;

/// Rows drawn at most; the search narrows the rest.
const MAX_ROWS: usize = 200;

#[component]
pub fn ListView() -> impl IntoView {
    let data = use_graph_data();
    let view = use_view();
    let camera = use_camera();
    let rows = move || {
        let query = view.0.with(|v| v.query.clone());
        let selected = view.0.with(|v| v.select.clone());
        data.graph.with(|g| {
            data.hidden.with(|hidden| {
                data.splits.with(|splits| {
                    let index = VitalsIndex::of(g);
                    let mut services: Vec<_> = g
                        .nodes
                        .iter()
                        .filter(|n| n.kind == NodeKind::Service && !hidden.contains(&n.id))
                        .filter(|n| query.trim().is_empty() || matches(n, &query))
                        .collect();
                    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                    let total = services.len();
                    let shown = services
                        .into_iter()
                        .take(MAX_ROWS)
                        .map(|n| {
                            let vitals = index.node(&n.id);
                            let split = splits.get(&n.id).map(|s| {
                                s.versions
                                    .iter()
                                    .map(|v| {
                                        let name = v.version.clone().unwrap_or_else(|| v.subset.clone());
                                        let observed = match v.observed {
                                            Some(o) if s.rate > 0.0 => format!(", observed {}", short_percent(o)),
                                            _ => String::new(),
                                        };
                                        let health = index.version(s, v);
                                        view! {
                                            <li class=format!("graph-list-version {}", health.health().class())>
                                                {format!("{name}: requested {}{observed} · {}", short_percent(v.requested), health.summary())}
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            });
                            let id = n.id.clone();
                            let is_selected = selected.as_deref() == Some(n.id.as_str());
                            view! {
                                <tr data-testid=test_ids::list_row(&n.id) class=if is_selected { "is-selected" } else { "" }>
                                    <th scope="row">
                                        <button
                                            type="button"
                                            class="split-row-name"
                                            aria-pressed=is_selected.to_string()
                                            on:click=move |_| {
                                                if let Some(point) = data.scene.with_untracked(|s| s.point_of(&id)) {
                                                    camera.zoom_to(point);
                                                }
                                                view.0.update(|v| v.select = Some(id.clone()));
                                            }
                                        >
                                            {n.name.clone()}
                                        </button>
                                    </th>
                                    <td>{n.namespace.clone()}</td>
                                    <td>
                                        {match split {
                                            Some(versions) => view! { <ul class="graph-list-versions">{versions}</ul> }.into_any(),
                                            None => view! { <span class="page-note">"no weighted route"</span> }.into_any(),
                                        }}
                                    </td>
                                    <td class="graph-list-number">{format!("{} rps", fixed(vitals.rate, 1))}</td>
                                    <td class=format!("graph-list-number {}", vitals.health().class())>{vitals.summary()}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    let note = (total > MAX_ROWS).then(|| {
                        format!("The first {MAX_ROWS} of {total} services; find narrows the list.")
                    });
                    view! {
                        {note.map(|n| view! { <p class="page-note">{n}</p> })}
                        {(total == 0).then(|| view! { <p class="page-note">"No service matches."</p> })}
                        <table class="graph-list" data-testid=test_ids::LIST_VIEW>
                            <caption>{format!("{total} services")}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Service"</th>
                                    <th scope="col">"Namespace"</th>
                                    <th scope="col">"Versions: requested, observed, errors, p95"</th>
                                    <th scope="col">"Rate in"</th>
                                    <th scope="col">"Errors and p95"</th>
                                </tr>
                            </thead>
                            <tbody>{shown}</tbody>
                        </table>
                    }
                })
            })
        })
    };
    view! { <div class="graph-list-view">{rows}</div> }
}
