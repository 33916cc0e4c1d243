//! The simulated cluster's object store: every object as JSON, one resourceVersion counter for all
//! writes (as etcd's revision), and a bounded history of changes so watches can resume or get 410.

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// How many past changes a watch may resume from before it gets `410 Expired`.
pub const HISTORY_LEN: usize = 10_000;

/// Identifies a stored object: resource (`virtualservices.networking.istio.io`, `pods`), namespace
/// (empty for cluster-scoped resources) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(resource: &str, namespace: &str, name: &str) -> Self {
        Key {
            resource: resource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change. For deletions `object` is the last state, carrying the deletion's
/// resourceVersion as a real API server does.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub rv: u64,
    pub kind: EventType,
    pub key: Key,
    pub object: Arc<Value>,
    /// The object before the change (`None` for a creation): what a list at an earlier
    /// resourceVersion sees.
    pub previous: Option<Arc<Value>>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// The caller's resourceVersion is not the current one.
    #[error("conflict")]
    Conflict,
    /// A watch asked to resume from a version older than the kept history.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    /// A read asked for a version the store has not reached yet.
    #[error("too large resource version: {requested}, current: {current}")]
    TooLarge { requested: u64, current: u64 },
    /// The update function refused the change; the message is passed through.
    #[error("{0}")]
    Rejected(String),
}

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Arc<Value>>,
    history: VecDeque<StoredEvent>,
    /// Oldest resourceVersion a watch may still resume from.
    compacted: u64,
}

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<StoredEvent>,
    /// Bumped on every write; lets readers (the mesh) cache derived state cheaply.
    revision: Arc<AtomicU64>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        Store {
            inner: Arc::new(Mutex::new(Inner::default())),
            events,
            revision: Arc::new(AtomicU64::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written object (writes are single
        // inserts), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The resourceVersion of the latest write (what a list reports).
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Changes on every write; cheap to poll.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Value>> {
        self.lock().objects.get(key).cloned()
    }

    /// Objects of one resource, in one namespace or all (`None`), ordered by namespace and name,
    /// with the resourceVersion the list is consistent with.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|(k, _)| k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.rv)
    }

    /// The objects of a resource as they were at resourceVersion `rv` (a list with
    /// `resourceVersionMatch=Exact`): the current ones with every later change undone.
    /// `Expired` once the history no longer reaches back to `rv`, `TooLarge` for a version
    /// the store has not reached.
    pub fn list_at(
        &self,
        resource: &str,
        namespace: Option<&str>,
        rv: u64,
    ) -> Result<Vec<Arc<Value>>, StoreError> {
        let inner = self.lock();
        if rv < inner.compacted {
            return Err(StoreError::Expired {
                requested: rv,
                oldest: inner.compacted,
            });
        }
        if rv > inner.rv {
            return Err(StoreError::TooLarge {
                requested: rv,
                current: inner.rv,
            });
        }
        let wanted =
            |k: &Key| k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns);
        let mut objects: BTreeMap<Key, Arc<Value>> = inner
            .objects
            .iter()
            .filter(|(k, _)| wanted(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for event in inner.history.iter().rev().take_while(|e| e.rv > rv) {
            if !wanted(&event.key) {
                continue;
            }
            match &event.previous {
                Some(previous) => objects.insert(event.key.clone(), previous.clone()),
                None => objects.remove(&event.key),
            };
        }
        Ok(objects.into_values().collect())
    }

    /// Stores a new object, filling in uid, resourceVersion and creationTimestamp, and
    /// `generation: 1` when the object comes with a `metadata.generation` (the types whose
    /// strategy counts generations: custom resources, Deployments, Pods; Services, Namespaces,
    /// Events and the like have none).
    pub fn create(&self, key: Key, mut object: Value) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        inner.rv += 1;
        let rv = inner.rv;
        let meta = metadata_mut(&mut object);
        meta.insert("name".into(), json!(key.name));
        if !key.namespace.is_empty() {
            meta.insert("namespace".into(), json!(key.namespace));
        }
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        if meta.contains_key("generation") {
            meta.insert("generation".into(), json!(1));
        }
        meta.insert(
            "creationTimestamp".into(),
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        let object = Arc::new(object);
        inner.objects.insert(key.clone(), object.clone());
        self.commit(&mut inner, EventType::Added, key, object.clone(), None);
        Ok(object)
    }

    /// Atomically replaces an object with `update(current)`, made the next version by
    /// [`next_version`] (identity fields kept, generation counted, `Conflict` for a stale
    /// resourceVersion: optimistic concurrency, as for PUT and for patches that set it), with a
    /// new resourceVersion. Returns the new object, or the current one unchanged when the update
    /// changed nothing.
    pub fn update<F>(&self, key: &Key, update: F) -> Result<Arc<Value>, StoreError>
    where
        F: FnOnce(&Value) -> Result<Value, StoreError>,
    {
        let mut inner = self.lock();
        let current = inner
            .objects
            .get(key)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let mut next = next_version(&current, update(&current)?)?;
        if next == *current {
            return Ok(current);
        }
        inner.rv += 1;
        let rv = inner.rv;
        metadata_mut(&mut next).insert("resourceVersion".into(), json!(rv.to_string()));
        let next = Arc::new(next);
        inner.objects.insert(key.clone(), next.clone());
        self.commit(
            &mut inner,
            EventType::Modified,
            key.clone(),
            next.clone(),
            Some(current),
        );
        Ok(next)
    }

    /// Removes an object; returns its last state (with the deletion's resourceVersion).
    pub fn delete(&self, key: &Key) -> Result<Arc<Value>, StoreError> {
        self.delete_if(key, |_| Ok(()))
    }

    /// Removes an object if `check(current)` allows it, atomically (DELETE with preconditions).
    pub fn delete_if<F>(&self, key: &Key, check: F) -> Result<Arc<Value>, StoreError>
    where
        F: FnOnce(&Value) -> Result<(), StoreError>,
    {
        let mut inner = self.lock();
        let current = inner
            .objects
            .get(key)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        check(&current)?;
        inner.objects.remove(key);
        inner.rv += 1;
        let mut last = (*current).clone();
        metadata_mut(&mut last).insert("resourceVersion".into(), json!(inner.rv.to_string()));
        let last = Arc::new(last);
        self.commit(
            &mut inner,
            EventType::Deleted,
            key.clone(),
            last.clone(),
            Some(current),
        );
        Ok(last)
    }

    fn commit(
        &self,
        inner: &mut Inner,
        kind: EventType,
        key: Key,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let event = StoredEvent {
            rv: inner.rv,
            kind,
            key,
            object,
            previous,
        };
        if inner.history.len() == HISTORY_LEN {
            if let Some(dropped) = inner.history.pop_front() {
                inner.compacted = dropped.rv;
            }
        }
        inner.history.push_back(event.clone());
        self.revision.fetch_add(1, Ordering::AcqRel);
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    /// Starts a watch after resourceVersion `since`: the changes already committed after it, and a
    /// receiver for the ones to come (subscribed under the same lock, so nothing is missed or
    /// repeated). `since` older than the kept history is `Expired`.
    pub fn watch_since(
        &self,
        since: u64,
    ) -> Result<(Vec<StoredEvent>, broadcast::Receiver<StoredEvent>), StoreError> {
        let inner = self.lock();
        if since < inner.compacted {
            return Err(StoreError::Expired {
                requested: since,
                oldest: inner.compacted,
            });
        }
        let backlog = inner
            .history
            .iter()
            .filter(|e| e.rv > since)
            .cloned()
            .collect();
        Ok((backlog, self.events.subscribe()))
    }

    /// The current objects of a resource and a receiver for later changes, atomically: what a watch
    /// without resourceVersion starts from.
    pub fn snapshot_and_subscribe(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> (Vec<Arc<Value>>, u64, broadcast::Receiver<StoredEvent>) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|(k, _)| k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.rv, self.events.subscribe())
    }

    /// Receiver for every future change (used by the mesh and by tests).
    pub fn subscribe(&self) -> broadcast::Receiver<StoredEvent> {
        self.events.subscribe()
    }
}

fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    let obj = object.as_object_mut().expect("made an object above");
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("made an object above")
}

/// What an update of `current` to `next` stores, but for the new resourceVersion: the identity
/// fields (uid, creationTimestamp, name, namespace) and the resourceVersion stay `current`'s, and
/// the generation counts one more when the spec changed (for the types that count generations).
/// `Conflict` when `next` carries a resourceVersion that is not the current one. A dry-run write
/// answers with this, as the API server answers with the object it would store.
pub fn next_version(current: &Value, mut next: Value) -> Result<Value, StoreError> {
    let cur_meta = current
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let next_rv = next
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(rv) = next_rv {
        if Some(rv.as_str()) != cur_meta.get("resourceVersion").and_then(Value::as_str) {
            return Err(StoreError::Conflict);
        }
    }
    let meta = metadata_mut(&mut next);
    for field in [
        "uid",
        "creationTimestamp",
        "name",
        "namespace",
        "generation",
        "resourceVersion",
    ] {
        match cur_meta.get(field) {
            Some(v) => meta.insert(field.into(), v.clone()),
            None => meta.remove(field),
        };
    }
    if let Some(generation) = cur_meta.get("generation").and_then(Value::as_i64) {
        if next.get("spec") != current.get("spec") {
            metadata_mut(&mut next).insert("generation".into(), json!(generation + 1));
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs_key() -> Key {
        Key::new("virtualservices.networking.istio.io", "hands-on", "review")
    }

    #[test]
    fn create_fills_metadata_and_rejects_duplicates() {
        let store = Store::new();
        let obj = store
            .create(
                vs_key(),
                json!({"metadata": {"generation": 7}, "spec": {"hosts": ["review"]}}),
            )
            .unwrap();
        assert_eq!(obj["metadata"]["resourceVersion"], "1");
        assert_eq!(obj["metadata"]["generation"], 1);
        // A type without generations gets none.
        let svc = store
            .create(Key::new("services", "hands-on", "review"), json!({}))
            .unwrap();
        assert!(svc["metadata"].get("generation").is_none());
        assert_eq!(obj["metadata"]["namespace"], "hands-on");
        assert!(obj["metadata"]["uid"].is_string());
        assert_eq!(
            store.create(vs_key(), json!({})),
            Err(StoreError::AlreadyExists)
        );
    }

    #[test]
    fn update_bumps_versions_and_detects_stale_writes() {
        let store = Store::new();
        store
            .create(
                vs_key(),
                json!({"metadata": {"generation": 1}, "spec": {"a": 1}}),
            )
            .unwrap();
        let next = store
            .update(&vs_key(), |cur| {
                let mut v = cur.clone();
                v["spec"]["a"] = json!(2);
                Ok(v)
            })
            .unwrap();
        assert_eq!(next["metadata"]["resourceVersion"], "2");
        assert_eq!(next["metadata"]["generation"], 2);
        // A label change is a write but not a new generation.
        let labelled = store
            .update(&vs_key(), |cur| {
                let mut v = cur.clone();
                v["metadata"]["labels"] = json!({"x": "y"});
                Ok(v)
            })
            .unwrap();
        assert_eq!(labelled["metadata"]["resourceVersion"], "3");
        assert_eq!(labelled["metadata"]["generation"], 2);
        // Carrying an old resourceVersion is a conflict and changes nothing.
        let stale = store.update(&vs_key(), |cur| {
            let mut v = cur.clone();
            v["metadata"]["resourceVersion"] = json!("2");
            v["spec"]["a"] = json!(3);
            Ok(v)
        });
        assert_eq!(stale, Err(StoreError::Conflict));
        assert_eq!(store.get(&vs_key()).unwrap()["spec"]["a"], 2);
        // A no-op write keeps the version.
        let same = store.update(&vs_key(), |cur| Ok(cur.clone())).unwrap();
        assert_eq!(same["metadata"]["resourceVersion"], "3");
    }

    #[test]
    fn delete_if_checks_under_the_lock() {
        let store = Store::new();
        store.create(vs_key(), json!({})).unwrap();
        let refused = store.delete_if(&vs_key(), |_| Err(StoreError::Conflict));
        assert_eq!(refused, Err(StoreError::Conflict));
        assert!(store.get(&vs_key()).is_some());
        assert!(store.delete_if(&vs_key(), |_| Ok(())).is_ok());
        assert!(store.get(&vs_key()).is_none());
        assert_eq!(store.delete(&vs_key()), Err(StoreError::NotFound));
    }

    #[test]
    fn watch_resumes_from_history() {
        let store = Store::new();
        store.create(vs_key(), json!({"spec": {}})).unwrap();
        store.delete(&vs_key()).unwrap();
        let (backlog, _rx) = store.watch_since(1).unwrap();
        assert_eq!(backlog.len(), 1);
        assert_eq!(backlog[0].kind, EventType::Deleted);
        assert_eq!(backlog[0].object["metadata"]["resourceVersion"], "2");
    }

    #[test]
    fn watch_from_compacted_history_expires() {
        let store = Store::new();
        for i in 0..HISTORY_LEN + 5 {
            store
                .create(Key::new("pods", "ns", &format!("p{i}")), json!({}))
                .unwrap();
        }
        assert!(matches!(
            store.watch_since(1),
            Err(StoreError::Expired { .. })
        ));
        assert!(store.watch_since(store.current_rv()).is_ok());
    }

    #[test]
    fn lists_at_an_earlier_version_undo_later_changes() {
        let store = Store::new();
        let key = |n: &str| Key::new("things", "ns", n);
        store.create(key("a"), json!({"spec": {"v": 1}})).unwrap();
        store.create(key("b"), json!({"spec": {"v": 1}})).unwrap();
        let rv = store.current_rv();
        store.create(key("c"), json!({})).unwrap();
        store
            .update(&key("a"), |_| Ok(json!({"spec": {"v": 2}})))
            .unwrap();
        store.delete(&key("b")).unwrap();
        store
            .create(Key::new("others", "ns", "x"), json!({}))
            .unwrap();
        let then = store.list_at("things", Some("ns"), rv).unwrap();
        let specs: Vec<&Value> = then.iter().map(|o| &o["spec"]).collect();
        assert_eq!(specs, [&json!({"v": 1}), &json!({"v": 1})]);
        assert_eq!(
            store
                .list_at("things", None, store.current_rv())
                .unwrap()
                .len(),
            2
        );
        assert!(matches!(
            store.list_at("things", None, store.current_rv() + 1),
            Err(StoreError::TooLarge { .. })
        ));
        for i in 0..HISTORY_LEN {
            store
                .create(Key::new("others", "ns", &format!("e{i}")), json!({}))
                .unwrap();
        }
        assert!(matches!(
            store.list_at("things", None, rv),
            Err(StoreError::Expired { .. })
        ));
    }
}
