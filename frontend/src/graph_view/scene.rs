//! Pure: what the graph draws for one snapshot, as plain data ([`Scene`]), the SVG markup of all
//! of it in one string ([`Scene::markup`]), and the attribute patches that turn one scene into
//! the next when only numbers changed ([`patches`]). The panel (`graph_canvas.rs`) parses the
//! markup once per change of structure and applies patches otherwise, so no node, edge or label
//! is a reactive component (the cost that made 1,000 nodes take seconds).
//!
//! The markup keeps the test ids, node tooltips (`<title>`), roles and classes the page always had:
//! nodes are `<g data-testid="graph-node-{id}">`, services focusable buttons in on-screen order
//! (layer, then row), so tab order is what the eye reads. Child order is fixed (see
//! [`NodePart`], [`EdgePart`], [`BadgePart`]) so a patch finds its element by index; a part
//! that is not drawn (text at a zoom where it is not legible) is skipped.

use super::{
    edge::geometry,
    find::{matches, GroupInfo},
    label::{edge_label, edge_width, fixed, rollout_version, split_text, Health, LabelMode},
    layout::{Positions, NODE_HEIGHT, NODE_WIDTH},
    node::{caption, shorten, tooltip as node_tooltip},
    service_node_id, test_ids,
    vitals::VitalsIndex,
};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use switchyard_protocol::{Graph, NodeKind};

/// What a scene is drawn from.
pub struct SceneInput<'a> {
    pub graph: &'a Graph,
    pub positions: &'a Positions,
    pub mode: LabelMode,
    pub selected: Option<&'a str>,
    /// The server's name of the new subset, when known.
    pub new_subset: Option<&'a str>,
    /// Nodes the filters hide (with their edges and badges).
    pub hidden: &'a HashSet<String>,
    /// The search: matching nodes are highlighted.
    pub query: &'a str,
    /// Collapsed nodes by id.
    pub groups: &'a BTreeMap<String, GroupInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Pill,
    Box,
    Circle,
    Dashed,
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeItem {
    pub id: String,
    pub point: (i64, i64),
    pub shape: Shape,
    /// A service or a collapsed group: a focusable button.
    pub button: bool,
    pub class: String,
    /// `aria-pressed` of a service (its selection); groups and others have none.
    pub pressed: Option<bool>,
    pub title: String,
    pub name: String,
    pub caption: String,
}

/// An edge as numbers and fixed words: its path, class, marker and width are written out only
/// for the markup or for a patch that changes them, not for every edge on every refresh.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeItem {
    pub source: String,
    pub target: String,
    /// The centres of its two nodes (the path runs between their sides).
    pub from: (i64, i64),
    pub to: (i64, i64),
    /// Its health class (`is-healthy`, …), which also picks its arrowhead.
    pub health: &'static str,
    /// Its width in half pixels: a refresh whose rates moved a little changes no line's width in
    /// the DOM (a tenth of a pixel is not visible; 3,000 restyled lines are).
    pub half_px: i64,
    pub label: String,
}

impl EdgeItem {
    pub fn class(&self) -> String {
        format!("graph-edge-line {}", self.health)
    }

    pub fn marker(&self) -> String {
        format!("url(#arrow-{})", self.health)
    }

    pub fn width(&self) -> String {
        fixed(self.half_px as f64 / 2.0, 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BadgeItem {
    pub service: String,
    pub at: (i64, i64),
    pub requested: String,
    pub observed: String,
    pub verdict: String,
    pub verdict_class: String,
    pub health: String,
    pub health_class: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    /// The drawing's size in world pixels (of the whole laid-out graph, hidden nodes included,
    /// so hiding never moves anything).
    pub size: (i64, i64),
    pub nodes: Vec<NodeItem>,
    pub edges: Vec<EdgeItem>,
    pub badges: Vec<BadgeItem>,
}

/// Children of a node's `<g>`, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodePart {
    /// The `<g>`'s `class`.
    Class,
    /// The `<g>`'s `aria-pressed`.
    Pressed,
    /// Child 0, `<title>`.
    Title,
    /// Child 2, the name `<text>` (child 1 is the shape).
    Name,
    /// Child 3, the caption `<text>`.
    Caption,
}

/// What a patch changes of an edge: its `<path>` or its label (the same index in the labels
/// group). Its tooltip is written from the snapshot each time the pointer comes over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgePart {
    Class,
    Width,
    Marker,
    Label,
}

/// Children of a split badge's `<g>`: 0 the text with the requested (0) and observed (1)
/// `<tspan>`s, 1 the verdict, 2 the health line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadgePart {
    Requested,
    Observed,
    Verdict,
    VerdictClass,
    Health,
    HealthClass,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Patch {
    Node(usize, NodePart, String),
    Edge(usize, EdgePart, String),
    Badge(usize, BadgePart, String),
}

impl Scene {
    pub fn build(input: &SceneInput) -> Scene {
        let graph = input.graph;
        let index = VitalsIndex::of(graph);
        let max_rate = graph.edges.iter().map(|e| e.rate).fold(0.0, f64::max);
        let finding = !input.query.trim().is_empty();

        let mut nodes: Vec<NodeItem> = graph
            .nodes
            .iter()
            .filter(|n| !input.hidden.contains(&n.id))
            .filter_map(|n| {
                let point = input.positions.point(&n.id)?;
                let group = input.groups.get(&n.id);
                let vitals = index.node(&n.id);
                let (shape, kind_class) = match (group, n.kind) {
                    (Some(_), _) => (Shape::Group, "is-group"),
                    (None, NodeKind::Service) => (Shape::Pill, "is-service"),
                    (None, NodeKind::Workload) => (Shape::Box, "is-workload"),
                    (None, NodeKind::Entry) => (Shape::Circle, "is-entry"),
                    (None, NodeKind::Unknown) => (Shape::Dashed, "is-unknown"),
                };
                let button = matches!(shape, Shape::Pill | Shape::Group);
                let selected = input.selected == Some(n.id.as_str());
                let mut class = format!("graph-node {kind_class}");
                if button {
                    class.push_str(" is-selectable");
                }
                if selected {
                    class.push_str(" is-selected");
                }
                if matches!(n.kind, NodeKind::Service | NodeKind::Workload) {
                    let _ = write!(
                        class,
                        " health-{}",
                        vitals.health().class().trim_start_matches("is-")
                    );
                }
                if finding && matches(n, input.query) {
                    class.push_str(" is-match");
                }
                let (title, caption_text) = match group {
                    Some(info) => (
                        format!(
                            "{}, collapsed: {} nodes, {} rps in. Press Enter or click to expand.",
                            capitalise(&info.group.describe()),
                            info.members.len(),
                            fixed(vitals.rate, 1)
                        ),
                        format!("{} nodes · {} rps", info.members.len(), fixed(n.rate_in, 1)),
                    ),
                    None => (node_tooltip(n, &vitals, index.out_rate(&n.id)), caption(n)),
                };
                Some(NodeItem {
                    id: n.id.clone(),
                    point,
                    shape,
                    button,
                    class,
                    pressed: (shape == Shape::Pill).then_some(selected),
                    title,
                    name: shorten(&n.name),
                    caption: caption_text,
                })
            })
            .collect();
        // Document order is tab order: left to right, then top to bottom, as drawn.
        nodes.sort_by(|a, b| a.point.cmp(&b.point).then_with(|| a.id.cmp(&b.id)));
        let shown: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();

        let edges = graph
            .edges
            .iter()
            .filter(|e| shown.contains(e.source.as_str()) && shown.contains(e.target.as_str()))
            .filter_map(|e| {
                Some(EdgeItem {
                    source: e.source.clone(),
                    target: e.target.clone(),
                    from: input.positions.point(&e.source)?,
                    to: input.positions.point(&e.target)?,
                    health: Health::of(e).class(),
                    half_px: (edge_width(e.rate, max_rate) * 2.0).round() as i64,
                    label: edge_label(input.mode, e),
                })
            })
            .collect();

        let badges = graph
            .splits
            .iter()
            .filter_map(|s| {
                let id = service_node_id(&s.namespace, &s.service);
                if !shown.contains(id.as_str()) {
                    return None;
                }
                let (x, y) = input.positions.point(&id)?;
                let text = split_text(s, input.new_subset)?;
                let version = rollout_version(s, input.new_subset)?;
                let vitals = index.version(s, version);
                let name = version
                    .version
                    .clone()
                    .unwrap_or_else(|| version.subset.clone());
                Some(BadgeItem {
                    service: s.service.clone(),
                    at: (x, y + NODE_HEIGHT / 2),
                    verdict: text
                        .verdict
                        .as_ref()
                        .map(|v| format!("{} {v}", text.version))
                        .unwrap_or_default(),
                    verdict_class: match text.agrees {
                        Some(true) => "graph-split-verdict is-in-line",
                        Some(false) => "graph-split-verdict is-off",
                        None => "graph-split-verdict",
                    }
                    .to_owned(),
                    health: format!("{name} {}", vitals.summary()),
                    health_class: format!("graph-split-health {}", vitals.health().class()),
                    requested: text.requested,
                    observed: text.observed,
                })
            })
            .collect();

        Scene {
            size: input.positions.size(),
            nodes,
            edges,
            badges,
        }
    }

    /// The SVG of the whole scene: four groups (edge lines, edge labels, nodes, split badges), in
    /// that order. Without `texts` (a zoom where no text is legible, [`Detail::Shapes`]) the
    /// labels, badges and node names are left out, so a fitted mesh of thousands of nodes is
    /// lines and shapes only: about a third of the elements to parse, style and lay out.
    ///
    /// [`Detail::Shapes`]: super::viewport::Detail::Shapes
    pub fn markup(&self, texts: bool) -> String {
        let mut out = String::with_capacity(
            self.edges.len() * 300 + self.nodes.len() * 520 + self.badges.len() * 600 + 64,
        );
        // An edge is one path; its tooltip is written when the pointer comes over it
        // (`graph_canvas.rs`), not formatted and parsed 3,000 times per snapshot.
        out.push_str(r#"<g class="graph-edges">"#);
        for e in &self.edges {
            let (d, _) = geometry(e.from, e.to);
            let _ = write!(
                out,
                r#"<path class="{}" data-testid="{}" d="{d}" stroke-width="{}" marker-end="{}"/>"#,
                e.class(),
                Escaped(&test_ids::edge(&e.source, &e.target)),
                e.width(),
                e.marker(),
            );
        }
        out.push_str(r#"</g><g class="graph-edge-labels">"#);
        for e in self.edges.iter().filter(|_| texts) {
            let (_, label_at) = geometry(e.from, e.to);
            let _ = write!(
                out,
                r#"<text class="graph-edge-label" data-testid="{}" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                Escaped(&test_ids::edge_label(&e.source, &e.target)),
                label_at.0,
                label_at.1 - 5,
                Escaped(&e.label),
            );
        }
        out.push_str(r#"</g><g class="graph-nodes">"#);
        let (w, h) = (NODE_WIDTH, NODE_HEIGHT);
        for n in &self.nodes {
            let _ = write!(
                out,
                r#"<g class="{}" data-testid="{}" data-node="{}" transform="translate({},{})""#,
                n.class,
                Escaped(&test_ids::node(&n.id)),
                Escaped(&n.id),
                n.point.0,
                n.point.1
            );
            if n.button {
                out.push_str(r#" tabindex="0" role="button""#);
            }
            if let Some(pressed) = n.pressed {
                let _ = write!(out, r#" aria-pressed="{pressed}""#);
            }
            if n.shape == Shape::Group {
                out.push_str(r#" aria-expanded="false""#);
            }
            let _ = write!(out, "><title>{}</title>", Escaped(&n.title));
            let _ = match n.shape {
                Shape::Pill => write!(
                    out,
                    r#"<rect class="graph-node-shape" x="{}" y="{}" width="{w}" height="{h}" rx="{}"/>"#,
                    -w / 2,
                    -h / 2,
                    h / 2
                ),
                Shape::Box | Shape::Dashed => write!(
                    out,
                    r#"<rect class="graph-node-shape" x="{}" y="{}" width="{w}" height="{h}" rx="4"/>"#,
                    -w / 2,
                    -h / 2
                ),
                Shape::Group => write!(
                    out,
                    r#"<rect class="graph-node-shape" x="{}" y="{}" width="{w}" height="{h}" rx="10"/>"#,
                    -w / 2,
                    -h / 2
                ),
                Shape::Circle => write!(
                    out,
                    r#"<circle class="graph-node-shape" r="{}" cx="{}"/>"#,
                    h / 2,
                    w / 2 - h / 2
                ),
            };
            // Entry is a circle at the right end of its slot, its label to its left.
            let (x, anchor) = if n.shape == Shape::Circle {
                (w / 2 - h - 6, "end")
            } else {
                (0, "middle")
            };
            if texts {
                let _ = write!(
                    out,
                    r#"<text class="graph-node-name" x="{x}" y="-3" text-anchor="{anchor}">{}</text><text class="graph-node-caption" x="{x}" y="12" text-anchor="{anchor}">{}</text>"#,
                    Escaped(&n.name),
                    Escaped(&n.caption)
                );
            }
            out.push_str("</g>");
        }
        out.push_str(r#"</g><g class="graph-splits">"#);
        for b in self.badges.iter().filter(|_| texts) {
            let s = &b.service;
            let _ = write!(
                out,
                r#"<g class="graph-split" transform="translate({},{})"><text class="graph-split-text" data-testid="{}" y="14" text-anchor="middle"><tspan data-testid="{}">{}</tspan> · <tspan data-testid="{}">{}</tspan></text><text y="28" text-anchor="middle" class="{}" data-testid="{}">{}</text><text y="42" text-anchor="middle" class="{}" data-testid="{}">{}</text></g>"#,
                b.at.0,
                b.at.1,
                Escaped(&test_ids::split(s)),
                Escaped(&test_ids::requested(s)),
                Escaped(&b.requested),
                Escaped(&test_ids::observed(s)),
                Escaped(&b.observed),
                b.verdict_class,
                Escaped(&test_ids::verdict(s)),
                Escaped(&b.verdict),
                b.health_class,
                Escaped(&test_ids::split_health(s)),
                Escaped(&b.health),
            );
        }
        out.push_str("</g>");
        out
    }

    /// The world point of a node, if it is drawn.
    pub fn point_of(&self, id: &str) -> Option<(i64, i64)> {
        self.nodes.iter().find(|n| n.id == id).map(|n| n.point)
    }
}

/// What changes `old` into `new` attribute by attribute, or `None` when their structure differs
/// (a node, edge or badge came, went or moved) and the markup must be built again.
pub fn patches(old: &Scene, new: &Scene) -> Option<Vec<Patch>> {
    let same_nodes = old.nodes.len() == new.nodes.len()
        && old
            .nodes
            .iter()
            .zip(&new.nodes)
            .all(|(a, b)| a.id == b.id && a.point == b.point && a.shape == b.shape);
    let same_edges = old.edges.len() == new.edges.len()
        && old.edges.iter().zip(&new.edges).all(|(a, b)| {
            a.source == b.source && a.target == b.target && a.from == b.from && a.to == b.to
        });
    let same_badges = old.badges.len() == new.badges.len()
        && old
            .badges
            .iter()
            .zip(&new.badges)
            .all(|(a, b)| a.service == b.service && a.at == b.at);
    if old.size != new.size || !same_nodes || !same_edges || !same_badges {
        return None;
    }
    let mut out = Vec::new();
    for (i, (a, b)) in old.nodes.iter().zip(&new.nodes).enumerate() {
        let mut put = |part, x: &String, y: &String| {
            if x != y {
                out.push(Patch::Node(i, part, y.clone()));
            }
        };
        put(NodePart::Class, &a.class, &b.class);
        put(NodePart::Title, &a.title, &b.title);
        put(NodePart::Name, &a.name, &b.name);
        put(NodePart::Caption, &a.caption, &b.caption);
        if a.pressed != b.pressed {
            if let Some(p) = b.pressed {
                out.push(Patch::Node(i, NodePart::Pressed, p.to_string()));
            }
        }
    }
    for (i, (a, b)) in old.edges.iter().zip(&new.edges).enumerate() {
        if a.health != b.health {
            out.push(Patch::Edge(i, EdgePart::Class, b.class()));
        }
        if a.half_px != b.half_px {
            out.push(Patch::Edge(i, EdgePart::Width, b.width()));
        }
        if a.health != b.health {
            out.push(Patch::Edge(i, EdgePart::Marker, b.marker()));
        }
        if a.label != b.label {
            out.push(Patch::Edge(i, EdgePart::Label, b.label.clone()));
        }
    }
    for (i, (a, b)) in old.badges.iter().zip(&new.badges).enumerate() {
        let mut put = |part, x: &String, y: &String| {
            if x != y {
                out.push(Patch::Badge(i, part, y.clone()));
            }
        };
        put(BadgePart::Requested, &a.requested, &b.requested);
        put(BadgePart::Observed, &a.observed, &b.observed);
        put(BadgePart::Verdict, &a.verdict, &b.verdict);
        put(BadgePart::VerdictClass, &a.verdict_class, &b.verdict_class);
        put(BadgePart::Health, &a.health, &b.health);
        put(BadgePart::HealthClass, &a.health_class, &b.health_class);
    }
    Some(out)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text escaped for XML content and double-quoted attributes.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{find, layout, synthetic};
    use super::*;

    fn scene(graph: &Graph, mode: LabelMode, selected: Option<&str>) -> Scene {
        let positions = layout::layout(&layout::Positions::default(), graph);
        Scene::build(&SceneInput {
            graph,
            positions: &positions,
            mode,
            selected,
            new_subset: Some("new"),
            hidden: &HashSet::new(),
            query: "",
            groups: &BTreeMap::new(),
        })
    }

    #[test]
    fn the_markup_keeps_ids_roles_and_tooltips() {
        let g = synthetic::graph(40, 120);
        let s = scene(&g, LabelMode::Distribution, Some("svc:bench:svc0001"));
        assert_eq!(s.nodes.len(), g.nodes.len());
        assert_eq!(s.edges.len(), g.edges.len());
        assert_eq!(s.badges.len(), g.splits.len());
        let m = s.markup(true);
        assert!(m.contains(r#"data-testid="graph-node-svc:bench:svc0001""#));
        assert!(m.contains(r#"role="button" aria-pressed="true""#));
        assert!(m.contains(r#"data-testid="graph-edge-entry--svc:bench:svc0000""#));
        assert!(m.contains(r#"data-testid="requested-svc0001">requested 20%</tspan>"#));
        assert_eq!(m.matches("<g class=\"graph-node ").count(), g.nodes.len());
        // Node tooltips are drawn; an edge's comes with the pointer.
        assert_eq!(m.matches("<title>").count(), g.nodes.len());
        assert_eq!(m.matches("<path ").count(), g.edges.len());
        assert_eq!(
            m.matches(r#"<text class="graph-edge-label""#).count(),
            g.edges.len()
        );
        // Where no text is legible none is drawn: the same nodes and lines, no labels or badges.
        let shapes = s.markup(false);
        assert_eq!(
            shapes.matches("<g class=\"graph-node ").count(),
            g.nodes.len()
        );
        assert_eq!(shapes.matches("<path ").count(), g.edges.len());
        assert_eq!(shapes.matches("<title>").count(), g.nodes.len());
        assert!(!shapes.contains("<text"), "{shapes}");
        assert!(shapes.len() < m.len());
        // Nodes go left to right, then top to bottom.
        assert!(s.nodes.windows(2).all(|w| w[0].point <= w[1].point));
        assert_eq!(
            Escaped(r#"a<b & "c" 'd'>"#).to_string(),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
    }

    #[test]
    fn a_refresh_or_a_label_mode_is_patched_not_rebuilt() {
        let g = synthetic::graph(40, 120);
        let before = scene(&g, LabelMode::Distribution, None);
        let mut busier = g.clone();
        for e in &mut busier.edges {
            e.rate *= 1.5;
            e.p95_ms = e.p95_ms.map(|p| p + 1.0);
        }
        for n in &mut busier.nodes {
            n.rate_in *= 1.5;
        }
        let after = scene(&busier, LabelMode::Rate, None);
        let patch = patches(&before, &after).expect("same structure");
        let labels = patch
            .iter()
            .filter(|p| matches!(p, Patch::Edge(_, EdgePart::Label, _)))
            .count();
        assert_eq!(labels, g.edges.iter().filter(|e| e.rate > 0.0).count());
        assert!(patch
            .iter()
            .any(|p| matches!(p, Patch::Node(_, NodePart::Caption, _))));
        assert_eq!(patches(&after, &after), Some(Vec::new()));
        let selected = scene(&busier, LabelMode::Rate, Some("svc:bench:svc0002"));
        let patch = patches(&after, &selected).expect("same structure");
        assert_eq!(patch.len(), 2, "{patch:?}");
        let mut smaller = g.clone();
        smaller.edges.pop();
        assert_eq!(
            patches(&before, &scene(&smaller, LabelMode::Rate, None)),
            None
        );
    }

    #[test]
    fn hidden_and_collapsed_nodes() {
        let g = synthetic::graph(40, 120);
        let positions = layout::layout(&layout::Positions::default(), &g);
        let hidden: HashSet<String> = ["svc:bench:svc0001".to_owned()].into();
        let s = Scene::build(&SceneInput {
            graph: &g,
            positions: &positions,
            mode: LabelMode::Rate,
            selected: None,
            new_subset: None,
            hidden: &hidden,
            query: "svc0002",
            groups: &BTreeMap::new(),
        });
        assert!(s.point_of("svc:bench:svc0001").is_none());
        assert!(s.edges.iter().all(|e| e.source != "svc:bench:svc0001"));
        assert!(s.badges.iter().all(|b| b.service != "svc0001"));
        assert_eq!(s.size, positions.size());
        let lit: Vec<&str> = s
            .nodes
            .iter()
            .filter(|n| n.class.contains("is-match"))
            .map(|n| n.id.as_str())
            .collect();
        assert_eq!(lit.len(), 3, "{lit:?}");

        let group = find::Group::Namespace("bench".into());
        let (c, infos) = find::collapse(&g, &[group]);
        let positions = layout::layout(&layout::Positions::default(), &c);
        let s = Scene::build(&SceneInput {
            graph: &c,
            positions: &positions,
            mode: LabelMode::Rate,
            selected: None,
            new_subset: None,
            hidden: &HashSet::new(),
            query: "",
            groups: &infos,
        });
        let node = &s.nodes[1];
        assert_eq!(node.shape, Shape::Group);
        assert!(node.button && node.pressed.is_none());
        assert!(
            node.title
                .starts_with("Namespace bench, collapsed: 39 nodes"),
            "{}",
            node.title
        );
        assert!(s.markup(false).contains(r#"aria-expanded="false""#));
    }
}
