//! A route with a single destination (e.g. a header match that pins testers to `new`): nothing to
//! split, so it is listed in words for context, e.g. "header x-group = test → new (100%)".

use super::test_ids;
use crate::state::route_draft::read_only_sentence;
use leptos::prelude::*;
use switchyard_protocol::HttpRoute;

#[component]
pub fn ReadOnlyRoute(name: String, route: Memo<HttpRoute>) -> impl IntoView {
    let index = route.with_untracked(|r| r.index);
    view! {
        <li class="read-only-route" data-testid=test_ids::route(&name, index)>
            <span class="read-only-route-index">{format!("route {index}")}</span>
            <span class="read-only-route-text">{move || route.with(read_only_sentence)}</span>
        </li>
    }
}
