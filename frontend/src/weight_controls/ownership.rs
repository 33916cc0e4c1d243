//! Sentences for a VirtualService whose routes another controller manages (the server's
//! `weight_managers`: argo-rollouts, flagger, argocd… owning `spec.http`): the card's warning and
//! the question Apply asks before writing. Pure, unit-tested natively.

/// "argo-rollouts", "argo-rollouts and flagger", "a, b and c".
fn names(managers: &[String]) -> String {
    match managers {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The card's warning, `None` when no controller manages the routes.
pub fn warning(managers: &[String]) -> Option<String> {
    if managers.is_empty() {
        return None;
    }
    let them = if managers.len() == 1 { "it" } else { "they" };
    Some(format!(
        "weights managed by {}: a change made here may be undone when {them} next reconcile{}",
        names(managers),
        if managers.len() == 1 { "s" } else { "" }
    ))
}

/// What Apply asks first: "review is managed by argo-rollouts, which may undo this change.
/// Apply anyway?"
pub fn question(name: &str, managers: &[String]) -> String {
    format!(
        "{name} is managed by {}, which may undo this change. Apply anyway?",
        names(managers)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn sentences_name_the_controllers() {
        assert_eq!(warning(&[]), None);
        assert_eq!(
            warning(&owned(&["argo-rollouts"])).as_deref(),
            Some("weights managed by argo-rollouts: a change made here may be undone when it next reconciles")
        );
        assert_eq!(
            warning(&owned(&["argo-rollouts", "flagger"])).as_deref(),
            Some("weights managed by argo-rollouts and flagger: a change made here may be undone when they next reconcile")
        );
        assert_eq!(
            question("review", &owned(&["a", "b", "c"])),
            "review is managed by a, b and c, which may undo this change. Apply anyway?"
        );
    }
}
