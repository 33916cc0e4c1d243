//! Istio's rules the console relies on, as pure functions over Istio objects (no I/O, no clock):
//! how a host in a VirtualService or DestinationRule names a service, and what a DestinationRule
//! defines. Both `cluster/` (the subset check before a write) and `graph/` (requested vs observed
//! splits) read Istio objects through here, so they agree. The rules and their sources are in
//! `docs/console-rules.md`.

pub mod destination_rule;
pub mod host;

pub use destination_rule::DestinationRule;
