//! `meta.k8s.io/v1` Table responses, which `kubectl get` asks for to print columns: the Istio CRDs'
//! additionalPrinterColumns for VirtualService and DestinationRule, and the usual columns of the
//! built-in types.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::resources::ResourceDef;

struct Column {
    name: &'static str,
    kind: &'static str,
    format: &'static str,
    description: &'static str,
    priority: u8,
    cell: fn(&Value, DateTime<Utc>) -> Value,
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

fn name_column() -> Column {
    Column {
        name: "Name",
        kind: "string",
        format: "name",
        description: NAME_DESCRIPTION,
        priority: 0,
        cell: |o, _| json!(str_at(o, "/metadata/name")),
    }
}

/// The Age column. Built-in types print it as a string (their printers format the age
/// themselves); the Istio CRDs declare it as a `date` printer column, each with its own
/// description (istio.io/api `kubernetes/customresourcedefinitions.gen.yaml`).
fn age_column(def: &ResourceDef) -> Column {
    let (kind, description) = match (def.custom, def.plural) {
        (true, "destinationrules") => ("date", DESTINATION_RULE_AGE_DESCRIPTION),
        // The Gateway API CRDs' printer columns carry no description.
        (true, "httproutes") => ("date", ""),
        (true, _) => ("date", VIRTUAL_SERVICE_AGE_DESCRIPTION),
        (false, _) => ("string", AGE_DESCRIPTION),
    };
    Column {
        name: "Age",
        kind,
        format: "",
        description,
        priority: 0,
        cell: |o, now| json!(age(o, now)),
    }
}

const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const DESTINATION_RULE_AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. For more information, see [Kubernetes API Conventions](https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#metadata)";
const VIRTUAL_SERVICE_AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata";

/// A plain string column (`type: string`, no format).
fn text(
    name: &'static str,
    description: &'static str,
    priority: u8,
    cell: fn(&Value, DateTime<Utc>) -> Value,
) -> Column {
    Column {
        name,
        kind: "string",
        format: "",
        description,
        priority,
        cell,
    }
}

/// `<none>` for an absent or empty value, as kubectl's printers write it.
fn or_none(text: &str) -> Value {
    json!(if text.is_empty() { "<none>" } else { text })
}

/// `k=v,k2=v2` of a string map, keys sorted (labels.FormatLabels); empty when absent.
fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// A LabelSelector as metav1.FormatLabelSelector prints it: matchLabels as `k=v`, then
/// matchExpressions as `key in (a,b)`, `key notin (a)`, `key`, `!key`.
fn format_label_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let mut parts = vec![format_labels(selector.get("matchLabels"))];
    parts.retain(|p| !p.is_empty());
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expr
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match expr.get("operator").and_then(Value::as_str) {
            Some("In") => format!("{key} in ({})", values.join(",")),
            Some("NotIn") => format!("{key} notin ({})", values.join(",")),
            Some("DoesNotExist") => format!("!{key}"),
            _ => key.to_owned(),
        });
    }
    parts.join(",")
}

/// The `name` of each entry of the array at `pointer`, or another string field of it.
fn each(o: &Value, pointer: &str, field: &str) -> String {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get(field).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(",")
}

/// An event's time column: the age of `field`, of `fallback` when it is unset, `<unknown>` when
/// both are.
fn event_age(o: &Value, now: DateTime<Utc>, field: &str, fallback: &str) -> String {
    let at = |f: &str| {
        o.get(f)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    };
    match at(field).or_else(|| at(fallback)) {
        Some(t) => human_duration(now.signed_duration_since(t.with_timezone(&Utc))),
        None => "<unknown>".to_owned(),
    }
}

const SERVICE_TYPE_DESCRIPTION: &str = "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types";
const CLUSTER_IP_DESCRIPTION: &str = "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
const EXTERNAL_IP_DESCRIPTION: &str = "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.";
const SERVICE_SELECTOR_DESCRIPTION: &str = "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/";
const NODE_DESCRIPTION: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
const NOMINATED_NODE_DESCRIPTION: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
const READINESS_GATES_DESCRIPTION: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
const SUBOBJECT_DESCRIPTION: &str = "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.";

/// Events print their name last, as a wide column.
fn event_columns() -> Vec<Column> {
    vec![
        text("Last Seen", "The time at which the most recent occurrence of this event was recorded.", 0, |o, now| {
            json!(event_age(o, now, "lastTimestamp", "firstTimestamp"))
        }),
        text("Type", "Type of this event (Normal, Warning), new types could be added in the future", 0, |o, _| {
            json!(str_at(o, "/type"))
        }),
        text("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", 0, |o, _| {
            json!(str_at(o, "/reason"))
        }),
        text("Object", "The object that this event is about.", 0, |o, _| {
            let kind = str_at(o, "/involvedObject/kind").to_lowercase();
            match str_at(o, "/involvedObject/name") {
                "" => json!(kind),
                name => json!(format!("{kind}/{name}")),
            }
        }),
        text("Subobject", SUBOBJECT_DESCRIPTION, 1, |o, _| {
            json!(str_at(o, "/involvedObject/fieldPath"))
        }),
        text("Source", "The component reporting this event. Should be a short machine understandable string.", 1, |o, _| {
            let first = |a: &str, b: &str| {
                let a = str_at(o, a);
                if a.is_empty() { str_at(o, b).to_owned() } else { a.to_owned() }
            };
            let component = first("/source/component", "/reportingComponent");
            let instance = first("/source/host", "/reportingInstance");
            json!(match (component.is_empty(), instance.is_empty()) {
                (true, _) => String::new(),
                (false, true) => component,
                (false, false) => format!("{component}, {instance}"),
            })
        }),
        text("Message", "A human-readable description of the status of this operation.", 0, |o, _| {
            json!(str_at(o, "/message").trim())
        }),
        text("First Seen", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1, |o, now| {
            json!(event_age(o, now, "firstTimestamp", "eventTime"))
        }),
        text("Count", "The number of times this event has occurred.", 1, |o, _| {
            json!(o.get("count").and_then(Value::as_i64).filter(|c| *c > 0).unwrap_or(1))
        }),
        Column {
            priority: 1,
            ..name_column()
        },
    ]
}

fn columns(def: &ResourceDef) -> Vec<Column> {
    if (def.group, def.plural) == ("", "events") {
        return event_columns();
    }
    let mut cols = vec![name_column()];
    let mut wide = Vec::new();
    match (def.group, def.plural) {
        ("networking.istio.io", "virtualservices") => {
            cols.push(text(
                "Gateways",
                "The names of gateways and sidecars that should apply these routes",
                0,
                |o, _| json_path_cell(o.pointer("/spec/gateways")),
            ));
            cols.push(text(
                "Hosts",
                "The destination hosts to which traffic is being sent",
                0,
                |o, _| json_path_cell(o.pointer("/spec/hosts")),
            ));
        }
        ("gateway.networking.k8s.io", "httproutes") => {
            cols.push(text("Hostnames", "", 0, |o, _| {
                json_path_cell(o.pointer("/spec/hostnames"))
            }))
        }
        ("networking.istio.io", "destinationrules") => cols.push(text(
            "Host",
            "The name of a service from the service registry",
            0,
            |o, _| json_path_cell(o.pointer("/spec/host")),
        )),
        ("", "pods") => {
            cols.push(text(
                "Ready",
                "The aggregate readiness state of this pod for accepting traffic.",
                0,
                |o, _| {
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let ready = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .map_or(0, |s| {
                            s.iter()
                                .filter(|c| c.get("ready") == Some(&Value::Bool(true)))
                                .count()
                        });
                    json!(format!("{ready}/{total}"))
                },
            ));
            cols.push(text(
                "Status",
                "The aggregate status of the containers in this pod.",
                0,
                |o, _| {
                    json!(o
                        .pointer("/status/phase")
                        .and_then(Value::as_str)
                        .unwrap_or("Pending"))
                },
            ));
            cols.push(text("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0, |o, _| {
                let restarts: i64 = o
                    .pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .map_or(0, |s| {
                        s.iter()
                            .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                            .sum()
                    });
                json!(restarts.to_string())
            }));
            wide.push(text("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1, |o, _| {
                or_none(str_at(o, "/status/podIP"))
            }));
            wide.push(text("Node", NODE_DESCRIPTION, 1, |o, _| {
                or_none(str_at(o, "/spec/nodeName"))
            }));
            wide.push(text(
                "Nominated Node",
                NOMINATED_NODE_DESCRIPTION,
                1,
                |o, _| or_none(str_at(o, "/status/nominatedNodeName")),
            ));
            wide.push(text(
                "Readiness Gates",
                READINESS_GATES_DESCRIPTION,
                1,
                |o, _| or_none(&each(o, "/spec/readinessGates", "conditionType")),
            ));
        }
        ("", "services") => {
            cols.push(text("Type", SERVICE_TYPE_DESCRIPTION, 0, |o, _| {
                json!(o
                    .pointer("/spec/type")
                    .and_then(Value::as_str)
                    .unwrap_or("ClusterIP"))
            }));
            cols.push(text("Cluster-IP", CLUSTER_IP_DESCRIPTION, 0, |o, _| {
                or_none(str_at(o, "/spec/clusterIP"))
            }));
            cols.push(text("External-IP", EXTERNAL_IP_DESCRIPTION, 0, |_, _| {
                json!("<none>")
            }));
            cols.push(text("Port(s)", "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies", 0, |o, _| {
                let ports: Vec<String> = o
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .map(|ports| {
                        ports
                            .iter()
                            .map(|p| {
                                format!(
                                    "{}/{}",
                                    p.get("port").and_then(Value::as_i64).unwrap_or(0),
                                    p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                or_none(&ports.join(","))
            }));
            wide.push(text("Selector", SERVICE_SELECTOR_DESCRIPTION, 1, |o, _| {
                or_none(&format_labels(o.pointer("/spec/selector")))
            }));
        }
        ("apps", "deployments") => {
            cols.push(text(
                "Ready",
                "Number of the pod with ready state",
                0,
                |o, _| {
                    let want = o
                        .pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    let ready = o
                        .pointer("/status/readyReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    json!(format!("{ready}/{want}"))
                },
            ));
            cols.push(text("Up-to-date", "Total number of non-terminating pods targeted by this deployment that have the desired template spec.", 0, |o, _| {
                json!(o.pointer("/status/updatedReplicas").and_then(Value::as_i64).unwrap_or(0))
            }));
            cols.push(text("Available", "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.", 0, |o, _| {
                json!(o.pointer("/status/availableReplicas").and_then(Value::as_i64).unwrap_or(0))
            }));
            wide.push(text(
                "Containers",
                "Names of each container in the template.",
                1,
                |o, _| json!(each(o, "/spec/template/spec/containers", "name")),
            ));
            wide.push(text(
                "Images",
                "Images referenced by each container in the template.",
                1,
                |o, _| json!(each(o, "/spec/template/spec/containers", "image")),
            ));
            wide.push(text("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.", 1, |o, _| {
                or_none(&format_label_selector(o.pointer("/spec/selector")))
            }));
        }
        ("", "namespaces") => {
            cols.push(text("Status", "The status of the namespace", 0, |o, _| {
                json!(o
                    .pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("Active"))
            }))
        }
        _ => {}
    }
    cols.push(age_column(def));
    cols.extend(wide);
    cols
}

fn str_at<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A CRD printer column cell: what kubectl's JSONPath printer shows (strings bare, arrays and maps
/// as JSON), or null when the path is absent.
fn json_path_cell(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(other) => json!(other.to_string()),
    }
}

fn age(o: &Value, now: DateTime<Utc>) -> String {
    match o
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    {
        Some(created) => human_duration(now.signed_duration_since(created.with_timezone(&Utc))),
        None => "<unknown>".to_owned(),
    }
}

/// apimachinery's `duration.HumanDuration`: `45s`, `3m20s`, `12m`, `5h10m`, `3d4h`, `400d`, `2y`.
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The row's `object`: by default (`includeObject=Metadata`) the object's metadata as a
/// PartialObjectMetadata; `Object` embeds it whole; `None` leaves it out.
fn row_object(object: &Value, include: &str) -> Option<Value> {
    match include {
        "None" => None,
        "Object" => Some(object.clone()),
        _ => Some(partial_object_metadata(object)),
    }
}

pub fn partial_object_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A Table of `objects` (already in the requested version).
pub fn render(
    def: &ResourceDef,
    objects: &[Value],
    resource_version: &str,
    include_object: &str,
) -> Value {
    let now = Utc::now();
    let cols = columns(def);
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|c| (c.cell)(o, now)).collect();
            let mut row = json!({"cells": cells});
            if let (Some(obj), Some(map)) = (row_object(o, include_object), row.as_object_mut()) {
                map.insert("object".into(), obj);
            }
            row
        })
        .collect();
    let definitions: Vec<Value> = cols
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format,
                   "description": c.description, "priority": c.priority})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::{DEPLOYMENTS, VIRTUAL_SERVICES};
    use chrono::Duration;

    #[test]
    fn human_durations() {
        let cases = [
            (-5, "<invalid>"),
            (0, "0s"),
            (119, "119s"),
            (150, "2m30s"),
            (180, "3m"),
            (60 * 45, "45m"),
            (3600 * 5 + 60 * 10, "5h10m"),
            (3600 * 30, "30h"),
            (3600 * 24 * 3 + 3600 * 4, "3d4h"),
            (3600 * 24 * 400, "400d"),
            (3600 * 24 * 365 * 3, "3y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(Duration::seconds(secs)), want, "{secs}");
        }
    }

    #[test]
    fn virtual_service_table_has_istio_columns() {
        let vs = json!({"metadata": {"name": "review", "namespace": "hands-on",
                                     "creationTimestamp": "2020-01-01T00:00:00Z"},
                        "spec": {"hosts": ["review"]}});
        let table = render(&VIRTUAL_SERVICES, &[vs], "9", "Metadata");
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Name", "Gateways", "Hosts", "Age"]);
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[0], "review");
        assert_eq!(cells[1], Value::Null);
        assert_eq!(cells[2], "[\"review\"]");
        assert!(cells[3].as_str().unwrap().contains('y'));
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(
            table["rows"][0]["object"]["metadata"]["namespace"],
            "hands-on"
        );
        assert_eq!(table["metadata"]["resourceVersion"], "9");
    }

    #[test]
    fn event_and_service_rows_as_kube_apiserver_prints_them() {
        use crate::api::resources::{EVENTS, SERVICES};
        let event = json!({"metadata": {"name": "e2"},
            "involvedObject": {"kind": "VirtualService", "name": "review", "fieldPath": "spec.http[1]"},
            "reason": "X", "message": " m ", "type": "Normal",
            "source": {"component": "sy", "host": "h"}, "count": 3,
            "firstTimestamp": "2020-01-01T00:00:00Z"});
        let table = render(&EVENTS, &[event], "1", "None");
        let cells = &table["rows"][0]["cells"];
        // Last Seen falls back to First Seen when lastTimestamp is unset.
        assert_eq!(cells[0], cells[7]);
        assert_eq!(
            cells.as_array().unwrap()[1..7],
            [
                json!("Normal"),
                json!("X"),
                json!("virtualservice/review"),
                json!("spec.http[1]"),
                json!("sy, h"),
                json!("m")
            ]
        );
        assert_eq!(
            (cells[8].clone(), cells[9].clone()),
            (json!(3), json!("e2"))
        );
        let svc = json!({"metadata": {"name": "s"}, "spec": {"selector": {"z": "1", "a": "2"}, "ports": [{"port": 80}]}});
        let table = render(&SERVICES, &[svc], "1", "None");
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[2], "<none>");
        assert_eq!(cells[4], "80/TCP");
        assert_eq!(cells[6], "a=2,z=1");
        assert_eq!(table["columnDefinitions"][5]["type"], "string");
        assert_eq!(table["columnDefinitions"][6]["priority"], 1);
    }

    #[test]
    fn deployment_ready_column() {
        let d = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        let table = render(&DEPLOYMENTS, &[d], "1", "None");
        assert_eq!(table["rows"][0]["cells"][1], "1/2");
        assert!(table["rows"][0].get("object").is_none());
    }
}
