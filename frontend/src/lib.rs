//! Switchyard browser app (placeholder until the UI lands).
