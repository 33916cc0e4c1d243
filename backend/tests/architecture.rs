//! ARCHITECTURE.md's invariants about the console's modules, checked on its source: no import
//! cycle between the top-level modules of `backend/src`, only `cluster/` and `auth/` call the
//! Kubernetes API, only `metrics/` speaks HTTP to Prometheus, and the pure files do no I/O and
//! read no clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `backend/src`, as (path relative to `src` with `/`, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("backend/src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = src();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&p).expect("a readable source file");
            (rel, text)
        })
        .collect()
}

/// The code of a file without its comments (line, doc and block comments) and with every string
/// and character literal emptied, so that prose or messages naming a module or a type do not
/// count as using it.
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                i += 2;
                while i < chars.len() && !(chars[i - 1] == '*' && chars[i] == '/') {
                    i += 1;
                }
                i += 1;
                continue;
            }
            // Raw strings: r"..." and r#"..."# with any number of hashes.
            'r' if (next == Some('"') || next == Some('#'))
                && !i
                    .checked_sub(1)
                    .is_some_and(|p| chars[p].is_alphanumeric() || chars[p] == '_') =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    out.push(c);
                    i += 1;
                    continue;
                }
                j += 1;
                while j < chars.len()
                    && !(chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')))
                {
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + 1 + hashes;
                continue;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                out.push_str("\"\"");
                i += 1;
                continue;
            }
            // A character literal ('x', '\n', '\''), not a lifetime ('a).
            '\'' if next == Some('\\') => {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                out.push_str("' '");
                i += 1;
                continue;
            }
            '\'' if chars.get(i + 2) == Some(&'\'') => {
                out.push_str("' '");
                i += 3;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// The top-level module a file belongs to: `cluster/shift.rs` → `cluster`, `error.rs` → `error`;
/// `lib.rs` is the crate root, not a module.
fn module_of(path: &str) -> Option<&str> {
    let first = path.split('/').next()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (module != "lib").then_some(module)
}

/// Top-level modules a piece of code names as `crate::x`, including `use crate::{x, y::z}`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        // `switchyard_console::crate::` cannot occur, but `foo_crate::` could: need a boundary.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: split on commas at brace depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.insert(ident(item.trim()));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// Which top-level module uses which, from `crate::` paths (items re-exported at the crate root,
/// like `crate::AppState`, count as the module that defines them only if named through it).
fn module_graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(p, _)| module_of(p).map(str::to_owned))
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        let Some(from) = module_of(path) else {
            continue;
        };
        let uses = graph.entry(from.to_owned()).or_default();
        for to in crate_references(&code(text)) {
            if to != from && modules.contains(&to) {
                uses.insert(to);
            }
        }
    }
    graph
}

/// One cycle of the graph, as the modules along it, if there is any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_scan_sees_imports_and_cycles() {
    // The scanner itself, on made-up code: it must see grouped and nested imports, ignore
    // comments and strings, and find a cycle when there is one.
    let text = "use crate::{graph::Topology, istio::{host, DestinationRule}};\n\
                // crate::routes is only named in a comment\n\
                let s = \"crate::ui\"; let q = '\"'; let r = r#\"x\"crate::state\"#;\n\
                /* crate::live */ fn f<'a>() -> crate::error::Result<&'a str> { todo!() }";
    assert_eq!(
        crate_references(&code(text)),
        BTreeSet::from(["error".into(), "graph".into(), "istio".into()])
    );
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let acyclic = BTreeMap::from([
        (
            "a".to_owned(),
            BTreeSet::from(["b".to_owned(), "c".to_owned()]),
        ),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
    ]);
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let files = sources();
    let graph = module_graph(&files);
    // The scan must have seen the modules it is about, or it proves nothing.
    for (from, to) in [
        ("cluster", "istio"),
        ("cluster", "gateway"),
        ("graph", "istio"),
        ("graph", "gateway"),
        ("live", "graph"),
        ("plans", "cluster"),
        ("plans", "live"),
        ("routes", "plans"),
    ] {
        assert!(
            graph.get(from).is_some_and(|uses| uses.contains(to)),
            "{from} uses {to}: {graph:?}"
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

/// Files whose code may name `kube`'s API and client types.
fn may_call_kubernetes(path: &str) -> bool {
    let pure = PURE.contains(&path);
    (path.starts_with("cluster/") || path.starts_with("auth/")) && !pure
}

/// Files that are pure: no I/O, no clock, no tasks. `graph/`, `istio/` and `gateway/` entirely.
const PURE: &[&str] = &[
    "cluster/view.rs",
    "cluster/weights.rs",
    "cluster/history.rs",
    "cluster/kinds.rs",
    "cluster/plan_object.rs",
    "metrics/promql.rs",
    "metrics/parse.rs",
    "metrics/reporters.rs",
    "plans/model.rs",
    "plans/gates.rs",
    "plans/decide.rs",
    "plans/decide/tests.rs",
];

fn is_pure(path: &str) -> bool {
    path.starts_with("graph/")
        || path.starts_with("istio/")
        || path.starts_with("gateway/")
        || PURE.contains(&path)
}

#[test]
fn only_cluster_and_auth_call_kubernetes() {
    let forbidden = [
        "kube::Api",
        "kube::Client",
        "kube::api",
        "kube::runtime",
        "Api::<",
        "Api<",
        "Client::try_from",
    ];
    let files = sources();
    assert!(files.iter().any(|(p, _)| p == "cluster/write.rs"));
    let mut offenders = Vec::new();
    for (path, text) in &files {
        if may_call_kubernetes(path) {
            continue;
        }
        let code = code(text);
        for word in forbidden {
            if code.contains(word) {
                offenders.push(format!("{path} names {word}"));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn only_metrics_speaks_to_prometheus_and_only_routes_and_ui_know_http() {
    let files = sources();
    let mut offenders = Vec::new();
    for (path, text) in &files {
        let code = code(text);
        if !path.starts_with("metrics/") && code.contains("reqwest") {
            offenders.push(format!("{path} uses reqwest"));
        }
        // The HTTP layer: routes/, the embedded UI, the error mapping, the extractor in state.rs,
        // the router in lib.rs and the listener in server.rs; auth reads request headers for who
        // is calling.
        let http_allowed = path.starts_with("routes/")
            || path.starts_with("auth/")
            || ["ui.rs", "error.rs", "state.rs", "lib.rs", "server.rs"].contains(&path.as_str());
        if !http_allowed && code.contains("axum") {
            offenders.push(format!("{path} uses axum"));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn pure_files_do_no_io_and_read_no_clock() {
    let forbidden = [
        "async ",
        ".await",
        "tokio",
        "kube::",
        "k8s_openapi",
        "reqwest",
        "std::fs",
        "std::io",
        "std::net::Tcp",
        "std::net::Udp",
        "std::process",
        "std::thread",
        "std::env",
        "SystemTime",
        "Instant",
        "Utc::now",
        "Local::now",
        "tracing::",
    ];
    let files = sources();
    let pure: Vec<&(String, String)> = files.iter().filter(|(p, _)| is_pure(p)).collect();
    // Every file the list names exists, so a rename does not silently drop it from the check.
    for listed in PURE {
        assert!(
            files.iter().any(|(p, _)| p == listed),
            "{listed} is listed as pure but does not exist"
        );
    }
    assert!(pure.iter().any(|(p, _)| p.starts_with("istio/")));
    assert!(pure.iter().any(|(p, _)| p.starts_with("gateway/")));
    let mut offenders = Vec::new();
    for (path, text) in pure {
        let code = code(text);
        for word in forbidden {
            if code.contains(word) {
                offenders.push(format!("{path} contains {word}"));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let files = sources();
    let missing: Vec<&str> = files
        .iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(p, _)| p.as_str())
        .collect();
    assert!(missing.is_empty(), "no //! line: {missing:?}");
}

/// The console library depends on nothing of the simulator: neither `switchyard-sim` nor the
/// crates only the simulator needs appear in its dependency tree (normal, build and dev
/// dependencies, as `cargo tree -p switchyard-console` resolves them for this machine).
#[test]
fn the_console_does_not_depend_on_the_simulator() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = std::process::Command::new(cargo)
        .args(["tree", "-p", "switchyard-console", "-e", "normal,build,dev"])
        .args(["--prefix", "none", "--format", "{p}", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        names.contains("kube-client"),
        "the tree lists the console's dependencies: {names:?}"
    );
    for only_the_simulator in ["switchyard-sim", "prost", "rand", "serde_yaml"] {
        assert!(
            !names.contains(only_the_simulator),
            "switchyard-console depends on {only_the_simulator}"
        );
    }
}
