//! The names of the server-sent events of `GET /api/v1/events`: the SSE `event:` field the
//! server writes and the page listens for. Each name is the [`ServerEvent`]'s serde tag, so the
//! data (`{"type": name, "data": …}`) and the event name always agree.

use crate::ServerEvent;

pub const ROUTES: &str = "routes";
pub const VIRTUAL_SERVICE_CHANGED: &str = "virtual_service_changed";
pub const VIRTUAL_SERVICE_DELETED: &str = "virtual_service_deleted";
pub const HTTP_ROUTE_CHANGED: &str = "http_route_changed";
pub const HTTP_ROUTE_DELETED: &str = "http_route_deleted";
pub const GRAPH: &str = "graph";
pub const GRAPH_DELTA: &str = "graph_delta";
pub const CHANGE: &str = "change";
pub const PLAN: &str = "plan";
pub const PLAN_DELETED: &str = "plan_deleted";
pub const PLAN_EVENT: &str = "plan_event";

/// Every event name, for a client that listens for each.
pub const ALL: [&str; 11] = [
    ROUTES,
    VIRTUAL_SERVICE_CHANGED,
    VIRTUAL_SERVICE_DELETED,
    HTTP_ROUTE_CHANGED,
    HTTP_ROUTE_DELETED,
    GRAPH,
    GRAPH_DELTA,
    CHANGE,
    PLAN,
    PLAN_DELETED,
    PLAN_EVENT,
];

/// The SSE event name of `event`.
pub fn name(event: &ServerEvent) -> &'static str {
    match event {
        ServerEvent::Routes(_) => ROUTES,
        ServerEvent::VirtualServiceChanged(_) => VIRTUAL_SERVICE_CHANGED,
        ServerEvent::VirtualServiceDeleted { .. } => VIRTUAL_SERVICE_DELETED,
        ServerEvent::HttpRouteChanged(_) => HTTP_ROUTE_CHANGED,
        ServerEvent::HttpRouteDeleted { .. } => HTTP_ROUTE_DELETED,
        ServerEvent::Graph(_) => GRAPH,
        ServerEvent::GraphDelta(_) => GRAPH_DELTA,
        ServerEvent::Change(_) => CHANGE,
        ServerEvent::Plan(_) => PLAN,
        ServerEvent::PlanDeleted { .. } => PLAN_DELETED,
        ServerEvent::PlanEvent(_) => PLAN_EVENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ChangeRecord, Graph, GraphDelta, HttpRouteRoutes, RoutesResponse, VirtualServiceRoutes,
    };

    fn one_of_each() -> Vec<ServerEvent> {
        let vs = VirtualServiceRoutes {
            namespace: "hands-on".into(),
            name: "review".into(),
            resource_version: "1".into(),
            hosts: vec![],
            weight_managers: Vec::new(),
            routes: vec![],
        };
        vec![
            ServerEvent::Routes(RoutesResponse::default()),
            ServerEvent::VirtualServiceChanged(vs),
            ServerEvent::VirtualServiceDeleted {
                namespace: "hands-on".into(),
                name: "review".into(),
            },
            ServerEvent::HttpRouteChanged(HttpRouteRoutes {
                namespace: "hands-on-gateway".into(),
                name: "review".into(),
                resource_version: "1".into(),
                hosts: vec![],
                weight_managers: Vec::new(),
                routes: vec![],
            }),
            ServerEvent::HttpRouteDeleted {
                namespace: "hands-on-gateway".into(),
                name: "review".into(),
            },
            ServerEvent::Graph(Graph::default()),
            ServerEvent::GraphDelta(Box::new(
                GraphDelta::between(&Graph::default(), &Graph::default()).unwrap(),
            )),
            ServerEvent::Change(ChangeRecord {
                id: "c1".into(),
                time: "2026-11-27T10:00:00Z".into(),
                user: "jane".into(),
                source: "console".into(),
                namespace: "hands-on".into(),
                virtual_service: "review".into(),
                kind: Default::default(),
                route_index: 1,
                before: Default::default(),
                after: Default::default(),
                resource_version: "2".into(),
                operation: None,
            }),
            ServerEvent::Plan(Box::new(crate::Plan {
                id: "plan-1".into(),
                namespace: "hands-on".into(),
                phase: crate::plans::PlanPhase::Running,
                step: 0,
                targets: vec![],
                steps: vec![100],
                hold_seconds: 1,
                gates: Default::default(),
                on_abort: Default::default(),
                approval_before: vec![],
                evaluations: vec![],
                weight: None,
                reason: None,
                step_started_at: None,
                next_evaluation_at: None,
                accruing: None,
                created_by: "jane".into(),
                created_at: "2026-11-27T10:00:00Z".into(),
                pending: vec![],
                rolled_back: false,
                resource_version: "1".into(),
            })),
            ServerEvent::PlanDeleted {
                namespace: "hands-on".into(),
                id: "plan-1".into(),
            },
            ServerEvent::PlanEvent(Box::new(crate::PlanRecord {
                id: "e".into(),
                time: "2026-11-27T10:00:00Z".into(),
                namespace: "hands-on".into(),
                plan: "plan-1".into(),
                kind: "step".into(),
                step: 0,
                user: "switchyard".into(),
                message: "step 1 (100 %) went out".into(),
                evaluation: None,
            })),
        ]
    }

    #[test]
    fn each_name_is_the_events_tag_and_all_lists_each_once() {
        let events = one_of_each();
        for event in &events {
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json["type"], name(event), "{event:?}");
        }
        let names: Vec<&str> = events.iter().map(name).collect();
        assert_eq!(names, ALL);
    }
}
