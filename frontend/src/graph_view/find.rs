//! Pure find, hide and collapse (as Kiali's find/hide): a search by service, version or namespace;
//! filters that hide every service but those with a weighted route, with errors above N % or with
//! a p95 above N ms (a hidden service takes its workloads with it); and collapsing a namespace or
//! an app into one node, expanded again by the same id.
//!
//! Search terms: `review` (in a name, app, namespace or version), `ns:hands-on`, `version:v2`
//! (also `v:v2`), `svc:review`; several terms must all match; case does not matter.

use super::vitals::VitalsIndex;
use std::collections::{BTreeMap, HashMap, HashSet};
use switchyard_protocol::{Edge, Graph, Node, NodeKind};

/// The hide filters; all `None`/false shows everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    /// Only services with a weighted route (a split).
    pub weighted_only: bool,
    /// Only services whose traffic (into it or one of its versions) fails above this percent.
    pub errors_above: Option<f64>,
    /// Only services whose p95 (into it or one of its versions) is above this many ms.
    pub p95_above: Option<f64>,
}

impl Filters {
    pub fn any(&self) -> bool {
        self.weighted_only || self.errors_above.is_some() || self.p95_above.is_some()
    }
}

/// A namespace or an app drawn as one node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Namespace(String),
    App { namespace: String, app: String },
}

/// The prefix of a collapsed node's id.
pub const GROUP_PREFIX: &str = "group:";

impl Group {
    /// The collapsed node's id: `group:ns:{namespace}` or `group:app:{namespace}:{app}`.
    pub fn id(&self) -> String {
        format!("{GROUP_PREFIX}{}", self.key())
    }

    /// How the URL names it: `ns:{namespace}` or `app:{namespace}:{app}`.
    pub fn key(&self) -> String {
        match self {
            Group::Namespace(ns) => format!("ns:{ns}"),
            Group::App { namespace, app } => format!("app:{namespace}:{app}"),
        }
    }

    pub fn parse_key(key: &str) -> Option<Group> {
        if let Some(ns) = key.strip_prefix("ns:") {
            return (!ns.is_empty()).then(|| Group::Namespace(ns.to_owned()));
        }
        let (namespace, app) = key.strip_prefix("app:")?.split_once(':')?;
        (!namespace.is_empty() && !app.is_empty()).then(|| Group::App {
            namespace: namespace.to_owned(),
            app: app.to_owned(),
        })
    }

    pub fn of_id(id: &str) -> Option<Group> {
        Group::parse_key(id.strip_prefix(GROUP_PREFIX)?)
    }

    /// Whether `node` is drawn inside this group.
    pub fn holds(&self, node: &Node) -> bool {
        match self {
            Group::Namespace(ns) => {
                matches!(node.kind, NodeKind::Service | NodeKind::Workload) && &node.namespace == ns
            }
            Group::App { namespace, app } => {
                &node.namespace == namespace
                    && match node.kind {
                        NodeKind::Service => &node.name == app,
                        NodeKind::Workload => node.app.as_deref() == Some(app.as_str()),
                        _ => false,
                    }
            }
        }
    }

    /// The words for people: `namespace bench` or `app review in hands-on`.
    pub fn describe(&self) -> String {
        match self {
            Group::Namespace(ns) => format!("namespace {ns}"),
            Group::App { namespace, app } => format!("app {app} in {namespace}"),
        }
    }
}

/// What a collapsed node stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    pub group: Group,
    pub members: Vec<String>,
}

/// Whether a node matches every term of `query` (an empty query matches nothing).
pub fn matches(node: &Node, query: &str) -> bool {
    let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if terms.is_empty() || matches!(node.kind, NodeKind::Entry | NodeKind::Unknown) {
        return false;
    }
    let has = |field: &str, term: &str| field.to_lowercase().contains(term);
    let version = node.version.as_deref().unwrap_or("");
    let app = node.app.as_deref().unwrap_or("");
    terms.iter().all(|term| {
        if let Some(ns) = term.strip_prefix("ns:") {
            has(&node.namespace, ns)
        } else if let Some(v) = term
            .strip_prefix("version:")
            .or_else(|| term.strip_prefix("v:"))
        {
            has(version, v)
        } else if let Some(s) = term.strip_prefix("svc:") {
            node.kind == NodeKind::Service && has(&node.name, s)
        } else {
            has(&node.name, term)
                || has(app, term)
                || has(&node.namespace, term)
                || has(version, term)
        }
    })
}

/// The nodes matching `query`, services first, then by name; at most `limit`.
pub fn search<'g>(graph: &'g Graph, query: &str, limit: usize) -> Vec<&'g Node> {
    let mut found: Vec<&Node> = graph.nodes.iter().filter(|n| matches(n, query)).collect();
    found.sort_by(|a, b| {
        (a.kind != NodeKind::Service, &a.name, &a.namespace).cmp(&(
            b.kind != NodeKind::Service,
            &b.name,
            &b.namespace,
        ))
    });
    found.truncate(limit);
    found
}

/// The ids the filters hide: every service that fails one, with its workloads (those it routes
/// to, and those of its app), and workloads of no service. Entry and unknown always stay.
pub fn hidden(graph: &Graph, filters: &Filters) -> HashSet<String> {
    if !filters.any() {
        return HashSet::new();
    }
    let index = VitalsIndex::of(graph);
    let weighted: HashSet<String> = graph
        .splits
        .iter()
        .map(|s| super::service_node_id(&s.namespace, &s.service))
        .collect();
    let mut owner: HashMap<&str, Vec<&str>> = HashMap::new();
    let services: HashMap<(&str, &str), &str> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Service)
        .map(|n| ((n.namespace.as_str(), n.name.as_str()), n.id.as_str()))
        .collect();
    for n in &graph.nodes {
        if n.kind != NodeKind::Service {
            continue;
        }
        for e in index.outgoing(&n.id) {
            if index
                .node_of(&e.target)
                .is_some_and(|t| t.kind == NodeKind::Workload)
            {
                owner
                    .entry(e.target.as_str())
                    .or_default()
                    .push(n.id.as_str());
            }
        }
    }
    for n in &graph.nodes {
        if let (NodeKind::Workload, Some(app)) = (n.kind, &n.app) {
            if let Some(&service) = services.get(&(n.namespace.as_str(), app.as_str())) {
                let owners = owner.entry(n.id.as_str()).or_default();
                if !owners.contains(&service) {
                    owners.push(service);
                }
            }
        }
    }
    let mut workloads_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (&workload, owners) in &owner {
        for &service in owners {
            workloads_of.entry(service).or_default().push(workload);
        }
    }
    let passes = |service: &Node| {
        if filters.weighted_only && !weighted.contains(&service.id) {
            return false;
        }
        let mut vitals = vec![index.node(&service.id)];
        for w in workloads_of.get(service.id.as_str()).into_iter().flatten() {
            vitals.push(index.node(w));
        }
        let errors_ok = filters
            .errors_above
            .is_none_or(|limit| vitals.iter().any(|v| v.rate > 0.0 && v.errors > limit));
        let p95_ok = filters
            .p95_above
            .is_none_or(|limit| vitals.iter().any(|v| v.p95_ms.is_some_and(|p| p > limit)));
        errors_ok && p95_ok
    };
    let kept: HashSet<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Service && passes(n))
        .map(|n| n.id.as_str())
        .collect();
    graph
        .nodes
        .iter()
        .filter(|n| match n.kind {
            NodeKind::Entry | NodeKind::Unknown => false,
            NodeKind::Service => !kept.contains(n.id.as_str()),
            NodeKind::Workload => !owner
                .get(n.id.as_str())
                .is_some_and(|owners| owners.iter().any(|o| kept.contains(o))),
        })
        .map(|n| n.id.clone())
        .collect()
}

/// The graph with each group drawn as one node: its members' edges to the outside join up
/// (rates add, errors weigh by rate, the slowest p95 stays, shares are recomputed from the new
/// source's outbound rate), edges inside a group go. A namespace group wins over an app group
/// in it. Splits stay as they are (the side panel still lists them).
pub fn collapse(graph: &Graph, groups: &[Group]) -> (Graph, BTreeMap<String, GroupInfo>) {
    let mut infos: BTreeMap<String, GroupInfo> = BTreeMap::new();
    if groups.is_empty() {
        return (graph.clone(), infos);
    }
    let mut sorted = groups.to_vec();
    // Namespaces first, so they take their members before an app group inside them could.
    sorted.sort_by_key(|g| !matches!(g, Group::Namespace(_)));
    let mut home: HashMap<&str, String> = HashMap::new();
    for n in &graph.nodes {
        if let Some(group) = sorted.iter().find(|g| g.holds(n)) {
            let id = group.id();
            home.insert(n.id.as_str(), id.clone());
            infos
                .entry(id)
                .or_insert_with(|| GroupInfo {
                    group: group.clone(),
                    members: Vec::new(),
                })
                .members
                .push(n.id.clone());
        }
    }
    let end = |id: &str| home.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let mut merged: BTreeMap<(String, String), (f64, f64, Option<f64>)> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for e in &graph.edges {
        let (source, target) = (end(&e.source), end(&e.target));
        if source == target && (home.contains_key(e.source.as_str())) {
            continue;
        }
        let key = (source, target);
        let slot = merged.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (0.0, 0.0, None)
        });
        slot.0 += e.rate;
        slot.1 += e.rate * e.error_share / 100.0;
        if let Some(ms) = e.p95_ms {
            slot.2 = Some(slot.2.map_or(ms, |p: f64| p.max(ms)));
        }
    }
    let mut outbound: HashMap<&str, f64> = HashMap::new();
    for ((source, _), (rate, _, _)) in &merged {
        *outbound.entry(source.as_str()).or_default() += rate;
    }
    let mut inbound: HashMap<&str, f64> = HashMap::new();
    for ((_, target), (rate, _, _)) in &merged {
        *inbound.entry(target.as_str()).or_default() += rate;
    }
    let edges: Vec<Edge> = order
        .iter()
        .map(|key| {
            let (rate, failed, p95) = merged[key];
            let out = outbound.get(key.0.as_str()).copied().unwrap_or(0.0);
            Edge {
                id: format!("{}->{}", key.0, key.1),
                source: key.0.clone(),
                target: key.1.clone(),
                rate,
                share: (rate > 0.0 && out > 0.0).then(|| rate * 100.0 / out),
                error_share: if rate > 0.0 {
                    failed * 100.0 / rate
                } else {
                    0.0
                },
                p95_ms: p95,
            }
        })
        .collect();
    let mut nodes: Vec<Node> = graph
        .nodes
        .iter()
        .filter(|n| !home.contains_key(n.id.as_str()))
        .cloned()
        .collect();
    for (id, info) in &infos {
        let (namespace, name) = match &info.group {
            Group::Namespace(ns) => (ns.clone(), ns.clone()),
            Group::App { namespace, app } => (namespace.clone(), app.clone()),
        };
        nodes.push(Node {
            id: id.clone(),
            kind: NodeKind::Service,
            namespace,
            name,
            app: None,
            version: None,
            rate_in: inbound.get(id.as_str()).copied().unwrap_or(0.0),
        });
    }
    (
        Graph {
            nodes,
            edges,
            ..graph.clone()
        },
        infos,
    )
}

#[cfg(test)]
mod tests {
    use super::super::synthetic;
    use super::*;

    #[test]
    fn search_by_service_version_and_namespace() {
        let g = synthetic::graph(40, 120);
        let found = search(&g, "svc0003", 10);
        assert_eq!(found[0].id, "svc:bench:svc0003");
        assert_eq!(found.len(), 3, "the service and its two versions");
        let v2 = search(&g, "svc0003 version:v2", 10);
        assert_eq!(v2.len(), 1);
        assert_eq!(v2[0].id, "wl:bench:svc0003-v2");
        assert_eq!(search(&g, "ns:bench", 1000).len(), g.nodes.len() - 1);
        assert!(search(&g, "ns:elsewhere", 10).is_empty());
        assert!(search(&g, "   ", 10).is_empty());
        assert_eq!(search(&g, "SVC:svc0003", 10).len(), 1);
    }

    #[test]
    fn filters_hide_services_with_their_workloads() {
        let mut g = synthetic::graph(40, 120);
        assert!(hidden(&g, &Filters::default()).is_empty());
        // Only svc0001 keeps its split.
        g.splits.retain(|s| s.service == "svc0001");
        let weighted = Filters {
            weighted_only: true,
            ..Filters::default()
        };
        let gone = hidden(&g, &weighted);
        assert!(!gone.contains("svc:bench:svc0001"));
        assert!(!gone.contains("wl:bench:svc0001-v1") && !gone.contains("wl:bench:svc0001-v2"));
        assert!(gone.contains("svc:bench:svc0002") && gone.contains("wl:bench:svc0002-v1"));
        assert!(!gone.contains("entry"));
        assert_eq!(gone.len(), g.nodes.len() - 4);

        let slow = Filters {
            p95_above: Some(1e9),
            ..Filters::default()
        };
        assert_eq!(hidden(&g, &slow).len(), g.nodes.len() - 1);
        let erring = Filters {
            errors_above: Some(5.0),
            ..Filters::default()
        };
        let index = VitalsIndex::of(&g);
        let gone = hidden(&g, &erring);
        for n in g.nodes.iter().filter(|n| n.kind == NodeKind::Workload) {
            if index.node(&n.id).errors > 5.0 {
                let service = format!("svc:bench:{}", n.app.as_deref().unwrap_or(""));
                assert!(!gone.contains(&service), "{service} has a failing version");
            }
        }
    }

    #[test]
    fn collapsing_joins_edges_and_expanding_restores() {
        let g = synthetic::graph(40, 120);
        let app = Group::App {
            namespace: "bench".into(),
            app: "svc0003".into(),
        };
        let (c, infos) = collapse(&g, std::slice::from_ref(&app));
        let id = app.id();
        assert_eq!(id, "group:app:bench:svc0003");
        assert_eq!(Group::of_id(&id), Some(app.clone()));
        assert_eq!(infos[&id].members.len(), 3);
        assert_eq!(c.nodes.len(), g.nodes.len() - 2);
        assert!(c.edges.iter().all(|e| e.source != e.target));
        let rate_in_before: f64 = g
            .edges
            .iter()
            .filter(|e| e.target == "svc:bench:svc0003")
            .map(|e| e.rate)
            .sum();
        let group = c.nodes.iter().find(|n| n.id == id).expect("the group node");
        assert!((group.rate_in - rate_in_before).abs() < 1e-9);
        // Shares out of a source still add up to 100.
        let mut out: BTreeMap<&str, f64> = BTreeMap::new();
        for e in &c.edges {
            *out.entry(e.source.as_str()).or_default() += e.share.unwrap_or(0.0);
        }
        assert!(out.values().all(|s| (*s - 100.0).abs() < 1e-6 || *s == 0.0));
        let (ns, infos) = collapse(&g, &[app, Group::Namespace("bench".into())]);
        assert_eq!(ns.nodes.len(), 2, "entry and the namespace");
        assert_eq!(infos.len(), 1);
        assert_eq!(collapse(&g, &[]).0, g);
        assert_eq!(Group::parse_key("ns:"), None);
        assert_eq!(
            Group::parse_key("app:bench:svc0001").map(|g| g.key()),
            Some("app:bench:svc0001".into())
        );
    }
}
