//! The team's rollout actions through the real page: a bulk shift of the three demo services to
//! 0/100 with one action (checked with real `kubectl`), rollback of everything in one click plus
//! a confirmation, the history naming the user for both, a route changed with kubectl between
//! preview and apply failing alone with 409, and in token mode a viewer seeing read-only
//! controls (a direct write with the viewer's token is refused with 403) while an operator
//! shifts and is named in the history, and the page returns to the sign-in form when the
//! session is signed out elsewhere. A release plan the operator started is shown to the viewer
//! with its controls disabled and the cluster's reason; the operator aborts it from the page. Rollback also works with Prometheus unreachable. The
//! bulk shift and rollback also run on a demo whose subsets are called `blue`/`green`
//! (`--manifest`, `--old-subset`, `--new-subset`), where every label and request uses those names.

use fantoccini::Locator;
use switchyard_e2e::{conclude, fail, kinds, poll, Browser, Demo, Kind, Result, User, WAIT};
use switchyard_frontend::plans::test_ids as plan_ids;
use switchyard_frontend::rollout::test_ids as ids;
use switchyard_frontend::weight_controls::test_ids as card;

const SERVICES: [&str; 3] = ["product", "recommendation", "review"];
const JSONPATH_WEIGHTS: &str = "jsonpath={.spec.http[1].route[*].weight}";
const JSONPATH_SUBSETS: &str = "jsonpath={.spec.http[1].route[*].destination.subset}";

/// On every cluster kind of the run (the simulated demo, `switchyard serve` on the real
/// kube-apiserver): starts the console (with extra arguments) and a browser, runs the scenario,
/// and on failure saves a screenshot and the console's log tail in the panic message.
macro_rules! run {
    ($name:literal, $args:expr, $scenario:ident) => {{
        for kind in kinds() {
            eprintln!("-- on the {kind} cluster");
            run!(@one kind, $name, $args, $scenario);
        }
    }};
    (@one $kind:ident, $name:literal, $args:expr, $scenario:ident) => {{
        let dir = tempfile::tempdir().expect("a temp dir");
        let demo = match Demo::start_on($kind, dir.path(), $args).await {
            Ok(demo) => demo,
            Err(error) => panic!("{error}"),
        };
        let browser = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
        let outcome = $scenario(&browser, &demo).await;
        let context = format!("on the {} cluster", $kind);
        conclude(&context, outcome, &demo, vec![(browser, $name.to_owned())]).await;
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_shift_then_rollback_with_history() {
    run!("rollout-bulk-rollback", &[], bulk_shift_then_rollback);
}

/// With other subset names the page offers, previews, shifts and rolls back in those names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_shift_then_rollback_with_blue_green_subsets() {
    let manifest = tempfile::tempdir().expect("a temp dir");
    let path = match blue_green_manifest(manifest.path()) {
        Ok(path) => path,
        Err(error) => panic!("{error}"),
    };
    let path = path.to_string_lossy().into_owned();
    let args = [
        "--manifest",
        path.as_str(),
        "--old-subset",
        BLUE_GREEN.old,
        "--new-subset",
        BLUE_GREEN.new,
    ];
    // `--manifest` is the demo's: this scenario runs on the simulated cluster (the API-level
    // test of other subset names, app/tests/rollout_api.rs, runs on both).
    let kind = Kind::Simulated;
    run!(@one kind, "rollout-blue-green", &args, blue_green_shift_then_rollback);
}

/// demo/hands-on.yaml with its subsets `old` and `new` renamed `blue` and `green` (in the
/// DestinationRules and in the VirtualServices' destinations), written into `dir`.
fn blue_green_manifest(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let demo =
        std::fs::read_to_string(switchyard_e2e::workspace_root().join("demo/hands-on.yaml"))?;
    let mut renamed = 0;
    let lines: Vec<String> = demo
        .lines()
        .map(|line| {
            let (indent, text) = line.split_at(line.len() - line.trim_start().len());
            let text = match text {
                "- name: old" => "- name: blue",
                "- name: new" => "- name: green",
                "subset: old" => "subset: blue",
                "subset: new" => "subset: green",
                _ => return line.to_owned(),
            };
            renamed += 1;
            format!("{indent}{text}")
        })
        .collect();
    // Three DestinationRules name two subsets each; three VirtualServices route to them three
    // times each.
    if renamed != 15 {
        return fail(format!(
            "demo/hands-on.yaml changed shape: renamed {renamed} subset lines, expected 15"
        ));
    }
    let path = dir.join("blue-green.yaml");
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_changed_after_the_preview_fails_alone() {
    run!("rollout-conflict", &[], conflict_after_preview);
}

/// Nothing listens on port 1 of the loopback: every metrics query fails at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_works_while_prometheus_is_down() {
    run!(
        "rollout-no-prometheus",
        &["--prometheus-url", "http://127.0.0.1:1"],
        shift_then_roll_back
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_is_read_only_and_operator_shifts() {
    run!("rollout-token", &["--auth", "token"], viewer_then_operator);
}

/// With SWITCHYARD_E2E_SCREENSHOTS set, scrolls the element with this test id to the top and
/// saves a screenshot, for a person to look at the page.
async fn look(browser: &Browser, name: &str, id: &str) -> Result<()> {
    if std::env::var_os("SWITCHYARD_E2E_SCREENSHOTS").is_none() {
        return Ok(());
    }
    let element = browser.wait_for(id).await?;
    let element = serde_json::to_value(&element)?;
    browser
        .client
        .execute("arguments[0].scrollIntoView();", vec![element])
        .await?;
    browser.screenshot(name).await?;
    Ok(())
}

/// Opens the page and waits for the bulk panel with every demo service ticked.
async fn open_console(browser: &Browser, demo: &Demo) -> Result<()> {
    browser.client.goto(&demo.url).await?;
    if browser.client.source().await?.contains("UI not built") {
        return fail(
            "the switchyard binary embeds the placeholder page (built with SWITCHYARD_SKIP_UI); \
             rebuild it with `cargo build -p switchyard`",
        );
    }
    browser.wait_for(ids::BULK_SHIFT).await?;
    Ok(())
}

async fn wait_ticked(browser: &Browser, services: &[&str], ticked: bool) -> Result<()> {
    for service in services {
        let id = ids::bulk_target(service);
        poll(&format!("{id} ticked={ticked}"), WAIT, || async {
            let checked = browser.wait_for(&id).await?.prop("checked").await?;
            Ok((checked.as_deref() == Some(if ticked { "true" } else { "false" })).then_some(()))
        })
        .await?;
    }
    Ok(())
}

/// Waits until kubectl shows `weights` (e.g. "0 100") on route 1 of `service`.
async fn wait_kubectl(demo: &Demo, service: &str, weights: &str) -> Result<()> {
    let last = std::sync::Mutex::new(String::new());
    let outcome = poll(
        &format!("kubectl to show {service} at {weights}"),
        WAIT,
        || async {
            let now = demo
                .kubectl(&["get", "virtualservice", service, "-o", JSONPATH_WEIGHTS])
                .await?;
            let now = now.trim().to_owned();
            let done = now == weights;
            if let Ok(mut seen) = last.lock() {
                *seen = now;
            }
            Ok(done.then_some(()))
        },
    )
    .await;
    outcome.map_err(|e| {
        let seen = last.lock().map(|s| s.clone()).unwrap_or_default();
        format!("{e}; kubectl last showed {seen:?}").into()
    })
}

/// The texts of all history entries on the page.
async fn history_texts(browser: &Browser) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for entry in browser
        .client
        .find_all(Locator::Css(&format!(
            "[data-testid^=\"{}\"]",
            ids::HISTORY_ENTRY_PREFIX
        )))
        .await?
    {
        texts.push(entry.text().await?);
    }
    Ok(texts)
}

/// Waits until, for every service, some history entry holds all of `parts` (with
/// `{service}` replaced by the service's name and `{ns}` by the demo's namespace).
async fn wait_history(browser: &Browser, demo: &Demo, parts: &[&str]) -> Result<()> {
    let description = format!("history entries with {parts:?} for {SERVICES:?}");
    let last = std::sync::Mutex::new(Vec::new());
    let outcome = poll(&description, WAIT, || async {
        let texts = history_texts(browser).await?;
        let all = SERVICES.iter().all(|service| {
            texts.iter().any(|text| {
                parts.iter().all(|part| {
                    text.contains(
                        &part
                            .replace("{service}", service)
                            .replace("{ns}", &demo.namespace),
                    )
                })
            })
        });
        if let Ok(mut seen) = last.lock() {
            *seen = texts;
        }
        Ok(all.then_some(()))
    })
    .await;
    outcome.map_err(|e| {
        let seen = last.lock().map(|s| s.clone()).unwrap_or_default();
        format!("{e}; history shows {seen:#?}").into()
    })
}

/// What old and new are called: the demo's own names, or the ones a test starts it with.
#[derive(Clone, Copy)]
struct Names {
    old: &'static str,
    new: &'static str,
}

const OLD_NEW: Names = Names {
    old: "old",
    new: "new",
};
const BLUE_GREEN: Names = Names {
    old: "blue",
    new: "green",
};

impl Names {
    /// "old 100 / new 0 → old 0 / new 100" for `from` → `to` as (old, new) weights.
    fn change(self, from: (u32, u32), to: (u32, u32)) -> String {
        let Names { old, new } = self;
        format!(
            "{old} {} / {new} {} → {old} {} / {new} {}",
            from.0, from.1, to.0, to.1
        )
    }
}

/// Presets 0/100 over every ticked service, checks the preview, applies, checks the results.
async fn bulk_shift_to_0_100(browser: &Browser, names: Names) -> Result<()> {
    let change = names.change((100, 0), (0, 100));
    browser.click(&ids::bulk_preset(0, 100)).await?;
    for service in SERVICES {
        browser
            .wait_for_text(&ids::bulk_preview(service), &change, |text| {
                text.contains(&change)
            })
            .await?;
    }
    browser.click(ids::BULK_APPLY).await?;
    let changed = format!("changed: {change}");
    for service in SERVICES {
        browser
            .wait_for_text(&ids::bulk_result(service), "changed", |text| {
                text.contains(&changed)
            })
            .await?;
    }
    Ok(())
}

async fn bulk_shift_then_rollback(browser: &Browser, demo: &Demo) -> Result<()> {
    bulk_shift_then_rollback_named(browser, demo, OLD_NEW).await
}

/// The demo on a manifest whose subsets are `blue`/`green`, the console started with those
/// names: the same scenario, every label and request in those names.
async fn blue_green_shift_then_rollback(browser: &Browser, demo: &Demo) -> Result<()> {
    let subsets = demo
        .kubectl(&["get", "virtualservice", "review", "-o", JSONPATH_SUBSETS])
        .await?;
    if subsets.trim() != "blue green" {
        return fail(format!(
            "the demo did not load the blue/green manifest: review's subsets are {subsets:?}"
        ));
    }
    open_console(browser, demo).await?;
    // The cards key their controls by the subsets as they are.
    browser
        .wait_for(&card::weight_range("review", 1, "blue"))
        .await?;
    bulk_shift_then_rollback_named(browser, demo, BLUE_GREEN).await?;
    let button = browser.text(ids::ROLLBACK).await?;
    if button != "Roll back everything to blue" {
        return fail(format!("the rollback button reads {button:?}"));
    }
    Ok(())
}

async fn bulk_shift_then_rollback_named(
    browser: &Browser,
    demo: &Demo,
    names: Names,
) -> Result<()> {
    open_console(browser, demo).await?;
    browser
        .wait_for_text(ids::WHOAMI, "anonymous", |t| t.contains("anonymous"))
        .await?;
    // Every service with an old/new route is chosen without anyone ticking anything.
    wait_ticked(browser, &SERVICES, true).await?;
    bulk_shift_to_0_100(browser, names).await?;
    for service in SERVICES {
        wait_kubectl(demo, service, "0 100").await?;
    }
    look(browser, "rollout-bulk-applied", ids::BULK_SHIFT).await?;

    // Cancel changes nothing and closes the question.
    browser.click(ids::ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CANCEL).await?;
    poll("the confirmation to close", WAIT, || async {
        let shown = browser
            .wait_for(ids::ROLLBACK_CONFIRM)
            .await?
            .is_displayed()
            .await?;
        Ok((!shown).then_some(()))
    })
    .await?;
    for service in SERVICES {
        wait_kubectl(demo, service, "0 100").await?;
    }

    // Rollback: one button, one plain question, one answer.
    browser.click(ids::ROLLBACK).await?;
    browser
        .wait_for_text(ids::ROLLBACK_CONFIRM, "the confirm button", |t| {
            t.contains("Roll back")
        })
        .await?;
    let question = browser
        .client
        .find(Locator::Css(".confirm-dialog-question"))
        .await?
        .text()
        .await?;
    let ns = &demo.namespace;
    let asked = format!(
        "Roll back 3 services to {} 100 %: {ns}/product, {ns}/recommendation, {ns}/review",
        names.old
    );
    if question != asked {
        return fail(format!("the confirmation asks {question:?}"));
    }
    // The modal dialog takes the keyboard: focus is on its confirm button.
    let focused = browser
        .client
        .active_element()
        .await?
        .attr("data-testid")
        .await?;
    if focused.as_deref() != Some(ids::ROLLBACK_CONFIRM) {
        return fail(format!(
            "focus is on {focused:?}, not on the confirm button"
        ));
    }
    look(browser, "rollout-rollback-confirm", ids::ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    browser
        .wait_for_text(ids::ROLLBACK_RESULT, "3 changed", |t| {
            t.contains("3 changed")
        })
        .await?;
    for service in SERVICES {
        wait_kubectl(demo, service, "100 0").await?;
    }

    wait_history(
        browser,
        demo,
        &[
            "anonymous",
            "bulk shift",
            "{ns}/{service} route 1",
            &names.change((100, 0), (0, 100)),
        ],
    )
    .await?;
    wait_history(
        browser,
        demo,
        &[
            "anonymous",
            "rollback",
            "{ns}/{service} route 1",
            &names.change((0, 100), (100, 0)),
        ],
    )
    .await?;
    look(browser, "rollout-history", ids::HISTORY).await?;
    Ok(())
}

async fn shift_then_roll_back(browser: &Browser, demo: &Demo) -> Result<()> {
    open_console(browser, demo).await?;
    wait_ticked(browser, &SERVICES, true).await?;
    bulk_shift_to_0_100(browser, OLD_NEW).await?;
    browser.click(ids::ROLLBACK).await?;
    browser.click(ids::ROLLBACK_CONFIRM).await?;
    browser
        .wait_for_text(ids::ROLLBACK_RESULT, "3 changed", |t| {
            t.contains("3 changed")
        })
        .await?;
    for service in SERVICES {
        wait_kubectl(demo, service, "100 0").await?;
    }
    Ok(())
}

async fn conflict_after_preview(browser: &Browser, demo: &Demo) -> Result<()> {
    open_console(browser, demo).await?;
    wait_ticked(browser, &SERVICES, true).await?;
    browser.click(&ids::bulk_preset(50, 50)).await?;
    browser
        .wait_for_text(&ids::bulk_preview("review"), "a preview row", |t| {
            t.contains("old 100 / new 0 → old 50 / new 50")
        })
        .await?;
    // Someone else moves review after the preview was shown.
    demo.kubectl(&[
        "patch",
        "virtualservice",
        "review",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/http/1/route/0/weight","value":80},{"op":"replace","path":"/spec/http/1/route/1/weight","value":20}]"#,
    ])
    .await?;
    // The page learns of it live and says the preview is out of date for review.
    browser
        .wait_for_text(&ids::bulk_preview("review"), "the stale note", |t| {
            t.contains("changed since this preview")
        })
        .await?;
    browser.click(ids::BULK_APPLY).await?;
    browser
        .wait_for_text(&ids::bulk_result("review"), "failed with 409", |t| {
            t.contains("failed (409")
        })
        .await?;
    for service in ["product", "recommendation"] {
        browser
            .wait_for_text(&ids::bulk_result(service), "changed", |t| {
                t.contains("changed: old 100 / new 0 → old 50 / new 50")
            })
            .await?;
        wait_kubectl(demo, service, "50 50").await?;
    }
    wait_kubectl(demo, "review", "80 20").await?;
    // The kubectl change is in the history too, as made outside the console.
    poll(
        "history to show the kubectl change to review",
        WAIT,
        || async {
            let texts = history_texts(browser).await?;
            let found = texts.iter().any(|t| {
                t.contains("outside the console")
                    && t.contains(&format!("{}/review route 1", demo.namespace))
                    && t.contains("old 100 / new 0 → old 80 / new 20")
            });
            Ok(found.then_some(()))
        },
    )
    .await?;
    look(browser, "rollout-conflict-results", ids::BULK_SHIFT).await?;
    Ok(())
}

/// The id of the one release plan on the page (its card's test id without the prefix).
async fn plan_on_page(browser: &Browser) -> Result<String> {
    let card = browser
        .wait_for_css(&format!(
            "[data-testid^=\"{}\"]",
            plan_ids::PLAN_CARD_PREFIX
        ))
        .await?;
    let test_id = card.attr("data-testid").await?.unwrap_or_default();
    match test_id.strip_prefix(plan_ids::PLAN_CARD_PREFIX) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => fail(format!("a plan card with test id {test_id:?}")),
    }
}

async fn sign_in(browser: &Browser, token: &str, user: &str) -> Result<()> {
    let field = browser.wait_for(ids::SIGN_IN_TOKEN).await?;
    if field.attr("type").await?.as_deref() != Some("password") {
        return fail("the token field is not a password field");
    }
    field.send_keys(token).await?;
    browser.click(ids::SIGN_IN_SUBMIT).await?;
    browser
        .wait_for_text(ids::WHOAMI, user, |t| t.contains(user))
        .await?;
    // The token is in no storage the page's scripts can read, nor in the URL.
    let exposed = browser
        .client
        .execute(
            "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) \
             + location.href + document.cookie;",
            vec![],
        )
        .await?;
    if exposed.to_string().contains(token) {
        return fail("the token is readable from the page (storage, URL or a script cookie)");
    }
    Ok(())
}

async fn viewer_then_operator(browser: &Browser, demo: &Demo) -> Result<()> {
    let viewer = demo.context_token(demo.context(User::Viewer)).await?;
    let operator = demo.context_token(demo.context(User::Operator)).await?;

    // A plan the operator started through the API, waiting for a person's approval before its
    // first step, so it moves nothing.
    let plan = format!(
        r#"{{"targets":[{{"namespace":"{}","name":"recommendation"}}],"steps":[5,100],"hold_seconds":60,"approval_before":[0]}}"#,
        demo.namespace
    );
    let created = demo
        .http_status(
            "POST",
            "/api/v1/plans",
            &[
                "x-requested-by: switchyard".into(),
                format!("authorization: Bearer {operator}"),
            ],
            Some(&plan),
        )
        .await?;
    if created != 201 {
        return fail(format!(
            "the operator's plan was answered {created}, not 201"
        ));
    }

    browser.client.goto(&demo.url).await?;
    sign_in(browser, &viewer, "viewer").await?;
    browser
        .wait_for(&card::virtual_service(&demo.namespace, "review"))
        .await?;
    // The viewer sees the plan, and may not steer it: a patch on the plan, which the cluster
    // refuses them.
    let plan_id = plan_on_page(browser).await?;
    for action in ["promote", "pause", "abort"] {
        let id = plan_ids::plan_action(action, &plan_id);
        let title = poll(&format!("{id} disabled with a reason"), WAIT, || async {
            let title = browser.attr_of(&id, "title").await?.unwrap_or_default();
            let disabled = !browser.is_enabled(&id).await?;
            Ok((disabled && title.starts_with("read-only: ")).then_some(title))
        })
        .await?;
        if !title.contains("releaseplans") && !title.contains("RBAC") {
            return fail(format!(
                "{id} says {title:?}, not why the plan is read-only"
            ));
        }
    }
    browser
        .wait_for_text(
            &plan_ids::plan_readonly_reason(&plan_id),
            "the plan's read-only reason",
            |t| t.starts_with("read-only: ") && t.contains("releaseplans"),
        )
        .await?;
    look(
        browser,
        "rollout-token-viewer-plan",
        &plan_ids::plan_card(&plan_id),
    )
    .await?;
    browser
        .wait_for_text(&ids::readonly_reason("review"), "a reason", |t| {
            t.starts_with("read-only: ") && t.len() > "read-only: ".len()
        })
        .await?;
    for id in [
        card::weight_range("review", 1, "old"),
        card::weight_number("review", 1, "old"),
        card::preset("review", 1, 0, 100),
        card::apply("review", 1),
        ids::bulk_target("review"),
        ids::ROLLBACK.to_owned(),
    ] {
        if browser.is_enabled(&id).await? {
            return fail(format!("{id} is enabled for the viewer"));
        }
    }
    look(browser, "rollout-token-viewer-actions", ids::BULK_SHIFT).await?;
    look(
        browser,
        "rollout-token-viewer-card",
        &card::virtual_service(&demo.namespace, "review"),
    )
    .await?;

    // A direct write with the viewer's credentials is refused by the cluster's RBAC.
    let hosts = demo
        .kubectl(&[
            "get",
            "virtualservice",
            "review",
            "-o",
            "jsonpath={.spec.http[1].route[*].destination.host}",
        ])
        .await?;
    let host = hosts.split_whitespace().next().unwrap_or("review");
    let body = format!(
        r#"{{"weights":{{"old":0,"new":100}},"expected":[{{"host":"{host}","subset":"old","weight":100}},{{"host":"{host}","subset":"new","weight":0}}]}}"#
    );
    let path = format!(
        "/api/v1/namespaces/{}/virtualservices/review/routes/1/weights",
        demo.namespace
    );
    let path = path.as_str();
    let with_header = demo
        .http_status(
            "PUT",
            path,
            &[
                "x-requested-by: switchyard".into(),
                format!("authorization: Bearer {viewer}"),
            ],
            Some(&body),
        )
        .await?;
    let with_cookie = demo
        .http_status(
            "PUT",
            path,
            &[
                "x-requested-by: switchyard".into(),
                format!("cookie: switchyard_token={viewer}"),
            ],
            Some(&body),
        )
        .await?;
    // A token in a cookie is no credential (sessions hold ids, not tokens): 401, not 403.
    if (with_header, with_cookie) != (403, 401) {
        return fail(format!(
            "a viewer's direct write answered {with_header} (bearer) and {with_cookie} \
             (raw token as a cookie), not 403 and 401"
        ));
    }
    wait_kubectl(demo, "review", "100 0").await?;

    // Sign out (the page starts over) and sign in as the operator.
    browser.click(ids::SIGN_OUT).await?;
    sign_in(browser, &operator, "operator").await?;
    browser
        .wait_for(&card::virtual_service(&demo.namespace, "review"))
        .await?;
    poll("the operator's controls to be enabled", WAIT, || async {
        let enabled = browser
            .is_enabled(&card::weight_range("review", 1, "old"))
            .await?
            && !browser.exists(&ids::readonly_reason("review")).await?;
        Ok(enabled.then_some(()))
    })
    .await?;
    // The operator may steer the plan: they abort it from the page.
    let abort = plan_ids::plan_action("abort", &plan_id);
    poll("the operator's abort to be enabled", WAIT, || async {
        Ok(browser.is_enabled(&abort).await?.then_some(()))
    })
    .await?;
    browser.click(&abort).await?;
    browser
        .wait_for_text(&plan_ids::plan_phase(&plan_id), "aborted", |t| {
            t == "aborted"
        })
        .await?;
    wait_ticked(browser, &SERVICES, true).await?;
    bulk_shift_to_0_100(browser, OLD_NEW).await?;
    for service in SERVICES {
        wait_kubectl(demo, service, "0 100").await?;
    }
    wait_history(
        browser,
        demo,
        &[
            "operator",
            "bulk shift",
            "{ns}/{service} route 1",
            "old 100 / new 0 → old 0 / new 100",
        ],
    )
    .await?;

    // Signed out elsewhere (another tab, another replica): the cookie the browser holds carries
    // only a session id, and once the session ends the page goes back to the sign-in form.
    // The cookie's path is /api, so WebDriver shows it on an API page only; then back.
    browser
        .client
        .goto(&format!("{}/api/v1/whoami", demo.url.trim_end_matches('/')))
        .await?;
    let cookies = browser.client.get_all_cookies().await?;
    let Some(session) = cookies.iter().find(|c| c.name() == "switchyard_session") else {
        return fail("no session cookie after sign-in");
    };
    browser.client.goto(&demo.url).await?;
    browser
        .wait_for_text(ids::WHOAMI, "operator", |t| t.contains("operator"))
        .await?;
    browser
        .wait_for(&card::virtual_service(&demo.namespace, "review"))
        .await?;
    if session.value().contains(&operator) || !session.http_only().unwrap_or(false) {
        return fail("the session cookie holds the token or is readable by scripts");
    }
    let cookie = format!("cookie: switchyard_session={}", session.value());
    let signed_out = demo
        .http_status(
            "DELETE",
            "/api/v1/session",
            &["x-requested-by: switchyard".into(), cookie],
            None,
        )
        .await?;
    if signed_out != 204 {
        return fail(format!("signing out elsewhere answered {signed_out}"));
    }
    browser.wait_for(ids::SIGN_IN_TOKEN).await?;
    look(browser, "rollout-token-session-ended", ids::SIGN_IN_TOKEN).await?;
    Ok(())
}
