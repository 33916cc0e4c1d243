//! The root component: provides the routes store, the session and access answers, the
//! console's settings (old and new subset names), the history and the connection state; starts
//! the reads the first drawing needs (graph, routes, history) at once, in parallel with whoami;
//! starts the live event stream once the session allows it (after
//! sign-in in token mode); and lays out the page. `?kiosk` is the wall display: `data-kiosk` on
//! `<html>` (large type, graph fitted, `style/layout.css`) and none of the controls below the
//! graph; the theme toggle's remembered choice is applied before anything is drawn.

use crate::{
    api::{events, preload},
    components::{
        connection_banner::ConnectionBanner,
        stale_banner::StaleBanner,
        theme_toggle::{self, ThemeToggle},
    },
    pages::routes_page::RoutesPage,
    plans::{plans_panel::PlansPanel, store::provide_plans},
    rollout::{
        health_banner::HealthBanner, history_timeline::HistoryTimeline,
        rollback_button::provide_rollback_request, rollout_actions::RolloutActions, session,
        session_gate::SessionGate, toolbar::Toolbar, who_am_i::WhoAmI,
    },
    state::{
        access::provide_access, history::provide_history, routes::provide_routes,
        settings::provide_settings,
    },
};
use crate::{
    graph_view::graph_view::GraphView,
    state::{graph::provide_graph, view_url::provide_view},
};
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let store = provide_routes();
    let access = provide_access();
    let settings = provide_settings();
    provide_history();
    provide_graph(settings);
    theme_toggle::restore();
    let (kiosk, window) = provide_view().0.with_untracked(|v| (v.kiosk, v.window));
    // The release plans panel is not on the wall display.
    let plans = provide_plans(!kiosk);
    if kiosk {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-kiosk", "");
        }
    }
    provide_rollback_request();
    // The graph, routes and history are asked for now, alongside whoami, not after it: the
    // console mounts once whoami answers and finds them there. The history has three readers
    // (the graph's change marks, the timeline, the plans' timelines), one in kiosk mode. The
    // graph is the one over the window the URL names.
    preload::start(if kiosk { 1 } else { 3 }, window);
    let connection = events::provide_connection();
    events::provide_freshness();
    session::start(access, store, plans, move || {
        events::start(store, connection)
    });
    view! {
        <header class="app-header">
            <div class="app-header-text">
                <h1 class="app-title">"Switchyard"</h1>
                <p class="app-tagline">"Shift live traffic between versions by editing the weights of VirtualServices and HTTPRoutes."</p>
            </div>
            <div class="app-header-tools">
                {(!kiosk).then(|| view! { <ThemeToggle /> })}
                <WhoAmI />
            </div>
        </header>
        <ConnectionBanner />
        <StaleBanner />
        <main class="app-main">
            <SessionGate>
                {(!kiosk).then(|| view! { <Toolbar /> })}
                <HealthBanner />
                <div class="app-workspace">
                    <GraphView />
                    {(!kiosk).then(|| view! {
                        // The cards first: one service's weights are the everyday action;
                        // rollback is also in the toolbar at any scroll position.
                        <div class="app-controls">
                            <RoutesPage />
                            <RolloutActions />
                            <PlansPanel store=plans />
                        </div>
                    })}
                </div>
                {(!kiosk).then(|| view! { <HistoryTimeline /> })}
            </SessionGate>
        </main>
    }
}
