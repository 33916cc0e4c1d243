//! `meta.k8s.io/v1` Table output, which `kubectl get` asks for: the column definitions (names,
//! types, formats, priorities and descriptions) and the cells, for the Istio types (their CRDs'
//! printer columns) and the built-in types of the demo, and the text `kubectl get vs` / `get dr`
//! prints from them.

use super::support::{Both, Clusters, Compare, Req};
use serde_json::Value;
use switchyard_testkit::User;

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

fn columns(table: &Value) -> Vec<Value> {
    table["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Cells per row without the Age column (the two clusters were set up seconds apart).
fn cells(table: &Value, skip: &[&str]) -> Vec<Vec<Value>> {
    let names: Vec<String> = columns(table)
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_owned())
        .collect();
    table["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            row["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .filter(|(i, _)| {
                    let name = names.get(*i).map(String::as_str).unwrap_or("");
                    name != "Age" && !skip.contains(&name)
                })
                .map(|(_, v)| v.clone())
                .collect()
        })
        .collect()
}

async fn table(c: &Clusters, path: &str) -> Both<super::support::Answer> {
    c.send(&Req::get(path).header("Accept", TABLE).user(User::Viewer))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn istio_tables_have_the_crd_printer_columns() {
    let c = Clusters::start().await;
    for path in [
        "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices",
        "/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules",
        "/apis/networking.istio.io/v1beta1/namespaces/{ns}/virtualservices",
        "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review",
    ] {
        let both = table(&c, path).await;
        Compare::object(&[
            "/columnDefinitions",
            "/rows/0/object/kind",
            "/rows/0/object/apiVersion",
        ])
        .check(path, &both);
        assert_eq!(
            cells(&both.sim.json, &[]),
            cells(&both.real.json, &[]),
            "{path}"
        );
        assert!(!cells(&both.real.json, &[]).is_empty(), "{path}");
    }
    // Pagination and includeObject work on tables too.
    let both = table(
        &c,
        "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices?limit=1&includeObject=None",
    )
    .await;
    Compare::object(&["/metadata/remainingItemCount", "/rows/0/object"])
        .check("paged table", &both);
}

#[tokio::test(flavor = "multi_thread")]
async fn built_in_tables_have_the_same_columns() {
    let c = Clusters::start().await;
    for (path, skip) in [
        // Cluster IPs come from each server's service range.
        ("/api/v1/namespaces/{ns}/services", &["Cluster-IP"][..]),
        // Readiness is the work of controllers (the simulator's pod controller; the real test
        // cluster runs none).
        (
            "/apis/apps/v1/namespaces/{ns}/deployments",
            &["Ready", "Up-to-date", "Available"][..],
        ),
    ] {
        let both = table(&c, path).await;
        Compare::object(&["/columnDefinitions"]).check(path, &both);
        assert_eq!(
            cells(&both.sim.json, skip),
            cells(&both.real.json, skip),
            "{path}"
        );
    }
    // Namespaces and pods: only the columns (the clusters hold different ones).
    for path in [
        "/api/v1/namespaces",
        "/api/v1/namespaces/{ns}/pods",
        "/api/v1/namespaces/{ns}/events",
    ] {
        let both = table(&c, path).await;
        Compare::object(&["/columnDefinitions"]).check(path, &both);
    }
}

/// kubectl's text without the AGE column, line by line.
fn without_age(text: &str) -> Vec<String> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let age_at = header.find("AGE");
    std::iter::once(header)
        .chain(lines)
        .map(|line| {
            let cut = age_at.map_or(line, |i| line.get(..i).unwrap_or(line));
            cut.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_prints_the_same_tables() {
    let c = Clusters::start().await;
    for args in [
        &["get", "vs"][..],
        &["get", "dr"],
        &["get", "virtualservices.networking.istio.io", "review"],
        &["get", "vs", "-o", "wide"],
        &[
            "get",
            "svc",
            "-o",
            "custom-columns=NAME:.metadata.name,PORTS:.spec.ports[*].port",
        ],
        &["get", "deploy", "-l", "version=v2", "-o", "name"],
        &["get", "vs,dr", "-o", "name"],
    ] {
        let both = c.kubectl(User::Viewer, args).await;
        let text = |r: &Result<String, String>| {
            without_age(
                r.as_deref()
                    .unwrap_or_else(|e| panic!("kubectl {args:?}: {e}")),
            )
        };
        assert_eq!(text(&both.sim), text(&both.real), "kubectl {args:?}");
        assert!(!text(&both.real).is_empty(), "kubectl {args:?}");
    }
}
