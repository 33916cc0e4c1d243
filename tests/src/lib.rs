//! End-to-end scenarios for Switchyard; the scenarios live in `tests/`.
