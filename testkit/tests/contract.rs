//! Differential contract suite: every API-server behaviour the console, kube-rs or kubectl relies
//! on, sent as the same request to the simulated cluster and to a real kube-apiserver, comparing
//! status code, `reason`, message shape and the fields that matter. A case fails when the two
//! differ, except the accepted divergences of `docs/sim-divergences.md`, which are tested to the
//! extent documented there (each such test names its row).
//!
//! Cases by family: `patch` (JSON, merge, strategic merge, server-side apply), `writes` (PUT,
//! create, get), `watch` (resume, bookmarks, 410), `list` (selectors, pagination), `auth`
//! (access reviews, whoami, impersonation), `events`, `tables` (Table output, `kubectl get`),
//! `discovery` (legacy, aggregated, OpenAPI v3, `kubectl explain` and `apply`), `schema`
//! (what the real Istio CRD schema rejects or prunes), `gateway` (HTTPRoutes: the CRD's defaults,
//! its bounds on weights, the console's guarded patch of a rule), `kube_rs` (the same through
//! kube-rs, as the console's client and reflectors see it), `plans` (the Lease of the plan
//! driver's election and the ReleasePlan resource).

#[path = "contract/support.rs"]
mod support;

#[path = "contract/patch.rs"]
mod patch;

#[path = "contract/writes.rs"]
mod writes;

#[path = "contract/watch.rs"]
mod watch;

#[path = "contract/list.rs"]
mod list;

#[path = "contract/auth.rs"]
mod auth;

#[path = "contract/events.rs"]
mod events;

#[path = "contract/tables.rs"]
mod tables;

#[path = "contract/discovery.rs"]
mod discovery;

#[path = "contract/schema.rs"]
mod schema;

#[path = "contract/gateway.rs"]
mod gateway;

#[path = "contract/kube_rs.rs"]
mod kube_rs;

#[path = "contract/plans.rs"]
mod plans;
