//! What release plans rely on: the `coordination.k8s.io/v1` Lease the replicas elect their driver
//! with (create, get, update only at the resourceVersion read — a stale one is 409 Conflict —,
//! watch) and the `ReleasePlan` custom resource (`deploy/crd-releaseplan.yaml`): created without
//! a status, its status written only through `/status`, a status write at a stale resourceVersion
//! refused with 409, and the viewer's patch refused by RBAC with the same reason on both.

use super::support::{Both, Clusters, Compare, Message, Req};
use serde_json::{json, Value};
use switchyard_testkit::User;

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases";
const PLANS: &str = "/apis/switchyard.dev/v1alpha1/namespaces/{ns}/releaseplans";

fn lease(holder: &str, rv: Option<&str>, transitions: i64) -> Value {
    lease_renewed_at(holder, rv, transitions, "2026-11-27T10:00:02.123456Z")
}

fn lease_renewed_at(holder: &str, rv: Option<&str>, transitions: i64, renewed: &str) -> Value {
    let mut lease = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "switchyard-plan-driver"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 10,
            "acquireTime": "2026-11-27T10:00:00.123456Z",
            "renewTime": renewed,
            "leaseTransitions": transitions,
        }
    });
    if let Some(rv) = rv {
        lease["metadata"]["resourceVersion"] = json!(rv);
    }
    lease
}

fn rv(answer: &super::support::Answer) -> String {
    answer.json["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_is_created_read_updated_only_at_its_resource_version_and_watched_alike() {
    let c = Clusters::start().await;
    let spec = [
        "/metadata/name",
        "/metadata/generation",
        "/spec/holderIdentity",
        "/spec/leaseDurationSeconds",
        "/spec/leaseTransitions",
        "/spec/acquireTime",
        "/spec/renewTime",
    ];
    let created = c
        .send(&Req::post(LEASES, &lease("replica-a", None, 0)))
        .await;
    Compare::object(&spec).check("create the Lease", &created);
    assert_eq!(created.real.status, 201, "{}", created.real.text);
    // A second replica creating it too: AlreadyExists.
    let again = c
        .send(&Req::post(LEASES, &lease("replica-b", None, 0)))
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("create the Lease twice", &again);
    assert_eq!(again.real.status, 409);
    assert_eq!(again.real.reason(), "AlreadyExists");

    let path = format!("{LEASES}/switchyard-plan-driver");
    let read = c.send(&Req::get(&path).user(User::Viewer)).await;
    Compare::object(&spec).check("read the Lease", &read);

    // Renewed at the resourceVersion read: accepted, and the version moves.
    let first = Both {
        sim: rv(&created.sim),
        real: rv(&created.real),
    };
    // Each write renews it later, so none is a no-op (which would keep the resourceVersion).
    let renew = |holder: &str, rv: &str, transitions| {
        Req::put(
            &path,
            &lease_renewed_at(holder, Some(rv), transitions, "2026-11-27T10:00:04.654321Z"),
        )
    };
    let renewed = c
        .send_each(&Both {
            sim: renew("replica-a", &first.sim, 0),
            real: renew("replica-a", &first.real, 0),
        })
        .await;
    Compare::object(&spec).check("renew the Lease", &renewed);
    assert_eq!(renewed.real.status, 200, "{}", renewed.real.text);
    assert_ne!(rv(&renewed.sim), first.sim);
    assert_ne!(rv(&renewed.real), first.real);
    // Another replica taking it over with the version it read before: 409, nothing written.
    let stale = c
        .send_each(&Both {
            sim: renew("replica-b", &first.sim, 1),
            real: renew("replica-b", &first.real, 1),
        })
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("take the Lease over at a stale resourceVersion", &stale);
    assert_eq!(stale.real.status, 409);
    assert_eq!(stale.real.reason(), "Conflict");
    let read = c.send(&Req::get(&path)).await;
    Compare::object(&spec).check("the Lease after the refused takeover", &read);
    assert_eq!(read.real.json["spec"]["holderIdentity"], "replica-a");

    // A watch from the start lists it; one from its version sends the next change only.
    let watch = c
        .watch(
            &Req::get(&format!("{LEASES}?watch=true&timeoutSeconds=5")),
            |events| !events.is_empty(),
        )
        .await;
    assert_eq!(watch.sim.summary(), watch.real.summary());
    assert_eq!(
        watch.real.summary(),
        vec![("ADDED".to_owned(), "switchyard-plan-driver".to_owned())]
    );
}

fn plan(name: &str) -> Value {
    json!({
        "apiVersion": "switchyard.dev/v1alpha1",
        "kind": "ReleasePlan",
        "metadata": {"name": name},
        "spec": {
            "targets": [{"namespace": "{ns}", "name": "review", "kind": "VirtualService"}],
            "steps": [5, 25, 100],
            "hold_seconds": 60,
            "gates": {"min_success_rate": 99, "max_p99_ms": 500, "min_requests": 50,
                      "failures_to_abort": 1, "max_inconclusive": 3},
            "on_abort": "immediate",
            "created_by": "operator",
            "created_at": "2026-11-27T10:00:00.000000Z"
        },
        "status": {"phase": "completed"}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_plan_s_status_is_written_only_through_status_and_only_at_its_version() {
    let c = Clusters::start().await;
    let created = c
        .send(&Req::post(PLANS, &plan("plan-contract")).user(User::Operator))
        .await;
    Compare::object(&["/metadata/name", "/metadata/generation", "/spec", "/status"])
        .check("create a ReleasePlan", &created);
    assert_eq!(created.real.status, 201, "{}", created.real.text);
    assert!(
        created.real.json.get("status").is_none(),
        "status is a subresource"
    );

    let path = format!("{PLANS}/plan-contract");
    let first = Both {
        sim: rv(&created.sim),
        real: rv(&created.real),
    };
    let status_patch = |rv: &str, phase: &str| {
        Req::patch(
            &format!("{path}/status"),
            "application/merge-patch+json",
            &json!({"metadata": {"resourceVersion": rv}, "status": {"phase": phase, "step": 1, "pending": null}})
                .to_string(),
        )
    };
    let written = c
        .send_each(&Both {
            sim: status_patch(&first.sim, "running"),
            real: status_patch(&first.real, "running"),
        })
        .await;
    Compare::object(&["/spec", "/status", "/metadata/generation"])
        .check("write the status at the version read", &written);
    assert_eq!(
        written.real.json["status"],
        json!({"phase": "running", "step": 1})
    );
    // The same write at the version before it: 409 Conflict, as another replica's would be.
    let stale = c
        .send_each(&Both {
            sim: status_patch(&first.sim, "aborted"),
            real: status_patch(&first.real, "aborted"),
        })
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("write the status at a stale version", &stale);
    assert_eq!(stale.real.status, 409);
    assert_eq!(stale.real.reason(), "Conflict");

    // A person's control action goes to the spec; the status it carries is ignored.
    let command = Req::patch(
        &path,
        "application/merge-patch+json",
        &json!({"spec": {"commands": [{"action": "pause", "by": "operator", "at": "t"}]},
                "status": {"phase": "completed"}})
        .to_string(),
    );
    let both = c.send(&command.clone().user(User::Operator)).await;
    Compare::object(&["/spec/commands", "/status", "/metadata/generation"])
        .check("an operator's control action", &both);
    assert_eq!(both.real.json["status"]["phase"], "running");
    // The viewer may read plans but not act on them: the same refusal, word for word.
    let refused = c.send(&command.user(User::Viewer)).await;
    Compare::status()
        .message(Message::Exact)
        .check("the viewer's control action", &refused);
    assert_eq!(refused.real.status, 403);
    assert!(
        refused.real.message().contains(
            r#"User "viewer" cannot patch resource "releaseplans" in API group "switchyard.dev""#
        ),
        "{}",
        refused.real.message()
    );
    // Nor may the operator write a plan's status.
    let forged = c
        .send(&status_patch("", "completed").user(User::Operator))
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("the operator's status write", &forged);
    assert_eq!(forged.real.status, 403);
}
