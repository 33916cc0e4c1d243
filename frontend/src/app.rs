//! The root component: provides the routes store and the connection state, starts the live
//! event stream, and lays out the page.

use crate::{
    api::events, components::connection_banner::ConnectionBanner, pages::routes_page::RoutesPage,
    state::routes::provide_routes,
};
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let store = provide_routes();
    let connection = events::provide_connection();
    events::start(store, connection);
    view! {
        <header class="app-header">
            <h1 class="app-title">"Switchyard"</h1>
            <p class="app-tagline">"Shift live traffic between versions by editing VirtualService route weights."</p>
        </header>
        <ConnectionBanner />
        <main class="app-main">
            <RoutesPage />
        </main>
    }
}
