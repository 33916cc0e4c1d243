//! The simulated cluster: a Kubernetes-API-compatible server over an in-memory store, a simulated
//! Istio mesh that routes requests by the live VirtualServices, a load generator, and Istio-shaped
//! metrics. Used by `switchyard demo`, `switchyard sim` and the tests; it knows nothing of the
//! console. `generate` makes a mesh of any size for the demo.

pub mod api;
pub mod generate;
pub mod mesh;
pub mod simulation;
pub mod store;

pub use simulation::{Simulation, Traffic, DEMO_NAMESPACE};
