//! Watch streams: newline-delimited `WatchEvent` JSON over a chunked response, started from a
//! snapshot (synthetic ADDED events) or resumed after a resourceVersion, with label/field filtering,
//! bookmarks and the server-side timeout.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::objects::versioned;
use super::resources::ResourceDef;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::table;
use super::Format;
use crate::store::{EventType, Store, StoreError, StoredEvent};

/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(15);
/// Server-side cap on a watch's life when the client sets none (kube-apiserver picks 30–60 min).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// Events buffered per watch before a slow client holds the sender up.
const BUFFER: usize = 64;

pub struct WatchRequest {
    pub def: &'static ResourceDef,
    pub version: String,
    /// `None` watches all namespaces (or a cluster-scoped type).
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// `None` or `"0"`: start with the current state; otherwise resume after it.
    pub resource_version: Option<String>,
    pub timeout: Option<Duration>,
    pub bookmarks: bool,
    /// `sendInitialEvents` (a streaming list): `Some(true)` starts with the current state whatever
    /// the resourceVersion; `Some(false)` without a resourceVersion (or with `"0"`) starts from now
    /// with no initial events; `None` is a classic watch.
    pub send_initial_events: Option<bool>,
    pub format: Format,
}

/// Starts a watch and returns the streaming response.
pub fn serve(store: &Store, req: WatchRequest) -> Result<Response, ApiError> {
    let resource = req.def.qualified_resource();
    let since = match req.resource_version.as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    // A streaming list sends the current state (at least as new as the resourceVersion asked
    // for, which the current state always is).
    let since = if req.send_initial_events == Some(true) {
        None
    } else {
        since
    };
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let filter = Filter {
        resource,
        namespace: req.namespace.clone(),
        labels: req.labels.clone(),
        fields: req.fields.clone(),
    };

    // Work out where the stream starts before answering, all under the store's lock (inside
    // `snapshot_and_subscribe`/`watch_since`), so no change is lost or repeated.
    let start = match since {
        None if req.send_initial_events == Some(false) => {
            // No initial events: start from now, knowing which objects the client would see.
            let (items, rv, live) =
                store.snapshot_and_subscribe(&filter.resource, filter.namespace.as_deref());
            let mut matching = Matching::default();
            for o in items.iter().filter(|o| filter.matches(o)) {
                matching.insert(o);
            }
            Start::Resumed {
                backlog: Vec::new(),
                rv,
                live,
                matching,
            }
        }
        None => {
            let (items, rv, live) =
                store.snapshot_and_subscribe(&filter.resource, filter.namespace.as_deref());
            let initial: Vec<Arc<Value>> =
                items.into_iter().filter(|o| filter.matches(o)).collect();
            Start::Ok {
                backlog: initial.iter().map(|o| ("ADDED", o.clone())).collect(),
                // kube-apiserver 1.37 marks the end of the synthetic ADDED events with the
                // initial-events-end bookmark on every watch that allows bookmarks, streaming
                // list (`sendInitialEvents`) or not.
                initial_end: req.send_initial_events == Some(true) || req.bookmarks,
                rv,
                live,
            }
        }
        Some(since) => match store.watch_since(since) {
            Ok((events, live)) => {
                // Which objects the client already knows as matching: for a selector watch an
                // update that stops matching must be reported as DELETED.
                let (current, _) = store.list(&filter.resource, filter.namespace.as_deref());
                let mut matching = Matching::default();
                for o in current.iter().filter(|o| filter.matches(o)) {
                    matching.insert(o);
                }
                let mut backlog = Vec::new();
                let mut rv = since;
                for event in events {
                    rv = rv.max(event.rv);
                    if let Some(out) = filter.translate(&event, &mut matching) {
                        backlog.push(out);
                    }
                }
                Start::Resumed {
                    backlog,
                    rv,
                    live,
                    matching,
                }
            }
            Err(StoreError::Expired { requested, oldest }) => {
                Start::Expired(format!("too old resource version: {requested} ({oldest})"))
            }
            Err(e) => return Err(ApiError::internal(e.to_string())),
        },
    };

    let timeout = req.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let writer = Writer {
        tx,
        def: req.def,
        version: req.version.clone(),
        format: req.format,
    };
    tokio::spawn(run(writer, filter, start, timeout, req.bookmarks));

    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(futures::StreamExt::map(
            ReceiverStream::new(rx),
            Ok::<Bytes, std::io::Error>,
        )))
        .map_err(|e| ApiError::internal(e.to_string()))
}

enum Start {
    Ok {
        backlog: Vec<(&'static str, Arc<Value>)>,
        initial_end: bool,
        rv: u64,
        live: broadcast::Receiver<StoredEvent>,
    },
    Resumed {
        backlog: Vec<(&'static str, Arc<Value>)>,
        rv: u64,
        live: broadcast::Receiver<StoredEvent>,
        matching: Matching,
    },
    Expired(String),
}

/// Names (namespace/name) of the objects the client currently sees as matching the selectors.
#[derive(Default)]
struct Matching(HashSet<(String, String)>);

impl Matching {
    fn id(object: &Value) -> (String, String) {
        let meta = |f: &str| {
            object
                .pointer(&format!("/metadata/{f}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        (meta("namespace"), meta("name"))
    }
    fn insert(&mut self, object: &Value) -> bool {
        self.0.insert(Self::id(object))
    }
    fn remove(&mut self, object: &Value) -> bool {
        self.0.remove(&Self::id(object))
    }
}

struct Filter {
    resource: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.labels.matches_object(object) && self.fields.matches(object)
    }

    /// The event the client should see for a store change, if any: with selectors, updates that
    /// start or stop matching become ADDED / DELETED.
    fn translate(
        &self,
        event: &StoredEvent,
        matching: &mut Matching,
    ) -> Option<(&'static str, Arc<Value>)> {
        if event.key.resource != self.resource {
            return None;
        }
        if let Some(ns) = &self.namespace {
            if event.key.namespace != *ns {
                return None;
            }
        }
        let now_matches = self.matches(&event.object);
        match event.kind {
            EventType::Added => {
                if now_matches {
                    matching.insert(&event.object);
                    Some(("ADDED", event.object.clone()))
                } else {
                    None
                }
            }
            EventType::Modified => {
                let was = matching.remove(&event.object);
                if now_matches {
                    matching.insert(&event.object);
                    Some((if was { "MODIFIED" } else { "ADDED" }, event.object.clone()))
                } else if was {
                    Some(("DELETED", event.object.clone()))
                } else {
                    None
                }
            }
            EventType::Deleted => {
                let was = matching.remove(&event.object);
                (was || now_matches).then(|| ("DELETED", event.object.clone()))
            }
        }
    }
}

struct Writer {
    tx: mpsc::Sender<Bytes>,
    def: &'static ResourceDef,
    version: String,
    format: Format,
}

impl Writer {
    /// Sends one event line; `false` when the client went away.
    async fn event(&self, kind: &str, object: &Value) -> bool {
        let object = versioned(self.def, &self.version, object);
        let object = match self.format {
            Format::Object => object,
            Format::Table { include_object } => {
                let rv = object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                table::render(self.def, &[object], &rv, include_object)
            }
            Format::Metadata => table::partial_object_metadata(&object),
        };
        self.raw(&json!({"type": kind, "object": object})).await
    }

    async fn bookmark(&self, rv: u64, initial_end: bool) -> bool {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({
            "apiVersion": self.def.api_version(&self.version),
            "kind": self.def.kind,
            "metadata": metadata,
        });
        self.raw(&json!({"type": "BOOKMARK", "object": object}))
            .await
    }

    async fn raw(&self, line: &Value) -> bool {
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        self.tx.send(Bytes::from(bytes)).await.is_ok()
    }
}

async fn run(writer: Writer, filter: Filter, start: Start, timeout: Duration, bookmarks: bool) {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let (mut live, mut rv, mut matching) = match start {
        Start::Expired(message) => {
            let status = ApiError::expired(message).to_status();
            writer
                .raw(&json!({"type": "ERROR", "object": status}))
                .await;
            return;
        }
        Start::Ok {
            backlog,
            initial_end,
            rv,
            live,
        } => {
            let mut matching = Matching::default();
            for (kind, object) in backlog {
                matching.insert(&object);
                if !writer.event(kind, &object).await {
                    return;
                }
            }
            if initial_end && bookmarks && !writer.bookmark(rv, true).await {
                return;
            }
            (live, rv, matching)
        }
        Start::Resumed {
            backlog,
            rv,
            live,
            matching,
        } => {
            for (kind, object) in backlog {
                if !writer.event(kind, &object).await {
                    return;
                }
            }
            (live, rv, matching)
        }
    };
    let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = writer.tx.closed() => return,
            _ = ticker.tick(), if bookmarks => {
                if !writer.bookmark(rv, false).await {
                    return;
                }
            }
            received = live.recv() => match received {
                Ok(event) => {
                    // The subscription may deliver changes already covered by the backlog.
                    if event.rv <= rv {
                        continue;
                    }
                    rv = event.rv;
                    if let Some((kind, object)) = filter.translate(&event, &mut matching) {
                        if !writer.event(kind, &object).await {
                            return;
                        }
                    }
                }
                // Too slow to keep up, or the store is gone: end the stream; the client re-watches
                // from the last resourceVersion it saw (and re-lists if that has expired).
                Err(_) => return,
            },
        }
    }
}
