//! Pure layered layout of the traffic graph, left to right: entry, the services it calls, their
//! workloads, the services those call, their workloads, and so on.
//!
//! **Stability** is the point: [`layout`] takes the previous [`Positions`] and keeps every node
//! it already placed exactly where it was; only new nodes are placed, each in the nearest free
//! slot of its layer, and nothing else moves. Positions depend on node ids and on which edges
//! exist, never on rates, so new metrics never make a node jump.
//!
//! New nodes are placed in three steps:
//! 1. **Layer** from structure: entry is 0; a service is one right of its furthest caller; a
//!    workload is one right of the furthest service that routes to it (or of the service named
//!    by its `app` label while it has no traffic); nodes without edges go by kind. Cycles are
//!    cut where they close. A known node keeps its layer and anchors its neighbours'.
//! 2. **Order** (to limit crossings on a first layout): one left-to-right barycentre sweep
//!    sorts each layer's new nodes by the mean order of their callers, ties by id.
//! 3. **Row**, right to left so parents centre on their children: a node's wanted row is the
//!    mean row of its already placed neighbours (or just below the layer's lowest node when it
//!    has none); it takes the free slot nearest to that. Rows are kept in half-row units so a
//!    service sits midway between its two versions.

use std::collections::{BTreeMap, BTreeSet};
use switchyard_protocol::{Graph, NodeKind};

/// Horizontal distance between layers, in pixels.
pub const LAYER_GAP: i64 = 250;
/// Vertical distance between two rows, in pixels (a slot is half a row).
pub const ROW_GAP: i64 = 84;
/// Node box size, in pixels.
pub const NODE_WIDTH: i64 = 164;
pub const NODE_HEIGHT: i64 = 42;
/// Room around the drawing (labels under nodes need some below).
pub const MARGIN: i64 = 40;
/// Two nodes of a layer are at least this many half-rows apart.
const MIN_SEPARATION: i64 = 2;

/// Where one node sits: its layer (column) and its row in half-row units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    pub layer: u32,
    pub half_row: i64,
}

impl Slot {
    /// Centre of the node in the SVG, in pixels.
    pub fn point(self) -> (i64, i64) {
        (
            MARGIN + NODE_WIDTH / 2 + i64::from(self.layer) * LAYER_GAP,
            MARGIN + NODE_HEIGHT / 2 + self.half_row * ROW_GAP / 2,
        )
    }
}

/// The slot of every node of the graph last laid out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    slots: BTreeMap<String, Slot>,
    /// Nodes placed while they had no edge: their layer was a guess (module docs).
    guessed: BTreeSet<String>,
}

impl Positions {
    pub fn get(&self, id: &str) -> Option<Slot> {
        self.slots.get(id).copied()
    }

    pub fn point(&self, id: &str) -> Option<(i64, i64)> {
        self.get(id).map(Slot::point)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Slot)> {
        self.slots.iter().map(|(id, slot)| (id.as_str(), *slot))
    }

    /// Puts `id` in `slot` (a collapsed group takes its first member's place).
    pub fn insert(&mut self, id: String, slot: Slot) {
        self.slots.insert(id, slot);
    }

    /// Keeps every slot of `newer`, and this one's for nodes `newer` does not have: the memory
    /// that brings a node back to its old place when a filter or a collapse let it go.
    pub fn remember(&mut self, newer: &Positions) {
        for (id, slot) in &newer.slots {
            self.slots.insert(id.clone(), *slot);
            if newer.guessed.contains(id) {
                self.guessed.insert(id.clone());
            } else {
                self.guessed.remove(id);
            }
        }
    }

    /// Whether `id`'s place is a guess, made while it had no edge (module docs).
    pub fn is_guessed(&self, id: &str) -> bool {
        self.guessed.contains(id)
    }

    /// Whether laying out `graph` again would give exactly these positions, with no work: the
    /// graph has exactly the nodes placed here, and none of their places is a guess (a guess is
    /// reconsidered when edges show). A metrics refresh of a stable mesh is this case; it saves
    /// the re-layout (the node set, the graph's structure and a copy of every slot) per refresh.
    pub fn hold_for(&self, graph: &Graph) -> bool {
        if !self.guessed.is_empty() || graph.nodes.len() < self.slots.len() {
            return false;
        }
        let mut ids = std::collections::HashSet::with_capacity(graph.nodes.len());
        for n in &graph.nodes {
            if !self.slots.contains_key(&n.id) {
                return false;
            }
            ids.insert(n.id.as_str());
        }
        ids.len() == self.slots.len()
    }

    /// Width and height the SVG needs, in pixels.
    pub fn size(&self) -> (i64, i64) {
        let (mut right, mut bottom) = (0, 0);
        for slot in self.slots.values() {
            let (x, y) = slot.point();
            right = right.max(x + NODE_WIDTH / 2);
            bottom = bottom.max(y + NODE_HEIGHT / 2);
        }
        // Room for the split label under the lowest service and for edge labels.
        (right + MARGIN, bottom + MARGIN + 24)
    }
}

/// Lays out `graph`, keeping every node of `previous` that is still in the graph where it was.
pub fn layout(previous: &Positions, graph: &Graph) -> Positions {
    let ids: BTreeSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    // A guess stays a guess while no edge shows up; once placed from edges, always from edges
    // (a metrics outage that empties the edges moves nothing).
    let structure = Structure::of(graph);
    let connected =
        |id: &str| structure.incoming.contains_key(id) || structure.outgoing.contains_key(id);
    // Guessed places are reconsidered when the node now has edges, and so are the guessed
    // places of a reconsidered service's versions (they stood after it by the `app` label).
    let mut reconsidered: BTreeMap<&str, Slot> = BTreeMap::new();
    for (id, slot) in &previous.slots {
        if ids.contains(id.as_str()) && previous.guessed.contains(id) && connected(id) {
            reconsidered.insert(id.as_str(), *slot);
        }
    }
    for (id, slot) in &previous.slots {
        let follows = structure
            .service_of(id)
            .is_some_and(|service| reconsidered.contains_key(service));
        if ids.contains(id.as_str()) && previous.guessed.contains(id) && follows {
            reconsidered.insert(id.as_str(), *slot);
        }
    }
    let mut slots: BTreeMap<String, Slot> = previous
        .slots
        .iter()
        .filter(|(id, _)| ids.contains(id.as_str()) && !reconsidered.contains_key(id.as_str()))
        .map(|(id, slot)| (id.clone(), *slot))
        .collect();
    let guessed_of = |slots: &BTreeMap<String, Slot>| -> BTreeSet<String> {
        slots
            .keys()
            .filter(|id| {
                !connected(id)
                    && (previous.guessed.contains(id.as_str())
                        || !previous.slots.contains_key(id.as_str()))
            })
            .cloned()
            .collect()
    };
    if slots.len() == ids.len() {
        let guessed = guessed_of(&slots);
        return Positions { slots, guessed };
    }

    let mut layers = structure.layers(graph, &slots);
    // A reconsidered node whose layer is the one it stands in keeps its place.
    let mut kept = false;
    for (id, slot) in reconsidered {
        if layers.get(id) == Some(&slot.layer) {
            slots.insert(id.to_owned(), slot);
            kept = true;
        }
    }
    if kept {
        layers = structure.layers(graph, &slots);
    }

    // Order: one barycentre sweep from left to right over the new nodes.
    let max_layer = layers.values().copied().max().unwrap_or(0);
    let mut order: BTreeMap<&str, f64> = BTreeMap::new();
    let mut new_by_layer: Vec<Vec<&str>> = vec![Vec::new(); max_layer as usize + 1];
    for layer in 0..=max_layer {
        let mut members: Vec<(&str, f64)> = layers
            .iter()
            .filter(|(_, &l)| l == layer)
            .map(|(&id, _)| {
                let key = match slots.get(id) {
                    Some(slot) => slot.half_row as f64,
                    None => mean(
                        structure
                            .callers(id)
                            .filter_map(|caller| order.get(caller).copied()),
                    )
                    // A version without traffic yet sorts with its service's other versions.
                    .or_else(|| structure.service_of(id).and_then(|s| order.get(s).copied()))
                    .unwrap_or(f64::MAX),
                };
                (id, key)
            })
            .collect();
        members.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        for (rank, (id, _)) in members.iter().enumerate() {
            order.insert(id, rank as f64);
            if !slots.contains_key(*id) {
                new_by_layer[layer as usize].push(id);
            }
        }
    }

    // Rows: right to left, so a node centres on the children placed before it.
    let mut occupied: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); max_layer as usize + 1];
    for slot in slots.values() {
        if let Some(rows) = occupied.get_mut(slot.layer as usize) {
            rows.insert(slot.half_row);
        }
    }
    for layer in (0..=max_layer).rev() {
        for id in &new_by_layer[layer as usize] {
            let rows = &mut occupied[layer as usize];
            let wanted = mean(
                structure
                    .neighbours(id)
                    .filter_map(|n| slots.get(n))
                    .map(|slot| slot.half_row as f64),
            )
            .map(|m| m.round() as i64)
            .unwrap_or_else(|| rows.last().map_or(0, |last| last + MIN_SEPARATION));
            let half_row = nearest_free(rows, wanted);
            rows.insert(half_row);
            slots.insert((*id).to_owned(), Slot { layer, half_row });
        }
    }
    let guessed = guessed_of(&slots);
    Positions { slots, guessed }
}

/// The free half-row nearest to `wanted` (not above the top), preferring the lower one on a tie.
fn nearest_free(rows: &BTreeSet<i64>, wanted: i64) -> i64 {
    let wanted = wanted.max(0);
    let free = |row: i64| {
        row >= 0
            && rows
                .range(row - MIN_SEPARATION + 1..row + MIN_SEPARATION)
                .next()
                .is_none()
    };
    (0..)
        .flat_map(|distance| [wanted + distance, wanted - distance])
        .find(|&row| free(row))
        .unwrap_or(wanted)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Who is connected to whom, from the edges that exist (rates play no part).
struct Structure<'g> {
    kinds: BTreeMap<&'g str, NodeKind>,
    incoming: BTreeMap<&'g str, Vec<&'g str>>,
    outgoing: BTreeMap<&'g str, Vec<&'g str>>,
    /// `(namespace, app)` → service id, to place a workload without traffic after its service.
    service_of_app: BTreeMap<(&'g str, &'g str), &'g str>,
    app_of: BTreeMap<&'g str, (&'g str, &'g str)>,
    /// Service id → its workloads by `app` label.
    versions: BTreeMap<&'g str, Vec<&'g str>>,
}

impl<'g> Structure<'g> {
    fn of(graph: &'g Graph) -> Self {
        let kinds: BTreeMap<&str, NodeKind> = graph
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.kind))
            .collect();
        let mut incoming: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut outgoing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in &graph.edges {
            if kinds.contains_key(e.source.as_str()) && kinds.contains_key(e.target.as_str()) {
                incoming
                    .entry(e.target.as_str())
                    .or_default()
                    .push(e.source.as_str());
                outgoing
                    .entry(e.source.as_str())
                    .or_default()
                    .push(e.target.as_str());
            }
        }
        for list in incoming.values_mut().chain(outgoing.values_mut()) {
            list.sort_unstable();
            list.dedup();
        }
        let mut service_of_app = BTreeMap::new();
        let mut app_of = BTreeMap::new();
        for n in &graph.nodes {
            match n.kind {
                NodeKind::Service => {
                    service_of_app.insert((n.namespace.as_str(), n.name.as_str()), n.id.as_str());
                }
                NodeKind::Workload => {
                    if let Some(app) = &n.app {
                        app_of.insert(n.id.as_str(), (n.namespace.as_str(), app.as_str()));
                    }
                }
                NodeKind::Entry | NodeKind::Unknown => {}
            }
        }
        let mut versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (&workload, key) in &app_of {
            if let Some(&service) = service_of_app.get(key) {
                versions.entry(service).or_default().push(workload);
            }
        }
        Structure {
            kinds,
            incoming,
            outgoing,
            service_of_app,
            app_of,
            versions,
        }
    }

    fn callers<'a>(&'a self, id: &str) -> impl Iterator<Item = &'g str> + 'a {
        self.incoming.get(id).into_iter().flatten().copied()
    }

    /// Callers, callees, and a service's versions (and a version's service) even before
    /// traffic flows between them, so a service stands between all its versions.
    fn neighbours<'a>(&'a self, id: &str) -> impl Iterator<Item = &'g str> + 'a {
        self.callers(id)
            .chain(self.outgoing.get(id).into_iter().flatten().copied())
            .chain(self.versions.get(id).into_iter().flatten().copied())
            .chain(self.service_of(id))
    }

    /// The service a workload belongs to by its `app` label.
    fn service_of(&self, id: &str) -> Option<&'g str> {
        self.app_of
            .get(id)
            .and_then(|key| self.service_of_app.get(key))
            .copied()
    }

    /// The layer of every node: known nodes keep theirs, new ones follow the rules above.
    fn layers(&self, graph: &'g Graph, known: &BTreeMap<String, Slot>) -> BTreeMap<&'g str, u32> {
        let mut layers: BTreeMap<&'g str, u32> = BTreeMap::new();
        for n in &graph.nodes {
            if let Some(slot) = known.get(&n.id) {
                layers.insert(n.id.as_str(), slot.layer);
            }
        }
        let mut on_path = BTreeSet::new();
        for n in &graph.nodes {
            self.layer_of(n.id.as_str(), &mut layers, &mut on_path);
        }
        layers
    }

    /// Longest path from the left, memoised; an edge back into the current path is ignored.
    fn layer_of(
        &self,
        id: &'g str,
        layers: &mut BTreeMap<&'g str, u32>,
        on_path: &mut BTreeSet<&'g str>,
    ) -> Option<u32> {
        if let Some(&layer) = layers.get(id) {
            return Some(layer);
        }
        if !on_path.insert(id) {
            return None;
        }
        let kind = self.kinds.get(id).copied().unwrap_or(NodeKind::Unknown);
        let furthest_caller = self
            .callers(id)
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|caller| self.layer_of(caller, layers, on_path))
            .max();
        let layer = match (kind, furthest_caller) {
            (NodeKind::Entry, _) => 0,
            (_, Some(caller)) => caller + 1,
            (NodeKind::Service, None) => 1,
            (NodeKind::Workload, None) => match self.service_of(id) {
                Some(service) => self.layer_of(service, layers, on_path).unwrap_or(1) + 1,
                // A workload that only calls out is a client: it stands where entry does.
                None if self.outgoing.contains_key(id) => 0,
                None => 2,
            },
            (NodeKind::Unknown, None) => 2,
        };
        on_path.remove(id);
        layers.insert(id, layer);
        Some(layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::{Edge, Node};

    fn node(id: &str) -> Node {
        let mut parts = id.split(':');
        let kind = match parts.next() {
            Some("svc") => NodeKind::Service,
            Some("wl") => NodeKind::Workload,
            Some("entry") => NodeKind::Entry,
            _ => NodeKind::Unknown,
        };
        let namespace = parts.next().unwrap_or("").to_owned();
        let name = parts.next().unwrap_or(id).to_owned();
        let (app, version) = match name.rsplit_once('-') {
            Some((app, version)) if kind == NodeKind::Workload => {
                (Some(app.to_owned()), Some(version.to_owned()))
            }
            _ => (None, None),
        };
        Node {
            id: id.into(),
            kind,
            namespace,
            name,
            app,
            version,
            rate_in: 0.0,
        }
    }

    fn edge(source: &str, target: &str, rate: f64) -> Edge {
        Edge {
            id: format!("{source}->{target}"),
            source: source.into(),
            target: target.into(),
            rate,
            share: Some(50.0),
            error_share: 0.0,
            p95_ms: Some(10.0),
        }
    }

    /// The demo's mesh: entry → product-composite → product, recommendation, review, each with
    /// v1 (getting traffic) and v2 (no traffic yet).
    fn demo() -> Graph {
        let mut nodes = vec![node("entry"), node("svc:h:product-composite")];
        nodes.push(node("wl:h:product-composite-v1"));
        let mut edges = vec![
            edge("entry", "svc:h:product-composite", 20.0),
            edge("svc:h:product-composite", "wl:h:product-composite-v1", 20.0),
        ];
        for service in ["product", "recommendation", "review"] {
            let svc = format!("svc:h:{service}");
            nodes.push(node(&svc));
            nodes.push(node(&format!("wl:h:{service}-v1")));
            nodes.push(node(&format!("wl:h:{service}-v2")));
            edges.push(edge("wl:h:product-composite-v1", &svc, 20.0));
            edges.push(edge(&svc, &format!("wl:h:{service}-v1"), 20.0));
        }
        Graph {
            nodes,
            edges,
            ..Graph::default()
        }
    }

    fn fresh(graph: &Graph) -> Positions {
        layout(&Positions::default(), graph)
    }

    fn assert_no_overlap(positions: &Positions) {
        let points: BTreeSet<(i64, i64)> = positions.iter().map(|(_, s)| s.point()).collect();
        assert_eq!(points.len(), positions.len(), "two nodes share a point");
        for (a, sa) in positions.iter() {
            for (b, sb) in positions.iter() {
                if a < b && sa.layer == sb.layer {
                    assert!(
                        (sa.half_row - sb.half_row).abs() >= MIN_SEPARATION,
                        "{a} and {b} overlap"
                    );
                }
            }
        }
    }

    #[test]
    fn demo_is_layered_left_to_right() {
        let p = fresh(&demo());
        let layer = |id: &str| p.get(id).unwrap().layer;
        assert_eq!(layer("entry"), 0);
        assert_eq!(layer("svc:h:product-composite"), 1);
        assert_eq!(layer("wl:h:product-composite-v1"), 2);
        for service in ["product", "recommendation", "review"] {
            assert_eq!(layer(&format!("svc:h:{service}")), 3);
            // v2 has no edge yet; it still stands next to v1, after its service.
            assert_eq!(layer(&format!("wl:h:{service}-v1")), 4);
            assert_eq!(layer(&format!("wl:h:{service}-v2")), 4);
        }
        assert_no_overlap(&p);
        // Services in id order, each between its versions; callers centred on what they call.
        let row = |id: &str| p.get(id).unwrap().half_row;
        assert!(row("svc:h:product") < row("svc:h:recommendation"));
        assert!(row("svc:h:recommendation") < row("svc:h:review"));
        assert!(row("wl:h:review-v1") >= row("svc:h:review") - 2);
        assert_eq!(
            row("wl:h:product-composite-v1"),
            row("svc:h:recommendation")
        );
        assert_eq!(row("entry"), row("svc:h:product-composite"));
    }

    #[test]
    fn a_place_guessed_without_edges_is_reconsidered_once_the_first_edges_show() {
        // A console that starts before the mesh has traffic sees the nodes without edges.
        let mut quiet = demo();
        quiet.edges.clear();
        let before = fresh(&quiet);
        assert_eq!(before.get("svc:h:review").unwrap().layer, 1, "by kind only");
        assert!(before.is_guessed("svc:h:review"));
        let after = layout(&before, &demo());
        let layers = |p: &Positions| {
            p.iter()
                .map(|(id, s)| (id.to_owned(), s.layer))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            layers(&after),
            layers(&fresh(&demo())),
            "the layers edges give"
        );
        assert_no_overlap(&after);
        // What stood in its layer already kept its place.
        assert_eq!(after.get("entry"), before.get("entry"));
        // The same when the first snapshot had a few edges only.
        let mut sparse = demo();
        sparse.edges.truncate(1);
        let early = fresh(&sparse);
        assert!(early.is_guessed("svc:h:review") && !early.is_guessed("entry"));
        assert_eq!(layers(&layout(&early, &demo())), layers(&fresh(&demo())));
        // Remembered through the page's memory too.
        let mut memory = before.clone();
        memory.remember(&after);
        assert_eq!(memory, after);
        assert!(!after.is_guessed("svc:h:review"));
        // From then on nothing moves, not even when the traffic stops again.
        assert_eq!(layout(&after, &quiet), after);
        assert_eq!(layout(&layout(&after, &quiet), &demo()), after);
        // A version without traffic stands where traffic will put it, so it does not move.
        let mut v2_flows = demo();
        v2_flows
            .edges
            .push(edge("svc:h:review", "wl:h:review-v2", 5.0));
        assert_eq!(
            layout(&after, &v2_flows).get("wl:h:review-v2"),
            after.get("wl:h:review-v2")
        );
    }

    #[test]
    fn positions_hold_for_a_graph_of_the_same_nodes_exactly_when_a_layout_would_keep_them() {
        // Every node with an edge (the demo's v2s have none: their places are guesses).
        let mut graph = demo();
        for service in ["product", "recommendation", "review"] {
            let v2 = format!("wl:h:{service}-v2");
            graph
                .edges
                .push(edge(&format!("svc:h:{service}"), &v2, 1.0));
        }
        let placed = fresh(&graph);
        let mut memory = Positions::default();
        memory.remember(&placed);
        // A refresh: other rates, the same nodes (in another order), one edge fewer.
        let mut refreshed = graph.clone();
        refreshed.nodes.reverse();
        refreshed.edges.pop();
        for e in &mut refreshed.edges {
            e.rate *= 3.0;
        }
        assert!(placed.hold_for(&refreshed));
        assert_eq!(layout(&memory, &refreshed), placed);
        // A node more, a node fewer, or a node twice with one missing: lay out again.
        let mut grown = graph.clone();
        grown.nodes.push(node("wl:h:review-v3"));
        assert!(!placed.hold_for(&grown));
        let mut shrunk = graph.clone();
        shrunk.nodes.pop();
        assert!(!placed.hold_for(&shrunk));
        let mut twice = graph.clone();
        let first = twice.nodes[0].clone();
        *twice.nodes.last_mut().unwrap() = first;
        assert!(!placed.hold_for(&twice));
        // A place that was a guess is reconsidered when edges show: no shortcut then.
        let mut quiet = graph.clone();
        quiet.edges.clear();
        let guessed = fresh(&quiet);
        assert!(guessed.iter().any(|(id, _)| guessed.is_guessed(id)));
        assert!(!guessed.hold_for(&graph));
    }

    #[test]
    fn same_input_gives_same_output() {
        let graph = demo();
        assert_eq!(fresh(&graph), fresh(&graph));
        let mut shuffled = graph.clone();
        shuffled.nodes.reverse();
        shuffled.edges.reverse();
        assert_eq!(fresh(&graph), fresh(&shuffled));
    }

    #[test]
    fn changing_every_rate_moves_nothing() {
        let graph = demo();
        let before = fresh(&graph);
        let mut busier = graph.clone();
        for (i, e) in busier.edges.iter_mut().enumerate() {
            e.rate = i as f64 * 7.0;
            e.share = None;
            e.p95_ms = None;
        }
        for n in &mut busier.nodes {
            n.rate_in = 1e6;
        }
        assert_eq!(layout(&before, &busier), before);
        // Even from scratch, rates play no part.
        assert_eq!(fresh(&busier), before);
    }

    #[test]
    fn a_new_node_moves_no_existing_node() {
        let graph = demo();
        let before = fresh(&graph);
        let mut grown = graph.clone();
        grown.nodes.push(node("svc:h:ratings"));
        grown.nodes.push(node("wl:h:ratings-v1"));
        grown
            .edges
            .push(edge("wl:h:review-v2", "svc:h:ratings", 1.0));
        grown
            .edges
            .push(edge("svc:h:ratings", "wl:h:ratings-v1", 1.0));
        // Traffic now reaches review v2: a new edge between known nodes moves nothing either.
        grown
            .edges
            .push(edge("svc:h:review", "wl:h:review-v2", 4.0));
        let after = layout(&before, &grown);
        for (id, slot) in before.iter() {
            assert_eq!(after.get(id), Some(slot), "{id} moved");
        }
        assert_eq!(after.get("svc:h:ratings").unwrap().layer, 5);
        assert_eq!(after.get("wl:h:ratings-v1").unwrap().layer, 6);
        assert_no_overlap(&after);
    }

    #[test]
    fn a_new_node_takes_the_free_slot_nearest_its_neighbours() {
        let mut graph = demo();
        let before = fresh(&graph);
        graph.nodes.push(node("wl:h:review-v3"));
        graph
            .edges
            .push(edge("svc:h:review", "wl:h:review-v3", 1.0));
        let after = layout(&before, &graph);
        let v3 = after.get("wl:h:review-v3").unwrap();
        assert_eq!(v3.layer, 4);
        let review = after.get("svc:h:review").unwrap().half_row;
        let nearest_possible = (v3.half_row - review).abs();
        // Every closer half-row in layer 4 is taken (or above the top).
        for row in (review - nearest_possible + 1)..(review + nearest_possible) {
            let clashes = after.iter().any(|(id, s)| {
                id != "wl:h:review-v3" && s.layer == 4 && (s.half_row - row).abs() < 2
            });
            assert!(clashes || row < 0, "half-row {row} was free");
        }
        assert_no_overlap(&after);
    }

    #[test]
    fn removing_a_node_moves_nothing_else() {
        let graph = demo();
        let before = fresh(&graph);
        let mut shrunk = graph.clone();
        shrunk.nodes.retain(|n| n.id != "svc:h:recommendation");
        shrunk
            .edges
            .retain(|e| e.source != "svc:h:recommendation" && e.target != "svc:h:recommendation");
        let after = layout(&before, &shrunk);
        assert_eq!(after.len(), before.len() - 1);
        for (id, slot) in after.iter() {
            assert_eq!(before.get(id), Some(slot), "{id} moved");
        }
        // And the node that comes back finds a place without moving anyone.
        let again = layout(&after, &graph);
        for (id, slot) in after.iter() {
            assert_eq!(again.get(id), Some(slot), "{id} moved");
        }
        assert_no_overlap(&again);
    }

    #[test]
    fn cycles_and_loose_nodes_still_get_a_layer() {
        let graph = Graph {
            nodes: vec![
                node("svc:h:a"),
                node("wl:h:a-v1"),
                node("svc:h:b"),
                node("wl:h:b-v1"),
                node("unknown"),
                node("wl:h:lonely-v1"),
            ],
            edges: vec![
                edge("svc:h:a", "wl:h:a-v1", 1.0),
                edge("wl:h:a-v1", "svc:h:b", 1.0),
                edge("svc:h:b", "wl:h:b-v1", 1.0),
                edge("wl:h:b-v1", "svc:h:a", 1.0),
            ],
            ..Graph::default()
        };
        let p = fresh(&graph);
        assert_eq!(p.len(), 6);
        assert_eq!(p.get("unknown").unwrap().layer, 2);
        assert_eq!(p.get("wl:h:lonely-v1").unwrap().layer, 2);
        assert_no_overlap(&p);
    }

    #[test]
    fn size_covers_every_node() {
        let p = fresh(&demo());
        let (width, height) = p.size();
        for (_, slot) in p.iter() {
            let (x, y) = slot.point();
            assert!(x + NODE_WIDTH / 2 <= width && y + NODE_HEIGHT / 2 <= height);
            assert!(x - NODE_WIDTH / 2 >= 0 && y - NODE_HEIGHT / 2 >= 0);
        }
        assert_eq!(Positions::default().size(), (MARGIN, MARGIN + 24));
    }
}
