//! The simulated Istio mesh: routing by VirtualServices and DestinationRules, load, metrics.
