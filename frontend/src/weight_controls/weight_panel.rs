//! One weighted route (of a VirtualService, or a rule of an HTTPRoute): a linked slider per
//! destination, presets for two-way routes, Apply, and the outcome in words. Holds the person's unsaved draft; live updates move the route only
//! while there is no draft, and otherwise are announced next to it. Read-only (inputs and Apply
//! disabled) when the cluster says the person may not patch the VirtualService; the card shows
//! why.

use super::{
    ownership, preset_buttons::PresetButtons, split, test_ids, weight_slider::WeightSlider,
};
use crate::{
    api::{client, Error},
    rollout::confirm_dialog::ConfirmDialog,
    state::{
        access::use_access,
        graph::GraphStore,
        route_draft::{applied_sentence, server_summary, weights_of, RouteDraft},
        routes::{use_routes, VsKey},
    },
};
use leptos::{html, prelude::*};
use switchyard_protocol::{HttpRoute, RouteKind, SetWeightsResponse};

/// What the status line says, and how it looks.
#[derive(Clone, Debug, PartialEq)]
struct Status {
    kind: StatusKind,
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StatusKind {
    Pending,
    Done,
    Failed,
}

impl StatusKind {
    fn class(self) -> &'static str {
        match self {
            StatusKind::Pending => "weight-panel-status is-pending",
            StatusKind::Done => "weight-panel-status is-done",
            StatusKind::Failed => "weight-panel-status is-failed",
        }
    }
}

#[component]
pub fn WeightPanel(
    namespace: String,
    name: String,
    /// The kind of route object the route is in.
    kind: RouteKind,
    route: Memo<HttpRoute>,
    /// Other controllers managing the VirtualService's routes: Apply asks before writing.
    managers: Memo<Vec<String>>,
) -> impl IntoView {
    let store = use_routes();
    let graph = use_context::<GraphStore>();
    let index = route.with_untracked(|r| r.index);
    // The `{name}` of this panel's test ids (an HTTPRoute's are `httproute-{name}`).
    let id_name = test_ids::name_for(kind, &name);
    let draft = RwSignal::new(None::<RouteDraft>);
    let status = RwSignal::new(None::<Status>);

    // The weights on screen: the draft's, or the server's while untouched.
    let shown = Memo::new(move |_| match draft.get() {
        Some(draft) => draft.weights,
        None => route.with(weights_of),
    });
    let edit = move |weights: Vec<u32>| {
        let server = route.get_untracked();
        draft.update(|d| *d = RouteDraft::edit(d.take(), &server, weights));
        // An old outcome next to a new draft would read as if it were about the draft.
        status.set(None);
    };

    // The draft as the request Apply would send, or why the server would refuse it (the weight
    // policy both sides apply).
    let draft_request =
        Memo::new(move |_| draft.with(|d| d.as_ref().map(|d| route.with(|r| d.request(r)))));

    // Where focus goes after Apply: the button is disabled while the write is in flight, which
    // drops keyboard focus to the page; the outcome sentence takes it instead.
    let status_ref = NodeRef::<html::P>::new();
    let keep_focus = move || {
        let lost = document()
            .active_element()
            .is_none_or(|active| document().body().is_some_and(|body| *body == active));
        if lost {
            if let Some(status) = status_ref.get_untracked() {
                let _ = status.focus();
            }
        }
    };
    let apply = Action::new_local({
        let (namespace, name) = (namespace.clone(), name.clone());
        move |_: &()| {
            let (namespace, name) = (namespace.clone(), name.clone());
            let request = draft_request.get_untracked().and_then(Result::ok);
            async move {
                let Some(request) = request else { return };
                status.set(Some(Status {
                    kind: StatusKind::Pending,
                    text: format!("{name}: applying…"),
                }));
                // Either kind's answer, as the VirtualService shape (an HTTPRoute's view).
                let outcome = match kind {
                    RouteKind::VirtualService => {
                        client::set_weights(&namespace, &name, index, &request).await
                    }
                    RouteKind::HTTPRoute => {
                        client::set_http_route_weights(&namespace, &name, index, &request)
                            .await
                            .map(|r| SetWeightsResponse {
                                changed: r.changed,
                                virtual_service: r.http_route.view(),
                            })
                    }
                };
                match outcome {
                    Ok(response) => {
                        let text = applied_sentence(&name, index, &response);
                        store.upsert_kind(kind, response.virtual_service);
                        draft.set(None);
                        status.set(Some(Status {
                            kind: StatusKind::Done,
                            text,
                        }));
                    }
                    Err(error) => {
                        if let Error::Api(api_error) = &error {
                            if api_error.code == "conflict" {
                                // Someone else changed the route: show it as it is now instead
                                // of a draft built on what is no longer there.
                                if let Some(current) = api_error.current.clone() {
                                    store.upsert(current);
                                }
                                if let Some(current) = &api_error.current_http_route {
                                    store.upsert_http_route(current);
                                }
                                draft.set(None);
                            }
                        }
                        status.set(Some(Status {
                            kind: StatusKind::Failed,
                            text: error.to_string(),
                        }));
                    }
                }
                keep_focus();
            }
        }
    });
    let sending = apply.pending();
    let read_only = {
        let access = use_access();
        let key = VsKey {
            namespace: namespace.clone(),
            name: name.clone(),
            kind,
        };
        Memo::new(move |_| access.is_some_and(|a| !a.permission(&key).is_editable()))
    };
    let locked = Signal::derive(move || sending.get() || read_only.get());
    // Destinations whose number field holds something that is not a weight.
    let invalid = RwSignal::new(std::collections::BTreeSet::<String>::new());
    let can_apply = Memo::new(move |_| {
        !locked.get()
            && invalid.with(std::collections::BTreeSet::is_empty)
            && draft_request.with(|r| matches!(r, Some(Ok(_))))
            && draft.with(|d| {
                d.as_ref()
                    .is_some_and(|d| route.with(|r| d.differs_from(r)))
            })
    });
    // The last outcome, or else why the draft cannot be applied.
    let shown_status = {
        let name = name.clone();
        Memo::new(move |_| {
            status.get().or_else(|| {
                draft_request.with(|r| match r {
                    Some(Err(error)) => Some(Status {
                        kind: StatusKind::Failed,
                        text: format!("{name}: cannot apply: {error}"),
                    }),
                    _ => None,
                })
            })
        })
    };
    // While our own write is in flight its echo on the event stream is not "someone else".
    let server_change = Memo::new(move |_| {
        if sending.get() {
            return None;
        }
        draft.with(|d| {
            d.as_ref()
                .filter(|d| route.with(|r| d.changed_on_server(r)))
                .map(|_| route.with(server_summary))
        })
    });

    let destinations: Vec<(usize, String, String)> = route.with_untracked(|r| {
        r.destinations
            .iter()
            .enumerate()
            .map(|(position, d)| (position, d.key().to_owned(), d.host.clone()))
            .collect()
    });
    let sliders = destinations
        .iter()
        .cloned()
        .map(|(position, dest_key, host)| {
            let value =
                Signal::derive(move || shown.with(|w| w.get(position).copied().unwrap_or(0)));
            let requested = Signal::derive(move || {
                route.with(|r| {
                    r.destinations
                        .get(position)
                        .map_or(0.0, |d| d.requested_share)
                })
            });
            // The graph in view says what was observed (over the window chosen there); the
            // server's figure (over its default window) until a graph is in.
            let observed = {
                let (namespace, name, key) = (namespace.clone(), name.clone(), dest_key.clone());
                Signal::derive(move || {
                    let from_graph = graph.and_then(|g| {
                        g.graph.with(|g| {
                            g.as_ref()
                                .map(|g| g.observed_share_of(kind, &namespace, &name, index, &key))
                        })
                    });
                    from_graph.unwrap_or_else(|| {
                        route.with(|r| r.destinations.get(position).and_then(|d| d.observed_share))
                    })
                })
            };
            let on_change = Callback::new(move |weight: u32| {
                edit(split::rebalance(&shown.get_untracked(), position, weight))
            });
            let on_invalid = {
                let key = dest_key.clone();
                Callback::new(move |reason: Option<String>| {
                    invalid.update(|keys| {
                        if reason.is_some() {
                            keys.insert(key.clone());
                        } else {
                            keys.remove(&key);
                        }
                    });
                })
            };
            let element_id =
                test_ids::element_id(&["w", &namespace, &id_name, &index.to_string(), &dest_key]);
            view! {
                <WeightSlider
                    name=id_name.clone()
                    index
                    dest_key
                    host
                    element_id
                    value
                    requested
                    observed
                    disabled=locked
                    on_change
                    on_invalid
                />
            }
        })
        .collect_view();
    let presets = match destinations.as_slice() {
        [(_, first, _), (_, second, _)] => Some(view! {
            <PresetButtons
                name=id_name.clone()
                index
                first=first.clone()
                second=second.clone()
                disabled=locked
                on_pick=Callback::new(move |(a, b): (u32, u32)| edit(vec![a, b]))
            />
        }),
        _ => None,
    };

    let title = route.with_untracked(|r| match &r.name {
        Some(route_name) => format!("route {index} “{route_name}”"),
        None => format!("route {index}"),
    });
    let heading_id = test_ids::element_id(&["route", &namespace, &id_name, &index.to_string()]);
    let labelled_by = heading_id.clone();
    let server_change_id = test_ids::server_change(&id_name, index);
    let asking = RwSignal::new(false);
    let question = {
        let name = name.clone();
        Signal::derive(move || managers.with(|m| ownership::question(&name, m)))
    };
    let ownership_dialog = {
        let (confirm, cancel) = (
            test_ids::ownership_confirm(&id_name, index),
            test_ids::ownership_cancel(&id_name, index),
        );
        let question_id =
            test_ids::element_id(&["owned", &namespace, &id_name, &index.to_string()]);
        move || {
            managers.with(|m| !m.is_empty()).then(|| {
                view! {
                    <ConfirmDialog
                        open=asking
                        question
                        confirm_label="Apply anyway"
                        confirm_test_id=confirm.clone()
                        cancel_test_id=cancel.clone()
                        question_id=question_id.clone()
                        on_confirm=Callback::new(move |()| {
                            apply.dispatch(());
                        })
                    />
                }
            })
        }
    };
    let sum_note_id = test_ids::sum_note(&id_name, index);
    // The cluster's weights as written, when they do not add up to 100.
    let sum_note = Memo::new(move |_| route.with(|r| split::sum_note_of(kind, &weights_of(r))));
    let discard_id = test_ids::discard(&id_name, index);

    view! {
        <li
            class="weight-panel"
            class:has-draft=move || draft.with(Option::is_some)
            data-testid=test_ids::route(&id_name, index)
        >
            <section aria-labelledby=labelled_by>
                <h3 class="weight-panel-title" id=heading_id>
                    <span class="weight-panel-index">{title}</span>
                    <span class="weight-panel-match">{move || route.with(|r| r.match_summary.clone())}</span>
                </h3>
                <div class="weight-panel-sliders">{sliders}</div>
                {move || {
                    sum_note
                        .get()
                        .map(|note| {
                            view! {
                                <p class="weight-panel-sum-note" data-testid=sum_note_id.clone()>
                                    {note}
                                </p>
                            }
                        })
                }}
                {move || {
                    server_change
                        .get()
                        .map(|now| {
                            view! {
                                <p class="weight-panel-server-change" data-testid=server_change_id.clone()>
                                    <span>{format!("changed on the server (now {now})")}</span>
                                    <button
                                        type="button"
                                        class="link-button"
                                        data-testid=discard_id.clone()
                                        on:click=move |_| {
                                            draft.set(None);
                                            status.set(None);
                                        }
                                    >
                                        "discard my draft"
                                    </button>
                                </p>
                            }
                        })
                }}
                <div class="weight-panel-actions">
                    {presets}
                    <button
                        type="button"
                        class="apply-button"
                        data-testid=test_ids::apply(&id_name, index)
                        prop:disabled=move || !can_apply.get()
                        on:click=move |_| {
                            // A controller owns these weights: ask before writing over it.
                            if managers.with_untracked(|m| m.is_empty()) {
                                apply.dispatch(());
                            } else {
                                asking.set(true);
                            }
                        }
                    >
                        {move || if sending.get() { "Applying…" } else { "Apply" }}
                    </button>
                </div>
                {ownership_dialog}
                <p
                    class=move || shown_status.with(|s| s.as_ref().map_or("weight-panel-status", |s| s.kind.class()))
                    data-testid=test_ids::status(&id_name, index)
                    node_ref=status_ref
                    tabindex="-1"
                    role="status"
                    aria-live="polite"
                >
                    {move || shown_status.with(|s| s.as_ref().map(|s| s.text.clone()).unwrap_or_default())}
                </p>
            </section>
        </li>
    }
}
