//! The `data-testid` values of the rollout actions, session and history, in one place so the
//! browser tests and the components cannot drift apart. `tests/README.md` lists them for people.

/// The bulk shift panel.
pub const BULK_SHIFT: &str = "bulk-shift";
/// The checkbox choosing one VirtualService: `bulk-target-{name}`.
pub fn bulk_target(name: &str) -> String {
    format!("bulk-target-{name}")
}
/// Beside a disabled checkbox, why it is read-only: `bulk-target-reason-{name}`.
pub fn bulk_target_reason(name: &str) -> String {
    format!("bulk-target-reason-{name}")
}
/// A preset split: `bulk-preset-{old}-{new}`.
pub fn bulk_preset(old: u32, new: u32) -> String {
    format!("bulk-preset-{old}-{new}")
}
/// The number field for the old version's weight (new gets the rest of 100).
pub const BULK_OLD_WEIGHT: &str = "bulk-old-weight";
/// Why the typed old weight is not a weight (empty while it is one).
pub const BULK_WEIGHT_ERROR: &str = "bulk-weight-error";
/// The preview list.
pub const BULK_PREVIEW: &str = "bulk-preview";
/// One preview row: `bulk-preview-{name}`.
pub fn bulk_preview(name: &str) -> String {
    format!("bulk-preview-{name}")
}
/// The Apply button of the bulk shift.
pub const BULK_APPLY: &str = "bulk-apply";
/// The outcome for one VirtualService: `bulk-result-{name}`.
pub fn bulk_result(name: &str) -> String {
    format!("bulk-result-{name}")
}

/// The rollback button, its dialog's buttons, and the outcome.
pub const ROLLBACK: &str = "rollback";
pub const ROLLBACK_CONFIRM: &str = "rollback-confirm";
pub const ROLLBACK_CANCEL: &str = "rollback-cancel";
pub const ROLLBACK_RESULT: &str = "rollback-result";

/// The history timeline, and one entry: `history-entry-{index}`, `index` counting from 0 for
/// the oldest change, so an entry keeps its id as newer ones arrive.
pub const HISTORY: &str = "history";
pub fn history_entry(index: usize) -> String {
    format!("{HISTORY_ENTRY_PREFIX}{index}")
}
/// What every history entry's id starts with (for `[data-testid^="history-entry-"]`).
pub const HISTORY_ENTRY_PREFIX: &str = "history-entry-";

/// One operation of the history (its heading and its changes): `history-group-{index}`, `index`
/// that of its oldest change.
pub fn history_group(index: usize) -> String {
    format!("{HISTORY_GROUP_PREFIX}{index}")
}
pub const HISTORY_GROUP_PREFIX: &str = "history-group-";
/// The history's filters (`<select>`, "" for all) and export links.
pub const HISTORY_FILTER_SERVICE: &str = "history-filter-service";
pub const HISTORY_FILTER_USER: &str = "history-filter-user";
pub const HISTORY_EXPORT_JSON: &str = "history-export-json";
pub const HISTORY_EXPORT_CSV: &str = "history-export-csv";

/// The sticky toolbar, its rollback button and its links to the release plans and the history.
pub const TOOLBAR: &str = "toolbar";
pub const TOOLBAR_ROLLBACK: &str = "toolbar-rollback";
pub const TOOLBAR_PLANS: &str = "toolbar-plans";
pub const TOOLBAR_HISTORY: &str = "toolbar-history";

/// Who the page thinks you are.
pub const WHOAMI: &str = "whoami";
/// Token mode: the password-type token field, its submit button, and signing out.
pub const SIGN_IN_TOKEN: &str = "sign-in-token";
pub const SIGN_IN_SUBMIT: &str = "sign-in-submit";
pub const SIGN_OUT: &str = "sign-out";

/// Why a VirtualService's controls are read-only: `readonly-reason-{name}`.
pub fn readonly_reason(name: &str) -> String {
    format!("readonly-reason-{name}")
}

/// The banner above the graph when a new version fails more than the old one.
pub const HEALTH_BANNER: &str = "health-banner";
/// One finding in it: `health-alarm-{service}`.
pub fn health_alarm(service: &str) -> String {
    format!("health-alarm-{service}")
}
/// The banner's rollback button (opens the rollback confirmation).
pub const HEALTH_ROLLBACK: &str = "health-rollback";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_documented_shapes() {
        assert_eq!(bulk_target("review"), "bulk-target-review");
        assert_eq!(bulk_target_reason("review"), "bulk-target-reason-review");
        assert_eq!(bulk_preset(0, 100), "bulk-preset-0-100");
        assert_eq!(bulk_preview("review"), "bulk-preview-review");
        assert_eq!(bulk_result("review"), "bulk-result-review");
        assert_eq!(history_entry(3), "history-entry-3");
        assert_eq!(readonly_reason("review"), "readonly-reason-review");
    }
}
