//! Graph export: "SVG" and "PNG" buttons download the graph as drawn. The SVG is the page's
//! `<svg>` (at its own size and with all its labels, not the panel's pan and zoom) with the
//! page's stylesheet inside it (so the file looks the same standalone, in the
//! current theme); the PNG is that SVG drawn onto a canvas at twice its size on the card colour.

use super::test_ids;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

const SVG_NS: &str = "http://www.w3.org/2000/svg";
/// File names of the downloads.
pub const SVG_FILE: &str = "switchyard-graph.svg";
pub const PNG_FILE: &str = "switchyard-graph.png";

fn js_error(value: JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "the browser refused".to_owned())
}

/// Every rule of the page's stylesheets, as text.
fn page_css() -> String {
    let mut css = String::new();
    let sheets = document().style_sheets();
    for i in 0..sheets.length() {
        let Some(sheet) = sheets
            .item(i)
            .and_then(|s| s.dyn_into::<web_sys::CssStyleSheet>().ok())
        else {
            continue;
        };
        let Ok(rules) = sheet.css_rules() else {
            continue;
        };
        for j in 0..rules.length() {
            if let Some(rule) = rules.item(j) {
                css.push_str(&rule.css_text());
                css.push('\n');
            }
        }
    }
    css
}

/// The theme in effect: the toggle's choice, else the system's.
fn theme() -> &'static str {
    let chosen = document()
        .document_element()
        .and_then(|root| root.get_attribute("data-theme"));
    match chosen.as_deref() {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => {
            let dark = window()
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches());
            if dark {
                "dark"
            } else {
                "light"
            }
        }
    }
}

/// The graph as a standalone SVG document, and its width and height.
fn svg_document() -> Result<(String, f64, f64), String> {
    let svg = document()
        .query_selector(&format!("[data-testid=\"{}\"]", test_ids::GRAPH))
        .map_err(js_error)?
        .ok_or("there is no graph to export yet")?;
    let size = |name: &str| {
        svg.get_attribute(name)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (width, height) = (size("width"), size("height"));
    let copy: web_sys::Element = svg
        .clone_node_with_deep(true)
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "the graph is not an element".to_owned())?;
    copy.set_attribute("data-theme", theme())
        .map_err(js_error)?;
    // The whole drawing with all its text, whatever the panel's zoom shows at the moment.
    copy.set_attribute("class", "graph-svg lod-full")
        .map_err(js_error)?;
    copy.set_attribute(
        "style",
        &format!(
            "width: {width}px; height: {height}px; max-width: none; background: var(--color-card)"
        ),
    )
    .map_err(js_error)?;
    let style = document()
        .create_element_ns(Some(SVG_NS), "style")
        .map_err(js_error)?;
    style.set_text_content(Some(&page_css()));
    copy.prepend_with_node_1(&style).map_err(js_error)?;
    let text = web_sys::XmlSerializer::new()
        .map_err(js_error)?
        .serialize_to_string(&copy)
        .map_err(js_error)?;
    Ok((text, width, height))
}

fn download(href: &str, file: &str) -> Result<(), String> {
    let anchor: web_sys::HtmlAnchorElement = document()
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "no link element".to_owned())?;
    anchor.set_href(href);
    anchor.set_download(file);
    anchor.click();
    Ok(())
}

fn svg_url(text: &str) -> Result<String, String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/svg+xml");
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js_error)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)
}

fn export_svg() -> Result<(), String> {
    let (text, _, _) = svg_document()?;
    let url = svg_url(&text)?;
    download(&url, SVG_FILE)?;
    revoke_later(url);
    Ok(())
}

fn revoke_later(url: String) {
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(10_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
}

async fn export_png() -> Result<(), String> {
    const SCALE: f64 = 2.0;
    let (text, width, height) = svg_document()?;
    // A data: URL, not a blob: one: the page's Content-Security-Policy allows images from
    // 'self' and data: only.
    let url = format!(
        "data:image/svg+xml;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&text))
    );
    let image = web_sys::HtmlImageElement::new().map_err(js_error)?;
    image.set_src(&url);
    wasm_bindgen_futures::JsFuture::from(image.decode())
        .await
        .map_err(|e| format!("the browser could not draw the graph: {}", js_error(e)))?;
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "no canvas element".to_owned())?;
    canvas.set_width((width * SCALE).ceil() as u32);
    canvas.set_height((height * SCALE).ceil() as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js_error)?
        .ok_or("no 2d canvas")?
        .dyn_into()
        .map_err(|_| "no 2d canvas".to_owned())?;
    let background = document()
        .document_element()
        .and_then(|root| window().get_computed_style(&root).ok().flatten())
        .and_then(|style| style.get_property_value("--color-card").ok())
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "#ffffff".to_owned());
    context.set_fill_style_str(&background);
    context.fill_rect(0.0, 0.0, width * SCALE, height * SCALE);
    context
        .draw_image_with_html_image_element_and_dw_and_dh(
            &image,
            0.0,
            0.0,
            width * SCALE,
            height * SCALE,
        )
        .map_err(js_error)?;
    let png = canvas
        .to_data_url_with_type("image/png")
        .map_err(js_error)?;
    download(&png, PNG_FILE)
}

#[component]
pub fn GraphExport() -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let svg = move |_| error.set(export_svg().err());
    let png = move |_| {
        leptos::task::spawn_local(async move { error.set(export_png().await.err()) });
    };
    view! {
        <span class="graph-export" role="group" aria-label="export the graph">
            <button type="button" class="secondary-button" data-testid=test_ids::EXPORT_SVG on:click=svg>
                "Export SVG"
            </button>
            <button type="button" class="secondary-button" data-testid=test_ids::EXPORT_PNG on:click=png>
                "Export PNG"
            </button>
            {move || error.get().map(|e| view! { <span class="page-error" role="alert">{format!("Export failed: {e}")}</span> })}
        </span>
    }
}
