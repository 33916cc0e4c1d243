//! One destination of a weighted route: a labelled slider and a number field that always show
//! the same value, and beside them the share the server says this weight requests and, when it
//! has traffic numbers, the share it observes. What is typed is taken strictly (whole numbers 0
//! to 100, `switchyard_protocol::weights::parse_weight`): anything else stays in the field with
//! the rule beside it, and the panel keeps Apply disabled.

use super::test_ids;
use crate::state::route_draft::format_share;
use leptos::{html, prelude::*};
use switchyard_protocol::weights::parse_weight;

#[component]
pub fn WeightSlider(
    /// The VirtualService's name, for test ids.
    name: String,
    /// The route's position in `spec.http`, for test ids.
    index: usize,
    /// The destination's key: its subset, or its host without one. Shown as the label.
    dest_key: String,
    /// The destination's host, shown small beside the key.
    host: String,
    /// A page-unique stem for element ids, so labels can point at their inputs.
    element_id: String,
    /// The weight shown (the draft's, or the server's when there is no draft).
    #[prop(into)]
    value: Signal<u32>,
    /// Percent of the route's traffic the server's current weights request.
    #[prop(into)]
    requested: Signal<f64>,
    /// Percent observed over the metrics window, when known.
    #[prop(into)]
    observed: Signal<Option<f64>>,
    #[prop(into)] disabled: Signal<bool>,
    /// Called with the new weight whenever either input changes to a valid weight.
    on_change: Callback<u32>,
    /// Called with the reason when the number field stops holding a weight, and with `None`
    /// when it holds one again.
    on_invalid: Callback<Option<String>>,
) -> impl IntoView {
    let range_id = format!("{element_id}-range");
    let number_id = format!("{element_id}-number");
    let shares_id = format!("{element_id}-shares");
    let number_ref = NodeRef::<html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let set_error = move |reason: Option<String>| {
        if error.get_untracked() != reason {
            error.set(reason.clone());
            on_invalid.run(reason);
        }
    };
    let key = StoredValue::new(dest_key.clone());
    let on_input = move |event: leptos::ev::Event| {
        match key.with_value(|key| parse_weight(key, &event_target_value(&event))) {
            Ok(weight) => {
                set_error(None);
                on_change.run(weight);
            }
            // Nothing changes until the field holds a weight; the field says why.
            Err(reason) => set_error(Some(reason.to_string())),
        }
    };
    // A weight set from elsewhere (the other field, a preset, the server) replaces what was typed.
    Effect::new(move |previous: Option<u32>| {
        let now = value.get();
        if previous.is_some_and(|p| p != now) {
            set_error(None);
        }
        now
    });
    let observed_test_id = test_ids::observed(&name, index, &dest_key);
    let error_id = format!("{element_id}-error");
    let error_test_id = test_ids::weight_error(&name, index, &dest_key);

    view! {
        <div class="weight-slider">
            <label class="weight-slider-label" for=range_id.clone()>
                <span class="weight-slider-key">{dest_key.clone()}</span>
                <span class="weight-slider-host">{host}</span>
            </label>
            <input
                type="range"
                class="weight-slider-range"
                id=range_id
                min="0"
                max="100"
                step="1"
                data-testid=test_ids::weight_range(&name, index, &dest_key)
                aria-describedby=shares_id.clone()
                aria-valuetext=move || format!("{}%", value.get())
                prop:value=move || value.get().to_string()
                prop:disabled=move || disabled.get()
                on:input=on_input
            />
            <span class="weight-slider-number-field">
                <label class="visually-hidden" for=number_id.clone()>
                    {format!("{dest_key} weight in percent")}
                </label>
                <input
                    type="number"
                    class="weight-slider-number"
                    id=number_id
                    min="0"
                    max="100"
                    step="1"
                    inputmode="numeric"
                    node_ref=number_ref
                    data-testid=test_ids::weight_number(&name, index, &dest_key)
                    aria-describedby=format!("{shares_id} {error_id}")
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    class:is-invalid=move || error.with(Option::is_some)
                    prop:value=move || value.get().to_string()
                    prop:disabled=move || disabled.get()
                    on:input=on_input
                    on:change=move |_| {
                        // Leaving a valid field shows the weight as used ("080" → 80); an
                        // invalid one keeps what was typed, next to the reason.
                        if error.with_untracked(Option::is_none) {
                            if let Some(input) = number_ref.get() {
                                input.set_value(&value.get_untracked().to_string());
                            }
                        }
                    }
                />
                <span class="weight-slider-unit" aria-hidden="true">"%"</span>
            </span>
            <p class="weight-slider-error" id=error_id role="alert" data-testid=error_test_id>
                {move || error.get().unwrap_or_default()}
            </p>
            <p class="weight-slider-shares" id=shares_id>
                <span
                    class="weight-slider-requested"
                    data-testid=test_ids::requested(&name, index, &dest_key)
                >
                    {move || format!("requested {}", format_share(requested.get()))}
                </span>
                {move || {
                    observed
                        .get()
                        .map(|share| {
                            view! {
                                <span
                                    class="weight-slider-observed"
                                    data-testid=observed_test_id.clone()
                                >
                                    {format!("observed {}", format_share(share))}
                                </span>
                            }
                        })
                }}
            </p>
        </div>
    }
}
