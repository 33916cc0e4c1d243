//! A plain modal question with two buttons, on the browser's own `<dialog>`: `showModal()` makes
//! the rest of the page inert, keeps Tab inside, and Escape cancels — keyboard accessible
//! without hand-made focus handling. The confirm button has focus when it opens.

use leptos::{html, prelude::*};

#[component]
pub fn ConfirmDialog(
    /// Open while true; the dialog sets it back to false however it closes.
    open: RwSignal<bool>,
    /// The question, e.g. "Send ALL traffic of 3 services back to old?".
    #[prop(into)]
    question: Signal<String>,
    #[prop(into)] confirm_label: String,
    #[prop(into)] confirm_test_id: String,
    #[prop(into)] cancel_test_id: String,
    on_confirm: Callback<()>,
    /// The question's element id, unique on the page where several dialogs are.
    #[prop(optional, into)]
    question_id: Option<String>,
) -> impl IntoView {
    let question_id = question_id.unwrap_or_else(|| "confirm-dialog-question".to_owned());
    let labelled_by = question_id.clone();
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let Some(element) = dialog.get() else { return };
        if open.get() {
            if !element.open() {
                // Fails only if the element is not connected, in which case nothing shows anyway.
                let _ = element.show_modal();
            }
        } else if element.open() {
            element.close();
        }
    });
    view! {
        <dialog
            class="confirm-dialog"
            node_ref=dialog
            aria-labelledby=labelled_by
            on:close=move |_| open.set(false)
        >
            <p class="confirm-dialog-question" id=question_id>{move || question.get()}</p>
            <div class="confirm-dialog-actions">
                <button
                    type="button"
                    class="danger-button"
                    autofocus
                    data-testid=confirm_test_id
                    on:click=move |_| {
                        open.set(false);
                        on_confirm.run(());
                    }
                >
                    {confirm_label}
                </button>
                <button
                    type="button"
                    class="secondary-button"
                    data-testid=cancel_test_id
                    on:click=move |_| open.set(false)
                >
                    "Cancel"
                </button>
            </div>
        </dialog>
    }
}
