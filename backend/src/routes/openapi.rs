//! `GET /api/v1/openapi.json`: the console's HTTP API as an OpenAPI 3.1 document, assembled here
//! once (utoipa) from the wire types' schemas (`switchyard-protocol`, feature `openapi`) and the
//! path descriptions below. Every `/api/v1` route the router serves is described here, with its
//! request body, every status it can answer and the `ApiError` body of each failure; a unit test
//! reads the routers' sources and fails when a route and this document disagree.
//!
//! The handlers live in their own modules; the descriptions are kept here on stand-in functions
//! (utoipa's `#[utoipa::path]` needs a function to hang on), so the handlers stay unannotated.
//! What every operation shares is added by [`Common`]: the 421 of the host guard on every
//! operation, and on every write the CSRF header (`x-requested-by`) and the statuses of the write
//! guards and the strict body decoders (400, 403, 413, 415, 422), and on every operation the
//! cluster's own answers kept as they are (502, and any other 4XX such as 431).

use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use switchyard_protocol as p;
use utoipa::openapi::path::{HttpMethod, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Ref, Required, ResponseBuilder};
use utoipa::OpenApi;

use super::CSRF_HEADER;
use crate::state::AppState;

pub const PATH: &str = "/api/v1/openapi.json";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(openapi_json))
}

/// The document as JSON, built on first use.
static JSON: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_json()
        .unwrap_or_else(|e| format!(r#"{{"error":"the OpenAPI document did not serialize: {e}"}}"#))
});

async fn openapi_json() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        JSON.as_str(),
    )
}

/// The OpenAPI document of every `/api/v1` endpoint.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The body of an action without parameters (rollback, signing out): nothing, or `{}` (a schema
/// only: `super::no_parameters` reads these bodies).
pub struct NoParameters;

impl utoipa::PartialSchema for NoParameters {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Object)
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
            .description(Some("Takes no parameters: nothing, or `{}`."))
            .into()
    }
}

impl utoipa::ToSchema for NoParameters {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard console API",
        description = "Shift live traffic between service versions by editing Istio VirtualService \
                       and Gateway API HTTPRoute weights. Every failure answers an `ApiError` body. Writes (every method but \
                       GET) need the `x-requested-by` header (any value) and a loopback Host or one \
                       the console was started with (`--allowed-host`); request bodies are strict: \
                       unknown fields and repeated keys are refused with 422."
    ),
    paths(
        list_routes,
        set_weights,
        set_http_route_weights,
        events,
        graph,
        shift,
        rollback,
        history,
        access,
        whoami,
        sign_in,
        sign_out,
        settings,
        openapi_document,
        list_plans,
        create_plan,
        get_plan,
        pause_plan,
        resume_plan,
        promote_plan,
        abort_plan,
    ),
    components(schemas(p::ServerEvent, NoParameters)),
    modifiers(&Common),
    tags(
        (name = "routes", description = "VirtualServices and HTTPRoutes and their weighted routes"),
        (name = "rollout", description = "Bulk shifts, rollback, history and access"),
        (name = "live", description = "The traffic graph and the event stream"),
        (name = "session", description = "Who the caller is; signing in and out in token mode"),
        (name = "meta", description = "How this console was started; this document"),
        (name = "plans", description = "Release plans: several routes moved together in metric-gated steps"),
    )
)]
struct ApiDoc;

/// What every operation shares (see the module comment), added to each after the derive.
struct Common;

/// (status, description) of the failures every write can answer before its handler runs or
/// while it decodes the body.
const WRITE_FAILURES: [(&str, &str); 5] = [
    (
        "400",
        "The request is malformed: not JSON, not a JSON body, a bad path parameter.",
    ),
    (
        "403",
        "The write is refused: no x-requested-by header, a cross-origin Origin, or a caller \
         this console does not accept writes from.",
    ),
    (
        "413",
        "The request body is larger than the console accepts (--max-body, 2 MiB unless set).",
    ),
    (
        "415",
        "The body does not say it is JSON (Content-Type: application/json).",
    ),
    (
        "422",
        "The body is well-formed JSON but breaks a rule: a wrong type, a missing, unknown or \
         repeated field, weights that are not whole numbers 0..=100 adding up to 100.",
    ),
];

impl utoipa::Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = || {
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ApiError")))
                .build()
        };
        let response = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", error())
                .build()
        };
        for (_, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                optional_body(operation);
                let responses = &mut operation.responses.responses;
                // What the cluster answered, kept: a failing API server, and any other client
                // error it gave (e.g. 431 for headers too large) with its message.
                responses.entry("502".into()).or_insert_with(|| {
                    response("The Kubernetes API server answered with a failure (5xx).").into()
                });
                responses.entry("4XX".into()).or_insert_with(|| {
                    response(
                        "Another refusal by the Kubernetes API server (e.g. 431), with its \
                         status and message (code rejected_by_cluster).",
                    )
                    .into()
                });
                responses.entry("421".into()).or_insert_with(|| {
                    response(
                        "The request's Host is not one this console answers to (loopback \
                         names, or those given with --allowed-host): the DNS-rebinding guard.",
                    )
                    .into()
                });
                if method == HttpMethod::Get {
                    continue;
                }
                for (status, description) in WRITE_FAILURES {
                    responses
                        .entry(status.into())
                        .or_insert_with(|| response(description).into());
                }
                let csrf: Parameter = ParameterBuilder::new()
                    .name(CSRF_HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(
                        "Any value: its presence proves a same-origin caller (browsers send no \
                         custom header cross-origin without a preflight this server never grants).",
                    ))
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::String)
                            .min_length(Some(1))
                            .pattern(Some("^[!-~]+$")),
                    ))
                    .build();
                operation.parameters.get_or_insert_with(Vec::new).push(csrf);
            }
        }
    }
}

/// utoipa writes an optional body (`Option<T>`) as a required body that may be JSON `null`; these
/// actions mean "no body, or `{}`" (`null` is refused), so the body is `T` and not required.
fn optional_body(operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let Some(body) = operation.request_body.as_mut() else {
        return;
    };
    for content in body.content.values_mut() {
        let Some(RefOr::T(Schema::OneOf(one))) = &content.schema else {
            continue;
        };
        let refs: Vec<_> = one
            .items
            .iter()
            .filter(|item| matches!(item, RefOr::Ref(_)))
            .cloned()
            .collect();
        if let [only] = refs.as_slice() {
            if one.items.len() == 2 {
                content.schema = Some(only.clone());
                body.required = Some(Required::False);
            }
        }
    }
}

// The stand-ins below carry the path descriptions only; the handlers are in the modules named.
// 401 and 503 are the caller's: in token mode a request without a session is 401, and where the
// console asks the cluster who the caller is, a cluster that cannot answer is 503.

/// Every VirtualService in scope with its HTTP routes, and every HTTPRoute with its rules, their
/// weights and observed shares.
#[utoipa::path(get, path = "/api/v1/routes", tag = "routes",
    responses(
        (status = 200, description = "The VirtualServices and HTTPRoutes the caller may see.", body = p::RoutesResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn list_routes() {}

/// Sets the weights of one route, if its destinations are still as the client saw them.
#[utoipa::path(put, path = "/api/v1/namespaces/{namespace}/virtualservices/{name}/routes/{index}/weights",
    tag = "routes",
    params(
        ("namespace" = String, Path, description = "The VirtualService's namespace.", example = "hands-on"),
        ("name" = String, Path, description = "The VirtualService's name.", example = "review"),
        ("index" = u64, Path, description = "The route's position in `spec.http`.", example = 1),
    ),
    request_body(content = p::SetWeightsRequest, example = json!({
        "weights": {"old": 80, "new": 20},
        "expected": [
            {"host": "review", "subset": "old", "weight": 100},
            {"host": "review", "subset": "new", "weight": 0}
        ]
    })),
    responses(
        (status = 200, description = "The weights are set (or already were: `changed` is false).", body = p::SetWeightsResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The console or the cluster refuses this caller's write.", body = p::ApiError),
        (status = 404, description = "No such VirtualService or route in scope.", body = p::ApiError),
        (status = 409, description = "The route changed since the client saw it; `current` is the route now.", body = p::ApiError),
        (status = 422, description = "The weights break the policy or do not fit the route; `current` may carry the route.", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached or failed.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn set_weights() {}

/// Sets the weights of one HTTPRoute rule (its backendRefs, keyed by Service), if they are still
/// as the client saw them. The console writes whole numbers adding up to 100.
#[utoipa::path(put, path = "/api/v1/namespaces/{namespace}/httproutes/{name}/routes/{index}/weights",
    tag = "routes",
    params(
        ("namespace" = String, Path, description = "The HTTPRoute's namespace.", example = "hands-on-gateway"),
        ("name" = String, Path, description = "The HTTPRoute's name.", example = "review"),
        ("index" = u64, Path, description = "The rule's position in `spec.rules`.", example = 1),
    ),
    request_body(content = p::SetWeightsRequest, example = json!({
        "weights": {"review-v1": 80, "review-v2": 20},
        "expected": [
            {"host": "review-v1", "weight": 1},
            {"host": "review-v2", "weight": 3}
        ]
    })),
    responses(
        (status = 200, description = "The weights are set (or already were: `changed` is false).", body = p::SetHttpRouteWeightsResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The console or the cluster refuses this caller's write.", body = p::ApiError),
        (status = 404, description = "No such HTTPRoute or rule in scope.", body = p::ApiError),
        (status = 409, description = "The rule changed since the client saw it; `current_http_route` is the HTTPRoute now.", body = p::ApiError),
        (status = 422, description = "The weights break the policy, do not fit the rule, or send traffic to a Service that does not exist.", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached or failed.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn set_http_route_weights() {}

/// Server-sent events: `routes` and `graph` on connect, then every change as it happens. Each
/// message's `event:` is the `type` of its `data`, a `ServerEvent` in JSON.
#[utoipa::path(get, path = "/api/v1/events", tag = "live",
    params(p::WindowQuery),
    responses(
        (status = 200, description = "An endless `text/event-stream`; each `data:` line is a ServerEvent.",
            content_type = "text/event-stream", body = String),
        (status = 400, description = "The window is not one the console offers, or the query is malformed.", body = p::ApiError),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn events() {}

/// The latest traffic graph (versioned apps, edges with rates, requested against observed
/// splits), restricted to the namespaces the caller may see.
#[utoipa::path(get, path = "/api/v1/graph", tag = "live",
    params(p::WindowQuery),
    responses(
        (status = 200, description = "The latest graph snapshot over the window asked for.", body = p::Graph),
        (status = 400, description = "The window is not one the console offers, or the query is malformed.", body = p::ApiError),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn graph() {}

/// One split for the VirtualServices and HTTPRoutes named (at least one); a VirtualService's
/// old/new route is the last weighted route whose destinations are exactly the subsets named in
/// the weights, an HTTPRoute's (`"kind":"HTTPRoute"`) the last rule split between its old and
/// new backend Services.
#[utoipa::path(post, path = "/api/v1/shift", tag = "rollout",
    request_body(content = p::ShiftRequest, example = json!({
        "targets": [
            {"namespace": "hands-on", "name": "review"},
            {"namespace": "hands-on-gateway", "name": "review", "kind": "HTTPRoute"}
        ],
        "weights": {"old": 50, "new": 50}
    })),
    responses(
        (status = 200, description = "What happened to each target; failures carry the status the single-route API would answer.", body = p::ShiftResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 422, description = "Empty targets, or weights that break the policy.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn shift() {}

/// Every old/new route in scope, of VirtualServices and HTTPRoutes, back to 100% old. Takes no
/// parameters.
#[utoipa::path(post, path = "/api/v1/rollback", tag = "rollout",
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 200, description = "What happened to each VirtualService and HTTPRoute in scope.", body = p::ShiftResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 422, description = "The body has parameters (a rollback takes none).", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn rollback() {}

/// Weight changes, oldest first, made here or elsewhere (kubectl, scripts).
#[utoipa::path(get, path = "/api/v1/history", tag = "rollout",
    responses(
        (status = 200, description = "The recorded changes in the namespaces the caller may see.", body = p::HistoryResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn history() {}

/// Whether the caller may patch each VirtualService and HTTPRoute in scope, as the cluster says.
#[utoipa::path(get, path = "/api/v1/access", tag = "rollout",
    responses(
        (status = 200, description = "One answer per VirtualService, per HTTPRoute and per release plan the caller may see.", body = p::AccessResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn access() {}

/// Who the console thinks the caller is and whether it accepts their writes. Never fails: an
/// unknown caller is told why in `reason`.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "session",
    responses(
        (status = 200, description = "The caller as the console sees them.", body = p::WhoAmI),
    ))]
#[allow(dead_code)]
fn whoami() {}

/// Token mode: checks a Kubernetes bearer token with the cluster and starts a session (an
/// HttpOnly, SameSite=Strict cookie).
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = p::SessionRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set.", body = p::WhoAmI),
        (status = 400, description = "This console does not use tokens, or the token cannot be carried in a cookie.", body = p::ApiError),
        (status = 401, description = "The cluster does not accept the token.", body = p::ApiError),
        (status = 422, description = "The token is empty or has spaces or unprintable characters.", body = p::ApiError),
        (status = 503, description = "The cluster could not check the token.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn sign_in() {}

/// Signs out: the session cookie is cleared. Takes no parameters.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 204, description = "Signed out."),
        (status = 422, description = "The body has parameters (signing out takes none).", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn sign_out() {}

/// How this console was started, as far as the page needs to know (the old and new subset
/// names, the rate windows, the old and new backend suffixes of HTTPRoutes). Needs no caller.
#[utoipa::path(get, path = "/api/v1/settings", tag = "meta",
    responses(
        (status = 200, description = "The console's settings.", body = p::Settings),
    ))]
#[allow(dead_code)]
fn settings() {}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object),
    ))]
#[allow(dead_code)]
fn openapi_document() {}

/// Every release plan the caller may see: phase, step, targets, the gate evaluations so far and
/// the gate values of the current window as they accrue.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans",
    responses(
        (status = 200, description = "The plans in the namespaces the caller may see.", body = p::PlansResponse),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 404, description = "This console does not run release plans.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn list_plans() {}

/// Creates a release plan and starts it: its targets move together through its steps, each held
/// `hold_seconds` and judged by its gates (defaults: 99 % success, 500 ms p99). The plan is a
/// ReleasePlan object created with the caller's credentials; the caller must be allowed to patch
/// every target. A target is a VirtualService (`kind` absent or `VirtualService`: its route split
/// between the old and new subsets) or an HTTPRoute (`"kind": "HTTPRoute"`: its rule split
/// between the `{service}-{old suffix}` and `{service}-{new suffix}` backends); one plan may mix
/// both.
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body(content = p::PlanRequest, example = json!({
        "targets": [{"namespace": "hands-on", "name": "review"}],
        "steps": [5, 25, 50, 100],
        "hold_seconds": 60,
        "gates": {"min_success_rate": 99, "max_p99_ms": 500, "min_requests": 50},
        "on_abort": "immediate"
    })),
    responses(
        (status = 201, description = "The plan, started.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The caller may not patch a target, or the cluster refuses to create the plan for them.", body = p::ApiError),
        (status = 404, description = "This console does not run release plans.", body = p::ApiError),
        (status = 422, description = "The plan breaks a rule (steps, hold, gates, targets: each must be a route object in scope with an old/new route).", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn create_plan() {}

/// One release plan.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "The plan's id.", example = "plan-1a2b3c4d")),
    responses(
        (status = 200, description = "The plan.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 404, description = "No such plan the caller may see.", body = p::ApiError),
        (status = 503, description = "The cluster could not say who the caller is.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn get_plan() {}

/// Pauses a running, waiting or approval-awaiting plan. Takes no parameters.
#[utoipa::path(post, path = "/api/v1/plans/{id}/pause", tag = "plans",
    params(("id" = String, Path, description = "The plan's id.", example = "plan-1a2b3c4d")),
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 202, description = "Recorded on the plan; the driving replica carries it out.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The cluster's RBAC refuses the caller (patch on releaseplans), with its reason.", body = p::ApiError),
        (status = 404, description = "No such plan the caller may see.", body = p::ApiError),
        (status = 409, description = "The action does not apply in the plan's phase.", body = p::ApiError),
        (status = 422, description = "The body has parameters (the action takes none).", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn pause_plan() {}

/// Resumes a paused plan: every target back on its current step, whose hold starts again.
/// Takes no parameters.
#[utoipa::path(post, path = "/api/v1/plans/{id}/resume", tag = "plans",
    params(("id" = String, Path, description = "The plan's id.", example = "plan-1a2b3c4d")),
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 202, description = "Recorded on the plan; the driving replica carries it out.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The cluster's RBAC refuses the caller (patch on releaseplans), with its reason.", body = p::ApiError),
        (status = 404, description = "No such plan the caller may see.", body = p::ApiError),
        (status = 409, description = "The action does not apply in the plan's phase.", body = p::ApiError),
        (status = 422, description = "The body has parameters (the action takes none).", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn resume_plan() {}

/// The next step now (the approval of a step that waits for one). Takes no parameters.
#[utoipa::path(post, path = "/api/v1/plans/{id}/promote", tag = "plans",
    params(("id" = String, Path, description = "The plan's id.", example = "plan-1a2b3c4d")),
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 202, description = "Recorded on the plan; the driving replica carries it out.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The cluster's RBAC refuses the caller (patch on releaseplans), with its reason.", body = p::ApiError),
        (status = 404, description = "No such plan the caller may see.", body = p::ApiError),
        (status = 409, description = "The action does not apply in the plan's phase.", body = p::ApiError),
        (status = 422, description = "The body has parameters (the action takes none).", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn promote_plan() {}

/// Aborts a plan: its targets go back to the old version (at once, or stepped, as the plan says).
/// Takes no parameters.
#[utoipa::path(post, path = "/api/v1/plans/{id}/abort", tag = "plans",
    params(("id" = String, Path, description = "The plan's id.", example = "plan-1a2b3c4d")),
    request_body(content = Option<NoParameters>, description = "Nothing, or `{}`."),
    responses(
        (status = 202, description = "Recorded on the plan; the driving replica carries it out.", body = p::Plan),
        (status = 401, description = "Token mode: no session.", body = p::ApiError),
        (status = 403, description = "The cluster's RBAC refuses the caller (patch on releaseplans), with its reason.", body = p::ApiError),
        (status = 404, description = "No such plan the caller may see.", body = p::ApiError),
        (status = 409, description = "The action does not apply in the plan's phase.", body = p::ApiError),
        (status = 422, description = "The body has parameters (the action takes none).", body = p::ApiError),
        (status = 503, description = "The Kubernetes API server could not be reached.", body = p::ApiError),
    ))]
#[allow(dead_code)]
fn abort_plan() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every (METHOD, path) the routers under `src/routes` serve below `/api/v1`, read from their
    /// `route` calls (a path literal or `PATH`, then `get(handler)`, `post(handler).delete(…)`…).
    fn served() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let route = regex::Regex::new(
            r#"\.route\(\s*(?:"(/api/v1/[^"]*)"|PATH)\s*,\s*((?:(?:get|put|post|delete|patch)\([^()]*\)\.?)+)"#,
        )
        .unwrap();
        let method = regex::Regex::new(r"(get|put|post|delete|patch)\(").unwrap();
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for c in route.captures_iter(&text) {
                let path = c.get(1).map_or(PATH, |m| m.as_str());
                for m in method.captures_iter(&c[2]) {
                    out.insert((m[1].to_uppercase(), path.to_owned()));
                }
            }
        }
        out
    }

    fn documented(doc: &utoipa::openapi::OpenApi) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (name, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if op.is_some() {
                    out.insert((name.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_lists_every_route_the_router_serves_and_no_other() {
        let served = served();
        // The reader of the sources found the routes (a changed router style would hide them).
        assert!(
            served.contains(&(
                "PUT".into(),
                "/api/v1/namespaces/{namespace}/virtualservices/{name}/routes/{index}/weights"
                    .into()
            )) && served.contains(&("DELETE".into(), "/api/v1/session".into()))
                && served.contains(&("GET".into(), PATH.into())),
            "{served:?}"
        );
        assert_eq!(documented(&document()), served);
    }

    /// Every `$ref` in `value`.
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_parses_and_every_reference_resolves() {
        let json: serde_json::Value = serde_json::from_str(&JSON).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        let back: utoipa::openapi::OpenApi = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        let mut all = Vec::new();
        refs(&json, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r} is not a schema reference"));
            assert!(
                json["components"]["schemas"].get(name).is_some(),
                "{r} does not resolve"
            );
        }
    }

    #[test]
    fn writes_need_the_csrf_header_and_every_failure_is_an_api_error() {
        let json: serde_json::Value = serde_json::from_str(&JSON).unwrap();
        let mut writes = 0;
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("421"), "{method} {path}");
                for (status, response) in responses {
                    if !status.starts_with('2') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ApiError",
                            "{method} {path} {status}"
                        );
                    }
                }
                let csrf = op["parameters"].as_array().and_then(|ps| {
                    ps.iter()
                        .find(|p| p["name"] == CSRF_HEADER && p["in"] == "header")
                });
                if method == "get" {
                    assert!(csrf.is_none(), "{method} {path}");
                } else {
                    writes += 1;
                    assert_eq!(csrf.map(|p| &p["required"]), Some(&true.into()), "{path}");
                    for status in ["400", "403", "413", "422"] {
                        assert!(responses.contains_key(status), "{method} {path} {status}");
                    }
                }
            }
        }
        assert_eq!(writes, 11);
        // Parameterless actions: no body, or `{}`; JSON `null` is not offered.
        for (path, method) in [
            ("/api/v1/rollback", "post"),
            ("/api/v1/session", "delete"),
            ("/api/v1/plans/{id}/pause", "post"),
            ("/api/v1/plans/{id}/resume", "post"),
            ("/api/v1/plans/{id}/promote", "post"),
            ("/api/v1/plans/{id}/abort", "post"),
        ] {
            let body = &json["paths"][path][method]["requestBody"];
            assert_eq!(body["required"], false, "{method} {path}");
            assert_eq!(
                body["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/NoParameters"
            );
        }
        // Strict bodies say so: unknown fields are not allowed.
        assert_eq!(
            json["components"]["schemas"]["SetWeightsRequest"]["additionalProperties"],
            false
        );
    }
}
