//! Real kubectl (`/usr/bin/kubectl`, 1.32) against the simulated API server over HTTP on 127.0.0.1:
//! apply, get with printer columns, JSON/merge/strategic patches, watch, delete, auth can-i.
//! kubectl missing is a failure, not a skip.

mod sim_api_support;

use serde_json::Value;
use sim_api_support::*;
use std::process::{Output, Stdio};
use std::time::Duration;
use switchyard_sim::api::resources::keys;
use switchyard_sim::store::Key;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const KUBECTL: &str = "/usr/bin/kubectl";
const DEADLINE: Duration = Duration::from_secs(60);

fn command(sim: &Sim, token: &str, args: &[&str]) -> Command {
    assert!(
        std::path::Path::new(KUBECTL).exists(),
        "{KUBECTL} is required for these tests (scripts install it)"
    );
    let mut cmd = Command::new(KUBECTL);
    cmd.arg("--kubeconfig")
        .arg(sim.kubeconfig(token, "hands-on"))
        .arg("--cache-dir")
        .arg(sim.dir.path().join("kube-cache"))
        .args(args)
        .env_remove("KUBECONFIG")
        .kill_on_drop(true);
    cmd
}

/// Runs kubectl to completion (bounded), returning its output.
async fn kubectl_as(sim: &Sim, token: &str, args: &[&str]) -> Output {
    let run = command(sim, token, args).output();
    tokio::time::timeout(DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish in {DEADLINE:?}"))
        .expect("kubectl runs")
}

async fn kubectl(sim: &Sim, args: &[&str]) -> Output {
    kubectl_as(sim, ADMIN, args).await
}

/// Runs kubectl and requires success; returns stdout.
async fn ok(sim: &Sim, args: &[&str]) -> String {
    let out = kubectl(sim, args).await;
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn vs_key(name: &str) -> Key {
    Key::new(keys::VIRTUAL_SERVICES, "hands-on", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_demo_manifest_to_a_fresh_namespace_twice() {
    let sim = Sim::start().await;
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/hands-on.yaml");
    let created = ok(&sim, &["create", "namespace", "fresh-ns"]).await;
    assert_eq!(created.trim(), "namespace/fresh-ns created");

    // Default validation (strict): kubectl must find fieldValidation support in OpenAPI v3.
    let first = ok(&sim, &["apply", "-f", manifest, "-n", "fresh-ns"]).await;
    for line in [
        "service/review created",
        "deployment.apps/review-v2 created",
        "destinationrule.networking.istio.io/review-dr created",
        "virtualservice.networking.istio.io/review created",
    ] {
        assert!(first.contains(line), "missing {line:?} in:\n{first}");
    }
    let (vs, _) = sim.store.list(keys::VIRTUAL_SERVICES, Some("fresh-ns"));
    assert_eq!(vs.len(), 3);

    let second = ok(&sim, &["apply", "-f", manifest, "-n", "fresh-ns"]).await;
    assert_eq!(second.lines().count(), first.lines().count());
    for line in second.lines() {
        assert!(
            line.ends_with(" unchanged") || line.ends_with(" configured"),
            "second apply: {line}"
        );
    }

    // A changed manifest is a strategic merge for deployments (ports survive an image change)
    // and a merge patch for the VirtualService.
    let text = std::fs::read_to_string(manifest)
        .expect("read manifest")
        .replace("hands-on/review:v2", "hands-on/review:v3");
    let changed = sim.dir.path().join("changed.yaml");
    std::fs::write(&changed, text).expect("write manifest");
    let third = ok(
        &sim,
        &[
            "apply",
            "-f",
            changed.to_str().unwrap_or_default(),
            "-n",
            "fresh-ns",
        ],
    )
    .await;
    assert!(
        third.contains("deployment.apps/review-v2 configured"),
        "{third}"
    );
    let containers = ok(
        &sim,
        &[
            "get",
            "deploy",
            "review-v2",
            "-n",
            "fresh-ns",
            "-o",
            "jsonpath={.spec.template.spec.containers[0]}",
        ],
    )
    .await;
    let container: Value = serde_json::from_str(&containers).expect("container json");
    assert_eq!(container["image"], "hands-on/review:v3");
    assert_eq!(container["ports"][0]["containerPort"], 8080);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_virtualservices_prints_istio_columns() {
    let sim = Sim::start().await;
    let out = ok(&sim, &["get", "vs", "-n", "hands-on"]).await;
    let mut lines = out.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "GATEWAYS", "HOSTS", "AGE"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(names, ["product", "recommendation", "review"]);
    assert_eq!(rows[2][1], "[\"review\"]");

    // Other types print too, and the v1beta1 version serves the same objects.
    let all = ok(&sim, &["get", "pods,svc,deploy", "-n", "hands-on"]).await;
    assert!(all.contains("service/review"), "{all}");
    assert!(all.contains("deployment.apps/review-v1"), "{all}");
    let beta = ok(
        &sim,
        &[
            "get",
            "virtualservices.v1beta1.networking.istio.io",
            "review",
            "-n",
            "hands-on",
            "-o",
            "json",
        ],
    )
    .await;
    let beta: Value = serde_json::from_str(&beta).expect("json");
    assert_eq!(beta["apiVersion"], "networking.istio.io/v1beta1");
    let dr = ok(&sim, &["get", "dr", "-n", "hands-on"]).await;
    assert!(dr.contains("review-dr") && dr.contains("HOST"), "{dr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_types_behave_like_a_real_cluster() {
    let sim = Sim::start().await;
    let json_patch = r#"[{"op":"add","path":"/spec/http/1/route/0/weight","value":80},{"op":"add","path":"/spec/http/1/route/1/weight","value":20}]"#;
    let out = ok(
        &sim,
        &[
            "-n",
            "hands-on",
            "patch",
            "virtualservice",
            "review",
            "--type=json",
            "-p",
            json_patch,
        ],
    )
    .await;
    assert_eq!(
        out.trim(),
        "virtualservice.networking.istio.io/review patched"
    );
    let weights = ok(
        &sim,
        &[
            "-n",
            "hands-on",
            "get",
            "vs",
            "review",
            "-o",
            "jsonpath={.spec.http[1].route[*].weight}",
        ],
    )
    .await;
    assert_eq!(weights, "80 20");

    let failing = kubectl(
        &sim,
        &[
            "-n",
            "hands-on",
            "patch",
            "vs",
            "review",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/spec/http/1/route/0/weight","value":50}]"#,
        ],
    )
    .await;
    assert!(!failing.status.success());
    assert!(
        stderr(&failing).contains("the server rejected our request due to an error in our request"),
        "{}",
        stderr(&failing)
    );

    let merged = ok(
        &sim,
        &[
            "-n",
            "hands-on",
            "patch",
            "vs",
            "review",
            "--type=merge",
            "-p",
            r#"{"spec":{"gateways":["mesh"]}}"#,
        ],
    )
    .await;
    assert!(merged.contains("patched"), "{merged}");
    let stored = sim.store.get(&vs_key("review")).expect("review exists");
    assert_eq!(stored["spec"]["gateways"][0], "mesh");
    assert_eq!(stored["spec"]["http"][1]["route"][0]["weight"], 80);

    let strategic = kubectl(
        &sim,
        &[
            "-n",
            "hands-on",
            "patch",
            "vs",
            "review",
            "--type=strategic",
            "-p",
            r#"{"spec":{"gateways":[]}}"#,
        ],
    )
    .await;
    assert!(!strategic.status.success());
    assert!(
        stderr(&strategic).contains(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        ),
        "{}",
        stderr(&strategic)
    );

    let stale = kubectl(
        &sim,
        &[
            "-n",
            "hands-on",
            "patch",
            "vs",
            "review",
            "--type=merge",
            "-p",
            r#"{"metadata":{"resourceVersion":"1"}}"#,
        ],
    )
    .await;
    assert!(
        stderr(&stale).contains("Error from server (Conflict)"),
        "{}",
        stderr(&stale)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sees_an_update() {
    let sim = Sim::start().await;
    let mut child = command(
        &sim,
        ADMIN,
        &["get", "vs", "-n", "hands-on", "-w", "--output-watch-events"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn kubectl");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let store = sim.store.clone();
    let seen = tokio::time::timeout(DEADLINE, async move {
        let mut initial = 0;
        while let Some(line) = lines.next_line().await.expect("read kubectl output") {
            if line.starts_with("ADDED") {
                initial += 1;
                if initial == 3 {
                    // kubectl watches from the list's resourceVersion, so this change reaches it
                    // even if the watch request is not yet open.
                    store
                        .update(&vs_key("review"), |cur| {
                            let mut next = cur.clone();
                            next["spec"]["gateways"] = serde_json::json!(["mesh"]);
                            Ok(next)
                        })
                        .expect("update review");
                }
            } else if line.starts_with("MODIFIED") {
                return line;
            }
        }
        String::new()
    })
    .await
    .expect("watch event within the deadline");
    let _ = child.kill().await;
    let columns: Vec<&str> = seen.split_whitespace().collect();
    assert_eq!(columns[..3], ["MODIFIED", "review", "[\"mesh\"]"], "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_not_found() {
    let sim = Sim::start().await;
    let out = ok(&sim, &["delete", "vs", "review", "-n", "hands-on"]).await;
    assert_eq!(
        out.trim(),
        "virtualservice.networking.istio.io \"review\" deleted"
    );
    assert!(sim.store.get(&vs_key("review")).is_none());
    let missing = kubectl(&sim, &["get", "vs", "review", "-n", "hands-on"]).await;
    assert_eq!(
        stderr(&missing).trim(),
        "Error from server (NotFound): virtualservices.networking.istio.io \"review\" not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i_and_forbidden() {
    let sim = Sim::start().await;
    let args = [
        "auth",
        "can-i",
        "patch",
        "virtualservices",
        "-n",
        "hands-on",
    ];
    let operator = kubectl_as(&sim, OPERATOR, &args).await;
    assert_eq!(String::from_utf8_lossy(&operator.stdout).trim(), "yes");
    assert!(operator.status.success());
    let viewer = kubectl_as(&sim, VIEWER, &args).await;
    assert_eq!(String::from_utf8_lossy(&viewer.stdout).trim(), "no");
    assert!(!viewer.status.success());
    let elsewhere = kubectl_as(
        &sim,
        OPERATOR,
        &["auth", "can-i", "patch", "vs", "-n", "default"],
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&elsewhere.stdout).trim(), "no");

    let denied = kubectl_as(
        &sim,
        VIEWER,
        &[
            "-n",
            "hands-on",
            "patch",
            "vs",
            "review",
            "--type=merge",
            "-p",
            r#"{"spec":{"gateways":["mesh"]}}"#,
        ],
    )
    .await;
    assert_eq!(
        stderr(&denied).trim(),
        "Error from server (Forbidden): virtualservices.networking.istio.io \"review\" is forbidden: User \"viewer\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"hands-on\""
    );
    let unknown = kubectl_as(&sim, "not-a-token", &["get", "vs", "-n", "hands-on"]).await;
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("You must be logged in to the server"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_the_gateway_demo_and_read_its_http_routes() {
    let sim = Sim::start().await;
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/hands-on-gateway.yaml");
    ok(&sim, &["create", "namespace", "gw"]).await;
    let first = ok(&sim, &["apply", "-f", manifest, "-n", "gw"]).await;
    for line in [
        "service/review-v1 created",
        "deployment.apps/review-v2 created",
        "httproute.gateway.networking.k8s.io/review created",
    ] {
        assert!(first.contains(line), "missing {line:?} in:\n{first}");
    }
    let version = |route: &str| {
        let route = route.to_owned();
        let sim = &sim;
        async move {
            ok(
                sim,
                &[
                    "get",
                    "httproute",
                    &route,
                    "-n",
                    "gw",
                    "-o",
                    "jsonpath={.metadata.resourceVersion}",
                ],
            )
            .await
        }
    };
    let before = version("review").await;
    // kubectl's three-way merge patch of a CRD replaces lists whole, so the defaults the server
    // filled in make it send the rules again ("configured"); they come out the same, so the
    // object does not change.
    let second = ok(&sim, &["apply", "-f", manifest, "-n", "gw"]).await;
    for line in second.lines() {
        assert!(
            line.ends_with(" unchanged") || line.ends_with(" configured"),
            "second apply: {line}"
        );
    }
    assert_eq!(version("review").await, before);
    // The CRD's defaults are filled in: the core group and kind Service, weight 1 where the
    // manifest gives none, the path match of a rule without one.
    let route: Value = serde_json::from_str(
        &ok(
            &sim,
            &["get", "httproute", "review", "-n", "gw", "-o", "json"],
        )
        .await,
    )
    .expect("JSON");
    let rules = &route["spec"]["rules"];
    assert_eq!(rules[0]["backendRefs"][0]["weight"], 1);
    assert_eq!(rules[0]["backendRefs"][0]["kind"], "Service");
    assert_eq!(rules[0]["backendRefs"][0]["group"], "");
    assert_eq!(rules[0]["matches"][0]["headers"][0]["type"], "Exact");
    assert_eq!(rules[1]["backendRefs"][0]["weight"], 100);
    assert_eq!(rules[1]["backendRefs"][1]["weight"], 0);
    assert_eq!(
        rules[1]["matches"],
        serde_json::json!([{"path": {"type": "PathPrefix", "value": "/"}}])
    );
    // kubectl patch of a weight, as a person would: read back as written.
    ok(
        &sim,
        &[
            "patch",
            "httproute",
            "review",
            "-n",
            "gw",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/1/backendRefs/0/weight","value":1},{"op":"replace","path":"/spec/rules/1/backendRefs/1/weight","value":3}]"#,
        ],
    )
    .await;
    let weights = ok(
        &sim,
        &[
            "get",
            "httproute",
            "review",
            "-n",
            "gw",
            "-o",
            "jsonpath={.spec.rules[1].backendRefs[*].weight}",
        ],
    )
    .await;
    assert_eq!(weights.trim(), "1 3");
    // A weight over the CRD's maximum is refused as the real API server refuses it.
    let refused = kubectl(
        &sim,
        &[
            "patch",
            "httproute",
            "review",
            "-n",
            "gw",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/rules/1/backendRefs/0/weight","value":1000001}]"#,
        ],
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("should be less than or equal to 1000000"),
        "{}",
        stderr(&refused)
    );
    let table = ok(&sim, &["get", "httproutes", "-n", "gw"]).await;
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "HOSTNAMES", "AGE"]);
    assert_eq!(table.lines().count(), 4, "{table}");
}
