//! The graph's panel: one `<svg>` whose content is the [`Scene`]'s markup, parsed once per change
//! of structure and patched attribute by attribute otherwise (`scene.rs`), inside a panel of
//! fixed height that clips it. Pan (drag), zoom (wheel, `+`/`-`/`0`, the buttons) and fit move
//! the whole drawing with one CSS transform, composited while the gesture lasts (`will-change`),
//! so a frame costs the same at 10 nodes or 3,000; 150 ms after the gesture the drawing is
//! re-rastered sharp at its new zoom and text shows only where it is legible ([`Detail`]). The
//! viewport goes into the URL (`at=`) then.
//!
//! Clicks and keys are handled once for the whole drawing (the node under them is found by its
//! `data-node`): a service toggles its selection, a collapsed group expands. An edge's tooltip is
//! written from the snapshot when the pointer comes over it. Below the zoom where text is legible the drawing
//! has none (`Scene::markup`); crossing that zoom redraws it. A node that gets
//! the keyboard focus off screen (or too small to read) is brought to the middle of the panel.

use super::{
    edge::tooltip as edge_tooltip,
    find::Group,
    scene::{patches, BadgePart, EdgePart, NodePart, Patch, Scene},
    test_ids, use_graph_data,
    viewport::{panel_height, Detail, Viewport, NODE_ZOOM},
};
use crate::state::view_url::{use_view, View};
use leptos::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// Arrowhead markers, one per edge colour (SVG 1.1 markers cannot take the line's colour).
const MARKERS: [&str; 4] = ["is-idle", "is-healthy", "is-degraded", "is-failing"];
/// The User Timing mark set in the frame that first drew a graph with nodes.
pub const GRAPH_DRAWN_MARK: &str = "switchyard-graph-drawn";
/// How long after the last wheel step or drag the drawing is redrawn sharp.
const SETTLE_MS: u64 = 150;

struct CameraState {
    vp: Viewport,
    /// Following the fit (a resize or a bigger drawing fits again).
    fitted: bool,
    /// Set once the first drawing got its viewport (from the URL or a fit).
    placed: bool,
    panel: Option<web_sys::HtmlElement>,
    svg: Option<web_sys::Element>,
    size: (f64, f64),
    settle: Option<leptos::leptos_dom::helpers::TimeoutHandle>,
    detail: Detail,
}

/// The viewport of the graph's panel, shared with the find bar, the list view and the benchmark.
#[derive(Clone, Copy)]
pub struct Camera {
    state: StoredValue<CameraState, LocalStorage>,
    view: View,
    max_k: f64,
    kiosk: bool,
    /// Counts the sharp redraws after gestures (the benchmark waits for one).
    pub settled: RwSignal<u32>,
    /// Whether any text is legible at the zoom (not [`Detail::Shapes`]): the drawing leaves text
    /// out below that, so crossing it redraws the markup.
    texts: RwSignal<bool>,
}

impl Camera {
    pub fn new(view: View, kiosk: bool) -> Camera {
        Camera {
            state: StoredValue::new_local(CameraState {
                vp: Viewport::default(),
                fitted: true,
                placed: false,
                panel: None,
                svg: None,
                size: (0.0, 0.0),
                settle: None,
                detail: Detail::Full,
            }),
            view,
            // A wall display may blow a small mesh up; a desk keeps text at its designed size.
            max_k: if kiosk { 3.0 } else { 1.0 },
            kiosk,
            settled: RwSignal::new(0),
            texts: RwSignal::new(true),
        }
    }

    fn attach(&self, panel: web_sys::HtmlElement, svg: web_sys::Element) {
        self.state.update_value(|s| {
            s.panel = Some(panel);
            s.svg = Some(svg);
        });
    }

    /// The panel's inner size in CSS pixels.
    pub fn panel_size(&self) -> (f64, f64) {
        self.state.with_value(|s| {
            s.panel.as_ref().map_or((0.0, 0.0), |p| {
                (f64::from(p.client_width()), f64::from(p.client_height()))
            })
        })
    }

    pub fn viewport(&self) -> Viewport {
        self.state.with_value(|s| s.vp)
    }

    /// The drawing's size changed (or the window did): size the panel, then fit again if
    /// following the fit, or place the first drawing where the URL says.
    fn resized(&self, size: (f64, f64)) {
        let window_height = window()
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        let share = if self.kiosk { 0.82 } else { 0.75 };
        let (max_k, at) = (self.max_k, self.view.0.with_untracked(|v| v.at));
        // Inner width, and the borders around it (the same on all sides): one layout read.
        let (width, borders) = self.state.with_value(|s| {
            s.panel.as_ref().map_or((0.0, 0.0), |p| {
                let inner = f64::from(p.client_width());
                (inner, f64::from(p.offset_width()) - inner)
            })
        });
        if width <= 0.0 {
            // Hidden (the list view): nothing to fit yet.
            self.state.update_value(|s| s.size = size);
            return;
        }
        let height = panel_height(size, width, window_height, max_k, share);
        self.state.update_value(|s| {
            s.size = size;
            if let Some(panel) = &s.panel {
                let _ = panel.style().set_property("height", &format!("{height}px"));
            }
        });
        // The panel's size is known now: reading it back would lay the page out once more.
        let panel = (width, height - borders);
        let (placed, fitted) = self.state.with_value(|s| (s.placed, s.fitted));
        if !placed {
            self.state.update_value(|s| s.placed = true);
            if let Some((x, y, k)) = at {
                self.state.update_value(|s| s.fitted = false);
                let vp = Viewport::centred_on((x, y), k, panel);
                self.show(vp);
                self.settle();
                return;
            }
        }
        if fitted || !placed {
            self.fit_now(panel);
        }
    }

    fn fit_now(&self, panel: (f64, f64)) {
        let size = self.state.with_value(|s| s.size);
        self.state.update_value(|s| s.fitted = true);
        self.show(Viewport::fit(size, panel, self.max_k));
        self.settle();
    }

    /// The whole drawing in the panel.
    pub fn fit(&self) {
        self.state.update_value(|s| s.fitted = true);
        let (size, panel) = (self.state.with_value(|s| s.size), self.panel_size());
        self.show(Viewport::fit(size, panel, self.max_k));
    }

    /// Moves the drawing at once (composited) and redraws it sharp shortly after the last move.
    pub fn show(&self, vp: Viewport) {
        let camera = *self;
        self.state.update_value(|s| {
            s.vp = vp;
            if let Some(svg) = &s.svg {
                let _ =
                    svg.set_attribute("style", &format!("{}; will-change: transform", vp.css()));
            }
            if let Some(timer) = s.settle.take() {
                timer.clear();
            }
            s.settle = leptos::leptos_dom::helpers::set_timeout_with_handle(
                move || camera.settle(),
                Duration::from_millis(SETTLE_MS),
            )
            .ok();
        });
    }

    /// The redraw after a gesture: no longer composited (so it is rastered sharp at its zoom),
    /// text by the level of detail, the viewport in the URL.
    pub fn settle(&self) {
        let (vp, fitted, size) = self.state.with_value(|s| (s.vp, s.fitted, s.size));
        let detail = Detail::at(vp.k);
        self.state.update_value(|s| {
            if let Some(timer) = s.settle.take() {
                timer.clear();
            }
            s.detail = detail;
            if let Some(svg) = &s.svg {
                let _ = svg.set_attribute("style", &vp.css());
                let _ = svg.set_attribute("class", &format!("graph-svg {}", detail.class()));
            }
        });
        let texts = detail != Detail::Shapes;
        if self.texts.get_untracked() != texts {
            self.texts.set(texts);
        }
        let at = if fitted || size.0 <= 0.0 {
            None
        } else {
            let (x, y) = vp.centre(self.panel_size());
            Some((x.round(), y.round(), (vp.k * 1000.0).round() / 1000.0))
        };
        if self.view.0.with_untracked(|v| v.at != at) {
            self.view.0.update(|v| v.at = at);
        }
        self.settled.update(|n| *n += 1);
    }

    /// Zooms by `factor` about a panel point (its middle when `None`).
    pub fn zoom_by(&self, factor: f64, at: Option<(f64, f64)>) {
        let panel = self.panel_size();
        let at = at.unwrap_or((panel.0 / 2.0, panel.1 / 2.0));
        self.state.update_value(|s| s.fitted = false);
        self.show(self.viewport().zoom_at(at, factor));
    }

    pub fn pan_to(&self, vp: Viewport) {
        self.state.update_value(|s| s.fitted = false);
        self.show(vp);
    }

    /// A world point in the middle of the panel, zoomed in far enough to read its labels.
    pub fn zoom_to(&self, point: (i64, i64)) {
        let k = self.viewport().k.max(NODE_ZOOM);
        self.state.update_value(|s| s.fitted = false);
        let vp = Viewport::centred_on((point.0 as f64, point.1 as f64), k, self.panel_size());
        self.show(vp);
    }

    /// Whether a world point is well inside the panel and its labels legible.
    fn shows_readably(&self, point: (i64, i64)) -> bool {
        let (vp, detail) = self.state.with_value(|s| (s.vp, s.detail));
        detail == Detail::Full
            && vp.shows((point.0 as f64, point.1 as f64), self.panel_size(), 40.0)
    }
}

pub fn use_camera() -> Camera {
    expect_context::<Camera>()
}

fn child(element: &web_sys::Element, index: u32) -> Option<web_sys::Element> {
    element.children().item(index)
}

/// Applies patches to the drawn markup: each names an item by index and a part of it.
fn apply(content: &web_sys::Element, list: &[Patch]) {
    let (Some(edges), Some(labels), Some(nodes), Some(badges)) = (
        child(content, 0),
        child(content, 1),
        child(content, 2),
        child(content, 3),
    ) else {
        return;
    };
    let (edges, labels, nodes, badges) = (
        edges.children(),
        labels.children(),
        nodes.children(),
        badges.children(),
    );
    let text = |el: Option<web_sys::Element>, value: &str| {
        if let Some(el) = el {
            el.set_text_content(Some(value));
        }
    };
    let attr = |el: Option<web_sys::Element>, name: &str, value: &str| {
        if let Some(el) = el {
            let _ = el.set_attribute(name, value);
        }
    };
    for patch in list {
        match patch {
            Patch::Node(i, part, value) => {
                let Some(g) = nodes.item(*i as u32) else {
                    continue;
                };
                match part {
                    NodePart::Class => attr(Some(g), "class", value),
                    NodePart::Pressed => attr(Some(g), "aria-pressed", value),
                    NodePart::Title => text(child(&g, 0), value),
                    NodePart::Name => text(child(&g, 2), value),
                    NodePart::Caption => text(child(&g, 3), value),
                }
            }
            Patch::Edge(i, part, value) => {
                let path = edges.item(*i as u32);
                match part {
                    EdgePart::Class => attr(path, "class", value),
                    EdgePart::Width => attr(path, "stroke-width", value),
                    EdgePart::Marker => attr(path, "marker-end", value),
                    EdgePart::Label => text(labels.item(*i as u32), value),
                }
            }
            Patch::Badge(i, part, value) => {
                let Some(g) = badges.item(*i as u32) else {
                    continue;
                };
                match part {
                    BadgePart::Requested => text(child(&g, 0).and_then(|t| child(&t, 0)), value),
                    BadgePart::Observed => text(child(&g, 0).and_then(|t| child(&t, 1)), value),
                    BadgePart::Verdict => text(child(&g, 1), value),
                    BadgePart::VerdictClass => attr(child(&g, 1), "class", value),
                    BadgePart::Health => text(child(&g, 2), value),
                    BadgePart::HealthClass => attr(child(&g, 2), "class", value),
                }
            }
        }
    }
}

/// Focuses the drawn node `id`, if there is one.
pub fn focus_node(id: &str) {
    let selector = format!(
        "[data-testid=\"{}\"] [data-node=\"{}\"]",
        test_ids::GRAPH,
        id.replace('"', "")
    );
    if let Ok(Some(el)) = document().query_selector(&selector) {
        if let Some(el) = el.dyn_ref::<web_sys::SvgElement>() {
            let _ = el.focus();
        }
    }
}

/// Parses the whole scene into the drawing (with its text or without), keeping the keyboard
/// focus on the node that had it.
fn rebuild(svg: &web_sys::Element, content: &web_sys::Element, scene: &Scene, texts: bool) {
    let focused = document()
        .active_element()
        .filter(|el| content.contains(Some(el)))
        .and_then(|el| el.get_attribute("data-node"));
    let (w, h) = scene.size;
    let _ = svg.set_attribute("width", &w.to_string());
    let _ = svg.set_attribute("height", &h.to_string());
    let _ = svg.set_attribute("viewBox", &format!("0 0 {w} {h}"));
    content.set_inner_html(&scene.markup(texts));
    if let Some(id) = focused {
        focus_node(&id);
    }
}

/// The node under an event, as `(id, is a button)`.
fn node_of(event: &web_sys::Event) -> Option<(String, bool)> {
    let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    let node = target.closest("[data-node]").ok()??;
    let id = node.get_attribute("data-node")?;
    Some((id, node.get_attribute("role").as_deref() == Some("button")))
}

#[component]
pub fn GraphCanvas(scene: Memo<Arc<Scene>>) -> impl IntoView {
    let view = use_view();
    let camera = use_camera();
    let kiosk = view.0.with_untracked(|v| v.kiosk);
    let panel_ref = NodeRef::<leptos::html::Div>::new();
    // The scene drawn, and whether with its text.
    let rendered = StoredValue::new_local(None::<(Arc<Scene>, bool)>);

    Effect::new(move |_| {
        let scene = scene.get();
        camera.texts.track();
        let Some(panel) = panel_ref.get() else {
            return;
        };
        let Ok(Some(svg)) = panel.query_selector("svg") else {
            return;
        };
        let Ok(Some(content)) = svg.query_selector(".graph-content") else {
            return;
        };
        if rendered.with_value(Option::is_none) {
            camera.attach(panel.clone().into(), svg.clone());
        }
        let old = rendered.get_value();
        // Fit and level of detail first, while the old (or no) drawing is in: reading the panel's
        // size after the new markup is in would make the browser style and lay out all of it
        // at once, text included, before the frame.
        if old.as_ref().is_none_or(|(o, _)| o.size != scene.size) {
            camera.resized((scene.size.0 as f64, scene.size.1 as f64));
        }
        let texts = camera.texts.get_untracked();
        let list = old
            .as_ref()
            .filter(|(_, drawn)| *drawn == texts)
            .and_then(|(old, _)| patches(old, &scene));
        match list {
            Some(list) => apply(&content, &list),
            None => rebuild(&svg, &content, &scene, texts),
        }
        if old.as_ref().is_none_or(|(o, _)| o.nodes.is_empty()) && !scene.nodes.is_empty() {
            // The first drawing's frame, as a User Timing mark from navigation start (the graph
            // bench reads it: navigation → graph drawn).
            request_animation_frame(|| {
                if let Some(performance) = window().performance() {
                    let _ = performance.mark(GRAPH_DRAWN_MARK);
                }
            });
        }
        rendered.set_value(Some((scene, texts)));
    });
    // The panel follows the window; a fitted drawing fits again.
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        let size = camera.state.with_value(|s| s.size);
        camera.resized(size);
    });
    // Coming back from the list view: the panel has a size again.
    Effect::new(move |previous: Option<bool>| {
        let list = view.0.with(|v| v.list);
        if previous == Some(true) && !list {
            let size = camera.state.with_value(|s| s.size);
            request_animation_frame(move || camera.resized(size));
        }
        list
    });
    on_cleanup(move || resize.remove());

    let activate = move |id: &str| {
        if let Some(group) = Group::of_id(id) {
            let key = group.key();
            view.0.update(|v| v.collapse.retain(|g| g != &key));
        } else {
            let id = id.to_owned();
            view.0.update(|v| {
                v.select = if v.select.as_deref() == Some(id.as_str()) {
                    None
                } else {
                    Some(id)
                }
            });
        }
    };
    // Dragging: where it started (pointer and viewport), and whether it moved far enough to be a
    // pan rather than a click.
    let drag = StoredValue::new_local(None::<(f64, f64, Viewport, bool)>);
    let swallow_click = StoredValue::new_local(false);
    let panel_point = move |x: i32, y: i32| {
        panel_ref.get().map_or((0.0, 0.0), |p| {
            let rect = p.get_bounding_client_rect();
            (f64::from(x) - rect.left(), f64::from(y) - rect.top())
        })
    };
    let on_wheel = move |event: leptos::ev::WheelEvent| {
        event.prevent_default();
        let lines = if event.delta_mode() == 1 { 16.0 } else { 1.0 };
        let factor = (-event.delta_y() * lines * 0.0015).exp();
        camera.zoom_by(
            factor,
            Some(panel_point(event.client_x(), event.client_y())),
        );
    };
    let on_down = move |event: leptos::ev::PointerEvent| {
        let on_button = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button").ok().flatten())
            .is_some();
        if event.button() == 0 && !on_button {
            drag.set_value(Some((
                f64::from(event.client_x()),
                f64::from(event.client_y()),
                camera.viewport(),
                false,
            )));
        }
    };
    let on_move = move |event: leptos::ev::PointerEvent| {
        let Some((x, y, start, moved)) = drag.get_value() else {
            return;
        };
        let (dx, dy) = (
            f64::from(event.client_x()) - x,
            f64::from(event.client_y()) - y,
        );
        if !moved && dx.abs() + dy.abs() < 5.0 {
            return;
        }
        if !moved {
            if let Some(panel) = panel_ref.get() {
                let _ = panel.set_pointer_capture(event.pointer_id());
            }
            drag.set_value(Some((x, y, start, true)));
        }
        camera.pan_to(start.pan(dx, dy));
    };
    let on_up = move |_: leptos::ev::PointerEvent| {
        if drag.get_value().is_some_and(|d| d.3) {
            swallow_click.set_value(true);
        }
        drag.set_value(None);
    };
    let on_click = move |event: leptos::ev::MouseEvent| {
        if swallow_click.get_value() {
            swallow_click.set_value(false);
            return;
        }
        if let Some((id, true)) = node_of(&event) {
            activate(&id);
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let key = event.key();
        if matches!(key.as_str(), "Enter" | " ") {
            if let Some((id, true)) = node_of(&event) {
                event.prevent_default();
                activate(&id);
            }
            return;
        }
        let in_field = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if in_field || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        match key.as_str() {
            "+" | "=" => camera.zoom_by(1.25, None),
            "-" | "_" => camera.zoom_by(0.8, None),
            "0" => camera.fit(),
            _ => return,
        }
        event.prevent_default();
    };
    // An edge's tooltip, written from the snapshot in view when the pointer comes over its line.
    let data = use_graph_data();
    let on_over = move |event: leptos::ev::PointerEvent| {
        let Some(path) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .filter(|t| {
                t.get_attribute("class")
                    .is_some_and(|c| c.starts_with("graph-edge-line"))
            })
        else {
            return;
        };
        let mut index = 0;
        let mut before = path.previous_element_sibling();
        while let Some(el) = before {
            index += 1;
            before = el.previous_element_sibling();
        }
        let Some((source, target)) = rendered.with_value(|s| {
            s.as_ref().and_then(|(s, _)| {
                s.edges
                    .get(index)
                    .map(|e| (e.source.clone(), e.target.clone()))
            })
        }) else {
            return;
        };
        let Some(title) = data.drawn.with_untracked(|d| {
            d.graph
                .edges
                .iter()
                .find(|e| e.source == source && e.target == target)
                .map(edge_tooltip)
        }) else {
            return;
        };
        if let Some(el) = path.first_element_child() {
            el.set_text_content(Some(&title));
        } else if let Ok(el) =
            document().create_element_ns(Some("http://www.w3.org/2000/svg"), "title")
        {
            el.set_text_content(Some(&title));
            let _ = path.append_child(&el);
        }
    };
    let on_focus = move |event: leptos::ev::FocusEvent| {
        let Some((id, _)) = node_of(&event) else {
            return;
        };
        if let Some(point) = rendered.with_value(|s| s.as_ref().and_then(|(s, _)| s.point_of(&id)))
        {
            if !camera.shows_readably(point) {
                camera.zoom_to(point);
            }
        }
    };

    view! {
        <div
            class="graph-viewport"
            data-testid=test_ids::GRAPH_VIEWPORT
            node_ref=panel_ref
            on:wheel=on_wheel
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:keydown=on_key
        >
            <svg
                class="graph-svg lod-full"
                data-testid=test_ids::GRAPH
                role="group"
                aria-label="traffic graph: entry on the left, services and their versions to the right; services are buttons. Drag to pan, wheel or plus and minus to zoom, 0 to fit."
                on:click=on_click
                on:focusin=on_focus
                on:pointerover=on_over
            >
                <defs>
                    {MARKERS
                        .iter()
                        .map(|class| {
                            view! {
                                <marker
                                    id=format!("arrow-{class}")
                                    class=format!("graph-arrow {class}")
                                    viewBox="0 0 10 10"
                                    refX="9"
                                    refY="5"
                                    markerWidth="9"
                                    markerHeight="9"
                                    markerUnits="userSpaceOnUse"
                                    orient="auto"
                                >
                                    <path d="M 0 0 L 10 5 L 0 10 z" />
                                </marker>
                            }
                        })
                        .collect_view()}
                </defs>
                <g class="graph-content"></g>
            </svg>
            {(!kiosk).then(|| view! {
                <div class="graph-zoom" role="group" aria-label="zoom">
                    <button type="button" class="secondary-button" data-testid=test_ids::ZOOM_IN aria-label="zoom in" on:click=move |_| camera.zoom_by(1.4, None)>"+"</button>
                    <button type="button" class="secondary-button" data-testid=test_ids::ZOOM_OUT aria-label="zoom out" on:click=move |_| camera.zoom_by(1.0 / 1.4, None)>"−"</button>
                    <button type="button" class="secondary-button" data-testid=test_ids::ZOOM_FIT on:click=move |_| camera.fit()>"Fit"</button>
                </div>
            })}
        </div>
    }
}
