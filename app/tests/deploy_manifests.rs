//! The manifests in deploy/ apply to a Kubernetes API (the simulated one) with the real kubectl,
//! and their RBAC grants what the console needs and no more.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl is installed (scripts/install-deps.sh checks)");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_manifests_apply_with_kubectl() {
    let sim = support::simulation(0.0).await;
    let kc2 = sim.kubeconfig.clone();
    let out = tokio::task::spawn_blocking(move || {
        let main = repo().join("deploy/switchyard.yaml");
        let header = repo().join("deploy/header-mode.yaml");
        let mut out = kubectl(&kc2, &["apply", "-f", main.to_str().unwrap()]);
        out += &kubectl(&kc2, &["apply", "-f", header.to_str().unwrap()]);
        // A second apply changes nothing.
        out += &kubectl(&kc2, &["apply", "-f", main.to_str().unwrap()]);
        out += &kubectl(
            &kc2,
            &["get", "deploy,svc,sa", "-n", "switchyard", "-o", "name"],
        );
        out += &kubectl(
            &kc2,
            &[
                "get",
                "clusterrole",
                "switchyard-reader",
                "-o",
                "jsonpath={.rules[*].verbs}",
            ],
        );
        out
    })
    .await
    .unwrap();
    for line in [
        "namespace/switchyard created",
        "serviceaccount/switchyard created",
        "clusterrole.rbac.authorization.k8s.io/switchyard-reader created",
        "rolebinding.rbac.authorization.k8s.io/switchyard-reader created",
        "role.rbac.authorization.k8s.io/switchyard-sessions created",
        "clusterrole.rbac.authorization.k8s.io/switchyard-plan-driver created",
        "rolebinding.rbac.authorization.k8s.io/switchyard-plan-driver created",
        "role.rbac.authorization.k8s.io/switchyard-plan-lease created",
        "rolebinding.rbac.authorization.k8s.io/switchyard-plan-lease created",
        "rolebinding.rbac.authorization.k8s.io/switchyard-sessions created",
        "deployment.apps/switchyard created",
        "service/switchyard created",
        "clusterrolebinding.rbac.authorization.k8s.io/switchyard-impersonator created",
        "deployment.apps/switchyard unchanged",
        "deployment.apps/switchyard\n",
        "service/switchyard\n",
        "serviceaccount/switchyard\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn rbac_is_least_privilege() {
    let text = std::fs::read_to_string(repo().join("deploy/switchyard.yaml")).unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let role = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no ClusterRole {name}"))
            .clone()
    };
    // The console's own account reads, and writes only Events (the history); no patch, no
    // secrets, no wildcards.
    for rule in role("switchyard-reader")["rules"].as_array().unwrap() {
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let resources: Vec<&str> = rule["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(!verbs.contains(&"*") && !resources.contains(&"*"), "{rule}");
        assert!(!resources.contains(&"secrets"), "{rule}");
        for verb in &verbs {
            assert!(
                ["get", "list", "watch"].contains(verb)
                    || (*verb == "create" && resources == ["events"]),
                "{rule}"
            );
        }
    }
    // It is bound per namespace, never cluster-wide.
    assert!(!docs
        .iter()
        .any(|d| d["kind"] == "ClusterRoleBinding" && d["roleRef"]["name"] == "switchyard-reader"));
    // Sessions: Secrets by name in the console's own namespace, nothing more.
    let sessions = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "switchyard-sessions")
        .expect("a Role for the sessions");
    assert_eq!(sessions["metadata"]["namespace"], "switchyard");
    assert_eq!(
        sessions["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "patch", "delete"]}])
    );
    assert!(!docs.iter().any(
        |d| d["kind"] == "ClusterRoleBinding" && d["roleRef"]["name"] == "switchyard-sessions"
    ));
    // Release plans: the driver may patch VirtualServices and HTTPRoutes and write a plan's
    // status, bound per namespace; nothing else, and never a plan's spec (people's actions).
    assert_eq!(
        role("switchyard-plan-driver")["rules"],
        serde_json::json!([
            {"apiGroups": ["networking.istio.io"], "resources": ["virtualservices"], "verbs": ["patch"]},
            {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"], "verbs": ["patch"]},
            {"apiGroups": ["switchyard.dev"], "resources": ["releaseplans/status"], "verbs": ["patch", "update"]}
        ])
    );
    assert!(!docs
        .iter()
        .any(|d| d["kind"] == "ClusterRoleBinding"
            && d["roleRef"]["name"] == "switchyard-plan-driver"));
    // Its Lease: by name in the console's own namespace.
    let lease = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "switchyard-plan-lease")
        .expect("a Role for the plan driver's Lease");
    assert_eq!(lease["metadata"]["namespace"], "switchyard");
    assert_eq!(
        lease["rules"],
        serde_json::json!([{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}])
    );
    // Impersonation lives only in the header-mode file.
    assert!(!text.contains("impersonate"));
}

/// On the real kube-apiserver, with `deploy/switchyard.yaml` applied by kubectl: the console
/// running as its service account, with nothing but that RBAC, lists the routes, records changes
/// made elsewhere in the history (it creates the Events), and cannot patch by itself; a user's
/// token in token mode can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_no_more_than_the_deploy_rbac() {
    if !switchyard_testkit::kinds().contains(&support::Kind::Real) {
        eprintln!("-- the real cluster is not in SWITCHYARD_CLUSTERS; nothing to check");
        return;
    }
    use serde_json::json;
    use support::{Kind, User};
    use switchyard_protocol::{RoutesResponse, ShiftOutcome, ShiftResponse};
    let context = switchyard_testkit::TestCluster::console_context(Kind::Real)
        .unwrap()
        .to_owned();
    let c = support::console_on(
        Kind::Real,
        support::Options {
            mode: switchyard_console::auth::Mode::Token,
            context: Some(context),
            anonymous_writes: false,
            // Where deploy/ lets the console keep sessions and its Lease: its own namespace.
            session_namespace: Some("switchyard".into()),
            lease_namespace: Some("switchyard".into()),
            ..support::Options::default()
        },
    )
    .await;
    let http = reqwest::Client::new();
    let operator = format!("Bearer {}", c.kube.token(User::Operator));
    let routes: RoutesResponse = http
        .get(format!("{}/api/v1/routes", c.base))
        .header("authorization", &operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(routes.virtual_services.len(), 3);

    // A browser's session, kept by the console's account in its own namespace, as deploy/ allows.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = browser
        .post(format!("{}/api/v1/session", c.base))
        .header("x-requested-by", "switchyard")
        .json(&json!({"token": c.kube.token(User::Operator)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = browser
        .get(format!("{}/api/v1/routes", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = browser
        .delete(format!("{}/api/v1/session", c.base))
        .header("x-requested-by", "switchyard")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = browser
        .get(format!("{}/api/v1/routes", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Its own identity may patch VirtualServices and HTTPRoutes only as the plan driver
    // (switchyard-plan-driver) and write a plan's status, never its spec (the actions people ask
    // for).
    let sa_can = |verb: &'static str, resource: &'static str| {
        let kube = c.kube.clone();
        async move {
            let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
            kube.kubectl(
                User::Admin,
                &[
                    "auth",
                    "can-i",
                    verb,
                    resource,
                    &format!("--subresource={subresource}"),
                    "--as",
                    "system:serviceaccount:switchyard:switchyard",
                ],
            )
            .await
            .unwrap_or_else(|e| e)
            .trim()
            .to_owned()
        }
    };
    assert_eq!(sa_can("patch", "virtualservices").await, "yes");
    assert_eq!(
        sa_can("patch", "httproutes.gateway.networking.k8s.io").await,
        "yes"
    );
    assert_eq!(
        sa_can("delete", "httproutes.gateway.networking.k8s.io").await,
        "no"
    );
    assert_eq!(sa_can("patch", "releaseplans.switchyard.dev").await, "no");
    assert_eq!(
        sa_can("patch", "releaseplans.switchyard.dev/status").await,
        "yes"
    );
    assert_eq!(sa_can("delete", "virtualservices").await, "no");

    // The operator's own token writes; the console's account records the history Event.
    let res = http
        .post(format!("{}/api/v1/shift", c.base))
        .header("authorization", &operator)
        .header("x-requested-by", "switchyard")
        .json(&json!({"targets": [{"namespace": c.ns, "name": "review"}], "weights": {"old": 80, "new": 20}}))
        .send()
        .await
        .unwrap();
    let shifted: ShiftResponse = res.json().await.unwrap();
    assert_eq!(
        shifted.results[0].outcome,
        ShiftOutcome::Changed,
        "{shifted:?}"
    );
    let as_operator = reqwest::Client::builder()
        .default_headers(reqwest::header::HeaderMap::from_iter([(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&operator).unwrap(),
        )]))
        .build()
        .unwrap();
    // The console's service account records the change as an Event.
    let history = support::history_until(&as_operator, &c.base, 1).await;
    assert_eq!(history.changes[0].user, "operator");
    let events = c
        .kube
        .kubectl(
            User::Admin,
            &[
                "get",
                "events",
                "-o",
                "jsonpath={.items[*].reportingComponent}",
            ],
        )
        .await
        .unwrap();
    assert!(
        !events.trim().is_empty(),
        "the history Event is in the cluster"
    );

    // A release plan: created with the operator's token, driven by the console's account with
    // nothing but deploy/'s RBAC (the Lease in its namespace, the status, the weights, the Events).
    let res = http
        .post(format!("{}/api/v1/plans", c.base))
        .header("authorization", &operator)
        .header("x-requested-by", "switchyard")
        .json(&json!({"targets": [{"namespace": c.ns, "name": "product"}], "steps": [5, 100], "hold_seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    support::poll_until(
        "the console's account takes the plan's first step",
        std::time::Duration::from_secs(60),
        || async {
            let w = c.weights("product").await;
            if w == vec![95, 5] {
                Ok(())
            } else {
                Err(format!("{w:?}"))
            }
        },
    )
    .await;
    // The step's Event and its weight change reach the history by different paths (the plan's
    // evidence outbox, the VirtualService watch): wait for both.
    let history = support::poll_until(
        "the step and its weight change are in the history",
        std::time::Duration::from_secs(30),
        || async {
            let res = as_operator
                .get(format!("{}/api/v1/history", c.base))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let h: switchyard_protocol::HistoryResponse =
                res.json().await.map_err(|e| e.to_string())?;
            let changed = h.changes.iter().any(|c| c.source == "plan");
            if h.plan_events.iter().any(|e| e.kind == "step") && changed {
                Ok(h)
            } else {
                Err(format!(
                    "{} plan events, a plan change: {changed}",
                    h.plan_events.len()
                ))
            }
        },
    )
    .await;
    assert!(history.changes.iter().any(|c| c.source == "plan"));
}
