//! Lists with label and field selectors (kube-rs watchers take them, kubectl `-l` and
//! `--field-selector`), and pagination with `limit` and `continue` (kubectl asks for 500 at a
//! time, kube-rs's watcher pages its initial list).

use super::support::{Both, Clusters, Compare, Message, Req};
use serde_json::Value;

const VS: &str = "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices";
const SERVICES: &str = "/api/v1/namespaces/{ns}/services";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/{ns}/deployments";

#[tokio::test(flavor = "multi_thread")]
async fn label_selectors_select_the_same_objects() {
    let c = Clusters::start().await;
    for selector in [
        "app=review",
        "app==review",
        "app!=review",
        "app in (review,product)",
        "app notin (review,product),version=v2",
        "version",
        "!version",
        "app=review,version in (v1)",
        "app=",
    ] {
        let query = selector
            .replace(' ', "+")
            .replace('=', "%3D")
            .replace('!', "%21");
        let both = c
            .send(&Req::get(&format!("{DEPLOYMENTS}?labelSelector={query}")))
            .await;
        Compare::object(&[]).check(selector, &both);
        assert_eq!(both.sim.names(), both.real.names(), "{selector}");
        assert_eq!(both.real.status, 200, "{selector}");
    }
    // Services carry only `app`.
    let both = c
        .send(&Req::get(&format!(
            "{SERVICES}?labelSelector=app%3Dproduct"
        )))
        .await;
    assert_eq!(both.sim.names(), both.real.names());
    assert_eq!(both.real.names(), ["product"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_label_selectors_are_400() {
    let c = Clusters::start().await;
    for selector in ["app%3D%3Db%3Dc", "app+in+review", "(", "app%3Da+b"] {
        let both = c
            .send(&Req::get(&format!("{VS}?labelSelector={selector}")))
            .await;
        // Each parser words its complaint its own way; kubectl prints it.
        Compare::status()
            .message(Message::Any)
            .check(selector, &both);
        assert_eq!(both.real.status, 400, "{selector}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn field_selectors_on_names_and_the_indexed_fields() {
    let c = Clusters::start().await;
    for (path, selector) in [
        (VS, "metadata.name%3Dreview"),
        (VS, "metadata.name!%3Dreview"),
        (VS, "metadata.namespace%3D{ns}"),
        (VS, "metadata.name%3Dreview,metadata.name%3Dproduct"),
        (SERVICES, "metadata.name%3Dproduct"),
        (SERVICES, "spec.type%3DClusterIP"),
        (SERVICES, "spec.type!%3DClusterIP"),
        (DEPLOYMENTS, "metadata.name%3Dreview-v2"),
    ] {
        let both = c
            .send(&Req::get(&format!("{path}?fieldSelector={selector}")))
            .await;
        Compare::object(&[]).check(selector, &both);
        assert_eq!(both.sim.names(), both.real.names(), "{path} {selector}");
        assert_eq!(both.real.status, 200, "{selector}");
    }
    // A field the server does not index is refused with the field's name, for every type.
    for (path, field) in [(VS, "spec.hosts"), (DEPLOYMENTS, "spec.replicas")] {
        let both = c
            .send(&Req::get(&format!("{path}?fieldSelector={field}%3Dx")))
            .await;
        Compare::status()
            .message(Message::Exact)
            .check(field, &both);
        assert_eq!(both.real.status, 400);
    }
}

/// Reads every page of a list with `limit`, returning the names per page and each page's
/// metadata.
async fn pages(c: &Clusters, path: &str, limit: usize) -> Both<Vec<(Vec<String>, Value)>> {
    let mut out = Both {
        sim: Vec::new(),
        real: Vec::new(),
    };
    let mut tokens = Both {
        sim: String::new(),
        real: String::new(),
    };
    for _ in 0..20 {
        let req = |token: &str| {
            let mut query = format!("{path}?limit={limit}");
            if !token.is_empty() {
                query.push_str(&format!("&continue={token}"));
            }
            Req::get(&query)
        };
        let both = c
            .send_each(&Both {
                sim: req(&tokens.sim),
                real: req(&tokens.real),
            })
            .await;
        Compare::object(&["/metadata/remainingItemCount"]).check("a page", &both);
        out.sim
            .push((both.sim.names(), both.sim.json["metadata"].clone()));
        out.real
            .push((both.real.names(), both.real.json["metadata"].clone()));
        let token = |v: &Value| v["metadata"]["continue"].as_str().unwrap_or("").to_owned();
        tokens = Both {
            sim: token(&both.sim.json),
            real: token(&both.real.json),
        };
        assert_eq!(
            tokens.sim.is_empty(),
            tokens.real.is_empty(),
            "one says there is more, the other does not"
        );
        if tokens.real.is_empty() {
            return out;
        }
    }
    panic!("more than 20 pages");
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_and_continue_page_through_the_same_objects() {
    let c = Clusters::start().await;
    for (path, limit) in [(DEPLOYMENTS, 3), (VS, 1), (VS, 2), (SERVICES, 10)] {
        let both = pages(&c, path, limit).await;
        let names = |p: &Vec<(Vec<String>, Value)>| -> Vec<Vec<String>> {
            p.iter().map(|(n, _)| n.clone()).collect()
        };
        assert_eq!(names(&both.sim), names(&both.real), "{path} limit {limit}");
        assert!(
            both.real.iter().all(|(n, _)| n.len() <= limit),
            "{path}: pages hold at most {limit}"
        );
    }
    // limit=0 or a negative limit means no limit.
    for limit in ["0", "-1"] {
        let both = c.send(&Req::get(&format!("{VS}?limit={limit}"))).await;
        Compare::object(&[]).check(limit, &both);
        assert_eq!(both.sim.names(), both.real.names(), "limit {limit}");
        assert_eq!(both.real.names().len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_continue_token_that_is_not_one_is_400() {
    let c = Clusters::start().await;
    let both = c
        .send(&Req::get(&format!("{VS}?limit=1&continue=garbage")))
        .await;
    Compare::status()
        .message(Message::Any)
        .check("garbage continue token", &both);
    assert_eq!(both.real.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_limit_that_is_not_a_number() {
    // The server parses `limit` with Go's strconv.ParseInt: anything else (an empty value too)
    // is a 400 BadRequest in strconv's words.
    let c = Clusters::start().await;
    for limit in ["abc", "", "1.5", "99999999999999999999"] {
        let both = c.send(&Req::get(&format!("{VS}?limit={limit}"))).await;
        Compare::status()
            .message(Message::Exact)
            .check(&format!("limit={limit}"), &both);
        assert_eq!(
            (both.real.status, both.real.reason()),
            (400, "BadRequest"),
            "{}",
            both.real.text
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_page_of_a_custom_resource_list() {
    // Divergence "empty continue" (stays): the real server writes `continue: ""` in every custom
    // resource list's metadata (built-in lists leave it out); the simulator leaves it out. Every
    // client treats the two alike.
    let c = Clusters::start().await;
    let both = c.send(&Req::get(VS)).await;
    assert_eq!(both.real.json["metadata"]["continue"], "");
    assert!(both.sim.json["metadata"].get("continue").is_none());
    let both = c.send(&Req::get(SERVICES)).await;
    assert!(both.real.json["metadata"].get("continue").is_none());
    assert!(both.sim.json["metadata"].get("continue").is_none());
}
