//! Who the caller is and what they may do, as the console asks it: SelfSubjectAccessReview
//! (allowed with RBAC's reason, denied), SelfSubjectReview (token sign-in, `kubectl auth whoami`),
//! impersonation of a user and groups (header mode) and impersonation refused, plus the 401 and
//! 403 Status bodies.

use super::support::{shape, Clusters, Compare, Message, Req};
use serde_json::{json, Value};
use switchyard_testkit::User;

const SSAR: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const SSR: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

fn access_review(verb: &str, name: Option<&str>) -> Value {
    let mut attributes = json!({"namespace": "{ns}", "verb": verb,
        "group": "networking.istio.io", "resource": "virtualservices"});
    if let Some(name) = name {
        attributes["name"] = json!(name);
    }
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
           "spec": {"resourceAttributes": attributes}})
}

fn whoami() -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
}

#[tokio::test(flavor = "multi_thread")]
async fn access_review_allowed_names_the_rbac_binding() {
    let c = Clusters::start().await;
    for name in [Some("review"), None] {
        let both = c
            .send(&Req::post(SSAR, &access_review("patch", name)).user(User::Operator))
            .await;
        Compare::object(&["/status/allowed", "/spec"]).check("operator may patch", &both);
        assert_eq!(both.real.status, 201);
        assert_eq!(both.real.json["status"]["allowed"], true);
        // The reason is RBAC's sentence about the binding that allowed it; the bindings are
        // named differently on the two clusters, the sentence is the same.
        let reason = |v: &Value, ns: &str| shape(v["status"]["reason"].as_str().unwrap_or(""), ns);
        assert_eq!(
            reason(&both.sim.json, &both.sim.namespace),
            reason(&both.real.json, &both.real.namespace)
        );
        assert!(both.real.json["status"]["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("RBAC: allowed by RoleBinding "));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_review_denied_has_no_reason() {
    let c = Clusters::start().await;
    for (user, verb) in [(User::Viewer, "patch"), (User::Operator, "delete")] {
        let both = c
            .send(&Req::post(SSAR, &access_review(verb, Some("review"))).user(user))
            .await;
        // The console shows its own words when the cluster gives none: no reason, no
        // evaluationError, on both.
        Compare::object(&["/status"]).check(verb, &both);
        assert_eq!(both.real.json["status"], json!({"allowed": false}));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_review_without_attributes_is_422() {
    // Exactly one of resourceAttributes and nonResourceAttributes: the API server validates the
    // internal type, whose kind is still empty, so the message starts `.authorization.k8s.io ""`,
    // the cause is on `spec` and `details` name no kind. The console always sends
    // resourceAttributes.
    let c = Clusters::start().await;
    for (case, review) in [
        ("an empty spec", json!({"spec": {}})),
        ("no spec", json!({})),
        (
            "both kinds of attributes",
            json!({"spec": {"resourceAttributes": {"verb": "get"},
                            "nonResourceAttributes": {"verb": "get", "path": "/healthz"}}}),
        ),
    ] {
        let mut body =
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview"});
        body.as_object_mut()
            .expect("an object")
            .extend(review.as_object().expect("an object").clone());
        let both = c.send(&Req::post(SSAR, &body)).await;
        Compare::status().message(Message::Exact).check(case, &both);
        assert_eq!(both.real.status, 422, "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn self_subject_review_names_the_user_and_groups() {
    let c = Clusters::start().await;
    for user in [User::Viewer, User::Operator, User::Admin] {
        let both = c.send(&Req::post(SSR, &whoami()).user(user)).await;
        Compare::object(&["/status/userInfo/username", "/status/userInfo/groups"])
            .check("whoami", &both);
        assert_eq!(both.real.status, 201);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn self_subject_review_uid_and_timestamp() {
    // The review reports the token file's uid (the test clusters' token users have their name as
    // uid) and is stamped when made; it keeps nothing of the request's metadata.
    let c = Clusters::start().await;
    for user in [User::Viewer, User::Admin] {
        let both = c.send(&Req::post(SSR, &whoami()).user(user)).await;
        Compare::object(&["/status/userInfo", "/metadata/name"]).check("whoami uid", &both);
        assert_eq!(both.real.status, 201);
        for answer in [&both.sim, &both.real] {
            let stamp = answer.json["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or_else(|| {
                    panic!("{}: no creationTimestamp: {}", answer.kind, answer.text)
                });
            // metav1.Time: RFC 3339 in UTC to the second, `2026-01-02T03:04:05Z`.
            assert_eq!(
                shape(stamp, "no such namespace"),
                "N-N-NTN:N:NZ",
                "{}: {stamp}",
                answer.kind
            );
        }
    }
    let both = c
        .send(&Req::post(SSR, &whoami()).header("Impersonate-User", "jane"))
        .await;
    Compare::object(&["/status/userInfo"]).check("whoami impersonated, no uid", &both);
    let both = c
        .send(
            &Req::post(SSR, &whoami())
                .header("Impersonate-User", "jane")
                .header("Impersonate-Uid", "u-1"),
        )
        .await;
    Compare::object(&["/status/userInfo"]).check("whoami impersonated with a uid", &both);
}

#[tokio::test(flavor = "multi_thread")]
async fn impersonating_a_user_and_groups() {
    let c = Clusters::start().await;
    let req = Req::post(SSR, &whoami())
        .header("Impersonate-User", "jane")
        .header("Impersonate-Group", "team-a")
        .header("Impersonate-Group", "switchyard:operators");
    let both = c.send(&req).await;
    Compare::object(&["/status/userInfo"]).check("admin impersonates jane", &both);
    assert_eq!(
        both.real.json["status"]["userInfo"],
        json!({"username": "jane", "groups": ["team-a", "switchyard:operators", "system:authenticated"]})
    );
    // The impersonated groups decide: jane as an operator may patch, as nobody she may not.
    let both = c
        .send(
            &Req::post(SSAR, &access_review("patch", Some("review")))
                .header("Impersonate-User", "jane")
                .header("Impersonate-Group", "switchyard:operators"),
        )
        .await;
    Compare::object(&["/status/allowed"]).check("jane as an operator", &both);
    assert_eq!(both.real.json["status"]["allowed"], true);
    let both = c
        .send(
            &Req::post(SSAR, &access_review("patch", Some("review")))
                .header("Impersonate-User", "jane"),
        )
        .await;
    Compare::object(&["/status"]).check("jane alone", &both);
    assert_eq!(both.real.json["status"]["allowed"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn impersonating_groups_without_a_user_is_400() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::post(SSR, &whoami()).header("Impersonate-Group", "team-a"))
        .await;
    Compare::status()
        .message(Message::Shape)
        .check("groups without a user", &both);
    assert_eq!(both.real.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn impersonation_refused() {
    // Divergence "impersonation refused" (stays, docs/sim-divergences.md): both answer 403
    // Forbidden naming the caller, which is what the console shows. kube-apiserver 1.37
    // (constrained impersonation, KEP-5284, beta since 1.36) reports the request being
    // impersonated (verb `impersonate-on:user-info:<verb>` on its resource); the simulator
    // reports the legacy check (`impersonate` on `users`), as clusters without the feature do.
    let c = Clusters::start().await;
    let both = c
        .send(
            &Req::get("/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review")
                .user(User::Operator)
                .header("Impersonate-User", "jane"),
        )
        .await;
    Compare::status()
        .message(Message::Any)
        .without_details()
        .check("operator may not impersonate", &both);
    assert_eq!(both.real.status, 403);
    for answer in [&both.sim, &both.real] {
        assert!(
            answer
                .message()
                .contains("is forbidden: User \"operator\" cannot impersonate"),
            "{}: {}",
            answer.kind,
            answer.message()
        );
    }
    assert!(both
        .real
        .message()
        .contains("cannot impersonate-on:user-info:get resource \"virtualservices\""));
    assert_eq!(both.real.json["details"]["kind"], "virtualservices");
    assert_eq!(both.sim.json["details"]["kind"], "users");
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_and_unauthorized_status_bodies() {
    let c = Clusters::start().await;
    let both = c
        .send(
            &Req::patch(
                "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/review",
                "application/merge-patch+json",
                "{}",
            )
            .user(User::Viewer),
        )
        .await;
    // The console shows this message as the reason a write failed.
    Compare::status()
        .message(Message::Exact)
        .check("viewer may not patch", &both);
    assert_eq!(both.real.status, 403);

    let both = c
        .send(&Req::get("/api/v1/namespaces/{ns}/events").user(User::Viewer))
        .await;
    Compare::object(&[]).check("viewer may list events", &both);

    let both = c
        .send(
            &Req::post(
                "/api/v1/namespaces/{ns}/events",
                &json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                        "involvedObject": {"kind": "VirtualService", "name": "review"}}),
            )
            .user(User::Viewer),
        )
        .await;
    Compare::status()
        .message(Message::Exact)
        .check("viewer may not create events", &both);
    assert_eq!(both.real.status, 403);

    // A token neither cluster knows.
    let both = c
        .send(&Req::get("/api/v1/namespaces").token("not-a-token"))
        .await;
    Compare::status()
        .message(Message::Exact)
        .also(&["/details"])
        .check("unknown token", &both);
    assert_eq!(both.real.status, 401);
}
