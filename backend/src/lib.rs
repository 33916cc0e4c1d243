//! Switchyard's server: shifts live traffic between service versions by editing Istio
//! VirtualService weights, serves the browser app and a JSON+SSE API, and carries the simulated
//! cluster used by `switchyard demo` and the tests.

pub mod sim;
pub mod ui;
