//! The rollout actions for a team — bulk shift with a preview, one-click rollback, the history
//! timeline — and the session around them: who you are, signing in with a token (token mode),
//! and read-only controls where the cluster says you may not patch.

pub mod bulk_shift;
pub mod confirm_dialog;
pub mod health_banner;
pub mod history_timeline;
pub mod rollback_button;
pub mod rollout_actions;
pub mod session;
pub mod session_gate;
pub mod shift_preview;
pub mod shift_results;
pub mod sign_in;
pub mod test_ids;
pub mod toolbar;
pub mod who_am_i;
