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

fn age_column() -> Column {
    Column {
        name: "Age",
        kind: "date",
        format: "",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
        priority: 0,
        cell: |o, now| json!(age(o, now)),
    }
}

fn columns(def: &ResourceDef) -> Vec<Column> {
    let mut cols = vec![name_column()];
    match (def.group, def.plural) {
        ("networking.istio.io", "virtualservices") => {
            cols.push(Column {
                name: "Gateways",
                kind: "string",
                format: "",
                description: "The names of gateways and sidecars that should apply these routes",
                priority: 0,
                cell: |o, _| json_path_cell(o.pointer("/spec/gateways")),
            });
            cols.push(Column {
                name: "Hosts",
                kind: "string",
                format: "",
                description: "The destination hosts to which traffic is being sent",
                priority: 0,
                cell: |o, _| json_path_cell(o.pointer("/spec/hosts")),
            });
        }
        ("networking.istio.io", "destinationrules") => cols.push(Column {
            name: "Host",
            kind: "string",
            format: "",
            description: "The name of a service from the service registry",
            priority: 0,
            cell: |o, _| json_path_cell(o.pointer("/spec/host")),
        }),
        ("", "pods") => {
            cols.push(Column {
                name: "Ready",
                kind: "string",
                format: "",
                description: "The aggregate readiness state of this pod for accepting traffic.",
                priority: 0,
                cell: |o, _| {
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
            });
            cols.push(Column {
                name: "Status",
                kind: "string",
                format: "",
                description: "The aggregate status of the containers in this pod.",
                priority: 0,
                cell: |o, _| {
                    json!(o
                        .pointer("/status/phase")
                        .and_then(Value::as_str)
                        .unwrap_or("Pending"))
                },
            });
            cols.push(Column {
                name: "Restarts",
                kind: "string",
                format: "",
                description: "The number of times the containers in this pod have been restarted.",
                priority: 0,
                cell: |o, _| {
                    let restarts: i64 = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .map_or(0, |s| {
                            s.iter()
                                .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                                .sum()
                        });
                    json!(restarts.to_string())
                },
            });
        }
        ("", "services") => {
            cols.push(Column {
                name: "Type",
                kind: "string",
                format: "",
                description: "type determines how the Service is exposed.",
                priority: 0,
                cell: |o, _| {
                    json!(o
                        .pointer("/spec/type")
                        .and_then(Value::as_str)
                        .unwrap_or("ClusterIP"))
                },
            });
            cols.push(Column {
                name: "Cluster-IP",
                kind: "string",
                format: "",
                description: "clusterIP is the IP address of the service.",
                priority: 0,
                cell: |o, _| {
                    json!(o
                        .pointer("/spec/clusterIP")
                        .and_then(Value::as_str)
                        .unwrap_or("<none>"))
                },
            });
            cols.push(Column {
                name: "External-IP",
                kind: "string",
                format: "",
                description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                priority: 0,
                cell: |_, _| json!("<none>"),
            });
            cols.push(Column {
                name: "Port(s)",
                kind: "string",
                format: "",
                description: "The list of ports that are exposed by this service.",
                priority: 0,
                cell: |o, _| {
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
                    json!(if ports.is_empty() {
                        "<none>".to_owned()
                    } else {
                        ports.join(",")
                    })
                },
            });
        }
        ("apps", "deployments") => {
            cols.push(Column {
                name: "Ready",
                kind: "string",
                format: "",
                description: "Number of the pod with ready state",
                priority: 0,
                cell: |o, _| {
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
            });
            cols.push(Column {
                name: "Up-to-date",
                kind: "string",
                format: "",
                description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                priority: 0,
                cell: |o, _| json!(o.pointer("/status/updatedReplicas").and_then(Value::as_i64).unwrap_or(0)),
            });
            cols.push(Column {
                name: "Available",
                kind: "string",
                format: "",
                description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                priority: 0,
                cell: |o, _| json!(o.pointer("/status/availableReplicas").and_then(Value::as_i64).unwrap_or(0)),
            });
        }
        ("", "namespaces") => cols.push(Column {
            name: "Status",
            kind: "string",
            format: "",
            description: "The status of the namespace",
            priority: 0,
            cell: |o, _| {
                json!(o
                    .pointer("/status/phase")
                    .and_then(Value::as_str)
                    .unwrap_or("Active"))
            },
        }),
        _ => {}
    }
    cols.push(age_column());
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
    fn deployment_ready_column() {
        let d = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        let table = render(&DEPLOYMENTS, &[d], "1", "None");
        assert_eq!(table["rows"][0]["cells"][1], "1/2");
        assert!(table["rows"][0].get("object").is_none());
    }
}
