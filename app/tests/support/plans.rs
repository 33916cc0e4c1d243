//! What the release plan tests share: the console options they run with, a plan created and read
//! through the API, a bounded wait for a plan's state, and the simulated data plane's annotations
//! set with kubectl.

use super::{TestCluster, TestConsole, User};
use std::time::Duration;
use switchyard_console::metrics::Source;
use switchyard_protocol::Plan;

/// A console reading `source`, refreshing every second (a hold of a few seconds sees several
/// refreshes).
pub fn options(source: &Source) -> super::Options {
    super::Options {
        source: Some(source.clone()),
        refresh: Duration::from_secs(1),
        ..super::Options::default()
    }
}

/// `POST /api/v1/plans` (anonymous, or with a bearer `token`); the plan, asserting 201.
pub async fn create(c: &TestConsole, body: &serde_json::Value, token: Option<&str>) -> Plan {
    let mut request = c
        .http
        .post(format!("{}/api/v1/plans", c.base))
        .header("x-requested-by", "test")
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `GET /api/v1/plans/{id}`, or why it could not be read.
pub async fn get(c: &TestConsole, id: &str) -> Result<Plan, String> {
    let res = c
        .http
        .get(format!("{}/api/v1/plans/{id}", c.base))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let text = res.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

/// Waits (polling, bounded) until the plan satisfies `done`.
pub async fn wait(
    c: &TestConsole,
    id: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(&Plan) -> bool,
) -> Plan {
    super::poll_until(what, limit, || async {
        let plan = get(c, id).await?;
        if done(&plan) {
            Ok(plan)
        } else {
            Err(format!(
                "{:?} step {} weight {:?}: {:?}",
                plan.phase, plan.step, plan.weight, plan.reason
            ))
        }
    })
    .await
}

/// Sets one of the simulated data plane's annotations on a Deployment in `namespace`
/// (`error-rate=10%`, `latency=p50=20ms,p95=50ms`), as the admin with kubectl.
pub async fn simulate(kube: &TestCluster, namespace: &str, deployment: &str, what: &str) {
    let annotation = format!("sim.switchyard.dev/{what}");
    let args = [
        "annotate",
        "deployment",
        deployment,
        &annotation,
        "--overwrite",
        "-n",
        namespace,
    ];
    kube.kubectl(User::Admin, &args)
        .await
        .unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
}
