//! One release plan, live: its phase and current step, the time left in the hold, each gate's
//! value against its threshold as it accrues (or as last evaluated), the new version's requested
//! against observed share per target (a VirtualService's new subset, an HTTPRoute's new backend,
//! each target with its kind), the control buttons, and the timeline of its evidence.

use super::{
    gate_rows, hold_text, phase_text, plan_controls::PlanControls, step_text, store::PlansStore,
    test_ids, verdict_text,
};
use crate::state::{
    access::use_access, graph::GraphStore, routes::use_routes, settings::use_settings,
};
use leptos::prelude::*;
use switchyard_protocol::backends::old_new;
use switchyard_protocol::RouteKind;

fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

#[component]
pub fn PlanCard(store: PlansStore, id: String) -> impl IntoView {
    let routes = use_routes();
    let settings = use_settings();
    let plan = {
        let id = id.clone();
        Memo::new(move |_| {
            store
                .plans
                .with(|ps| ps.iter().find(|p| p.id == id).cloned())
        })
    };
    // The hold's countdown ticks every second.
    let clock = RwSignal::new(now());
    let _ = set_interval_with_handle(move || clock.set(now()), std::time::Duration::from_secs(1));
    let phase = Signal::derive(move || plan.with(|p| p.as_ref().map(|p| p.phase)));
    let access = use_access();
    // Steering a plan is a patch on the plan: the cluster's answer for the plan decides.
    let read_only = Signal::derive(move || {
        let access = access?;
        plan.with(|p| {
            let p = p.as_ref()?;
            access
                .plan_permission(&p.namespace, &p.id)
                .reason()
                .map(str::to_owned)
        })
    });
    let records = {
        let id = id.clone();
        Memo::new(move |_| {
            store.records.with(|rs| {
                rs.iter()
                    .filter(|r| r.plan == id)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    // Requested (the plan's weight) against observed: the graph's share of the new subset or
    // backend (over the window in view), the server's figure until a graph is in.
    let graph = use_context::<GraphStore>();
    let targets = move || {
        let Some(plan) = plan.get() else {
            return Vec::new();
        };
        let names = settings.old_new();
        plan.targets
            .iter()
            .map(|t| {
                let observed = names.as_ref().and_then(|(subsets, backends)| {
                    routes
                        .entries()
                        .into_iter()
                        .find(|e| {
                            e.key.kind == t.kind
                                && e.key.namespace == t.namespace
                                && e.key.name == t.name
                        })
                        .and_then(|e| {
                            e.routes.with(|vs| {
                                let found = old_new(t.kind, vs, subsets, backends)?;
                                let from_graph = graph.and_then(|g| {
                                    g.graph.with(|g| {
                                        g.as_ref().map(|g| {
                                            g.observed_share_of(
                                                t.kind,
                                                &t.namespace,
                                                &t.name,
                                                found.route.index,
                                                &found.new,
                                            )
                                        })
                                    })
                                });
                                from_graph.unwrap_or_else(|| {
                                    found
                                        .route
                                        .destinations
                                        .iter()
                                        .find(|d| d.key() == found.new)
                                        .and_then(|d| d.observed_share)
                                })
                            })
                        })
                });
                let kind = match t.kind {
                    RouteKind::VirtualService => String::new(),
                    RouteKind::HTTPRoute => "HTTPRoute".to_owned(),
                };
                (
                    test_ids::plan_target_row(&plan.id, t.kind, &t.name),
                    t.name.clone(),
                    kind,
                    plan.weight.map_or("–".to_owned(), |w| format!("{w} %")),
                    observed.map_or("no traffic yet".to_owned(), |o| format!("{o:.1} %")),
                )
            })
            .collect::<Vec<_>>()
    };
    let gates = move || {
        let plan = plan.get()?;
        let (label, evaluation) = match (&plan.accruing, plan.evaluations.last()) {
            (Some(e), _) => ("so far this hold".to_owned(), e.clone()),
            (None, Some(e)) => (
                format!("last evaluation: {}", verdict_text(e.verdict)),
                e.clone(),
            ),
            (None, None) => return None,
        };
        Some((
            label,
            gate_rows(&evaluation, &plan.gates),
            evaluation.window_seconds,
        ))
    };
    let ids = (
        test_ids::plan_card(&id),
        test_ids::plan_phase(&id),
        test_ids::plan_step(&id),
        test_ids::plan_hold(&id),
        test_ids::plan_reason(&id),
        test_ids::plan_targets(&id),
        test_ids::plan_gates(&id),
        test_ids::plan_timeline(&id),
    );
    view! {
        <article class="plan-card" data-testid=ids.0 data-phase=move || phase.get().map(|p| p.as_str()).unwrap_or_default()>
            <header class="plan-card-header">
                <h4>{id.clone()}</h4>
                <span class="plan-phase" data-testid=ids.1>{move || phase.get().map(phase_text).unwrap_or_default()}</span>
            </header>
            <p class="plan-step" data-testid=ids.2>{move || plan.with(|p| p.as_ref().map(step_text).unwrap_or_default())}</p>
            <p class="plan-hold" data-testid=ids.3>{move || plan.with(|p| p.as_ref().map(|p| hold_text(p, clock.get())).unwrap_or_default())}</p>
            <p class="plan-reason" data-testid=ids.4>{move || plan.with(|p| p.as_ref().and_then(|p| p.reason.clone()).unwrap_or_default())}</p>
            <table class="plan-targets" data-testid=ids.5>
                <caption>"New version: requested against observed"</caption>
                <thead><tr><th scope="col">"route"</th><th scope="col">"requested"</th><th scope="col">"observed"</th></tr></thead>
                <tbody>
                    {move || targets().into_iter().map(|(row, name, kind, requested, observed)| view! {
                        <tr data-testid=row>
                            <td>{name}{(!kind.is_empty()).then(|| view! { " " <span class="plan-target-kind">{kind}</span> })}</td>
                            <td>{requested}</td><td>{observed}</td>
                        </tr>
                    }).collect::<Vec<_>>()}
                </tbody>
            </table>
            <div class="plan-gates" data-testid=ids.6>
                {move || gates().map(|(label, rows, window)| view! {
                    <table>
                        <caption>{format!("Gates, {label} ({window:.0} s)")}</caption>
                        <thead><tr><th scope="col">"version"</th><th scope="col">"gate"</th><th scope="col">"value"</th><th scope="col">"threshold"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let state = match r.ok { Some(true) => "met", Some(false) => "not-met", None => "pending" };
                                view! { <tr data-gate=state><td>{r.target}</td><td>{r.gate}</td><td>{r.value}</td><td>{r.threshold}</td></tr> }
                            }).collect::<Vec<_>>()}
                        </tbody>
                    </table>
                })}
            </div>
            <PlanControls store=store id=id.clone() phase=phase read_only=read_only />
            <ol class="plan-timeline" data-testid=ids.7 aria-label="Plan timeline">
                <For each=move || records.get() key=|r| r.id.clone() let:r>
                    <li data-kind=r.kind.clone()>{r.message.clone()}</li>
                </For>
            </ol>
        </article>
    }
}
