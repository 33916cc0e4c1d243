//! "Copy link": the current view's URL (mode, selection, namespace, kiosk) to the clipboard, with
//! a visible confirmation next to the button (a live region, so screen readers hear it too).
//! Where the asynchronous Clipboard API is refused (no permission, an unfocused document) the
//! text goes through a hidden field and `execCommand("copy")`; if that fails too, the page says
//! so and shows the link to copy by hand.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The button's test id.
pub const COPY_LINK: &str = "copy-link";
/// The confirmation ("Link copied") or the failure with the link.
pub const COPY_LINK_STATUS: &str = "copy-link-status";

fn copy_with_field(text: &str) -> bool {
    let document = document();
    let Ok(field) = document.create_element("textarea") else {
        return false;
    };
    let Ok(field) = field.dyn_into::<web_sys::HtmlTextAreaElement>() else {
        return false;
    };
    field.set_value(text);
    let _ = field.set_attribute("style", "position: fixed; top: -100px; opacity: 0");
    let Some(body) = document.body() else {
        return false;
    };
    if body.append_child(&field).is_err() {
        return false;
    }
    field.select();
    let copied = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    field.remove();
    copied
}

#[component]
pub fn CopyLink() -> impl IntoView {
    let status = RwSignal::new(None::<String>);
    let copy = move |_| {
        let url = window().location().href().unwrap_or_default();
        let clipboard = window().navigator().clipboard();
        leptos::task::spawn_local(async move {
            let promise = clipboard.write_text(&url);
            let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
                || copy_with_field(&url);
            status.set(Some(if copied {
                "Link copied".to_owned()
            } else {
                format!("Could not copy; the link is {url}")
            }));
        });
    };
    view! {
        <span class="copy-link">
            <button type="button" class="secondary-button" data-testid=COPY_LINK on:click=copy>
                "Copy link"
            </button>
            <span class="copy-link-status" role="status" data-testid=COPY_LINK_STATUS>
                {move || status.get()}
            </span>
        </span>
    }
}
