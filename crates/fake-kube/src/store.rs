//! The in-memory object store and the lifecycle rules every write follows: metadata on
//! create, resourceVersion preconditions, status kept apart from spec, generation bumps,
//! finalizers and deletion with a propagation policy. Every write is recorded in the
//! change history watches are served from.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

use crate::history::{Change, ChangeType, History};
use crate::meta;
use crate::resources::{rt, ResourceType};
use crate::status::ApiError;

type Key = (&'static str, &'static str);

/// The object store behind one lock (the reconciler takes it once per tick).
pub struct Store {
    state: Mutex<State>,
}

impl Store {
    /// An empty store keeping the newest `history` changes for watches.
    pub fn new(history: usize) -> Self {
        Store {
            state: Mutex::new(State {
                rv: 0,
                objects: BTreeMap::new(),
                history: History::new(history),
                next_pod_ip: 0,
                next_cluster_ip: 0,
                next_node_port: 0,
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every object, by resource type and `(namespace, name)`; cluster objects have `""`.
pub struct State {
    rv: u64,
    objects: BTreeMap<Key, BTreeMap<(String, String), Value>>,
    history: History,
    next_pod_ip: u32,
    next_cluster_ip: u32,
    next_node_port: u32,
}

/// How a delete treats the object's dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Foreground,
    Background,
    Orphan,
}

/// `DeleteOptions` from the body and the query.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub propagation: Option<Propagation>,
    pub grace_period_seconds: Option<i64>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

/// What a delete did.
#[derive(Debug)]
pub enum Deleted {
    /// The object is gone (its last state).
    Gone(Value),
    /// The object waits for finalizers or graceful termination.
    Pending(Value),
}

/// Which part of an object an update writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMode {
    /// The main resource: status is kept as it was (for types with a status subresource).
    Main,
    /// The `/status` subresource: only status is taken.
    Status,
}

fn key(rt: &ResourceType) -> Key {
    (rt.group, rt.plural)
}

fn object_key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

impl State {
    /// The current resourceVersion (what a list reports).
    pub fn resource_version(&self) -> String {
        self.rv.to_string()
    }

    /// The current resourceVersion as a number (where watches start).
    pub fn revision(&self) -> u64 {
        self.rv
    }

    /// The changes watches are served from.
    pub fn history(&self) -> &History {
        &self.history
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }

    fn record(&mut self, rt: &ResourceType, kind: ChangeType, object: Value, previous: Option<Value>) {
        self.history.record(Change {
            rv: self.rv,
            kind,
            resource: key(rt),
            object,
            previous,
        });
    }

    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(rt))?.get(&object_key(ns, name))
    }

    /// Objects of a type, in one namespace or all, ordered by namespace and name.
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>) -> Vec<Value> {
        self.objects
            .get(&key(rt))
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(|((n, _), _)| ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every object of every type (for owner lookups).
    pub fn all(&self) -> impl Iterator<Item = (&'static ResourceType, &Value)> {
        self.objects
            .iter()
            .flat_map(|((_, plural), m)| m.values().map(move |v| (rt(plural), v)))
    }

    fn namespace_ready(&self, rt: &ResourceType, ns: &str) -> Result<(), ApiError> {
        if !rt.namespaced {
            return Ok(());
        }
        let namespaces = crate::resources::rt("namespaces");
        let Some(namespace) = self.get(namespaces, "", ns) else {
            return Err(ApiError::not_found(namespaces.group_resource(), ns));
        };
        if meta::is_deleting(namespace) {
            return Err(ApiError::Forbidden {
                resource: rt.group_resource(),
                name: meta::name(namespace).to_string(),
                message: format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            });
        }
        Ok(())
    }

    /// Stores a new object whose name, namespace and defaults are set: checks the namespace
    /// and uniqueness, then stamps uid, creationTimestamp, resourceVersion and generation.
    pub fn create(&mut self, rt: &ResourceType, mut obj: Value) -> Result<Value, ApiError> {
        let (ns, name) = (meta::namespace(&obj).to_string(), meta::name(&obj).to_string());
        self.namespace_ready(rt, &ns)?;
        if self.get(rt, &ns, &name).is_some() {
            return Err(ApiError::AlreadyExists {
                resource: rt.group_resource(),
                name,
            });
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        let rv = self.next_rv();
        let has_spec = obj.get("spec").is_some();
        let m = meta::metadata_mut(&mut obj);
        if !m.get("uid").is_some_and(Value::is_string) {
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        m.insert("resourceVersion".into(), json!(rv));
        m.insert("creationTimestamp".into(), json!(meta::now()));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        if has_spec {
            m.insert("generation".into(), json!(1));
        } else {
            m.remove("generation");
        }
        self.objects
            .entry(key(rt))
            .or_default()
            .insert(object_key(&ns, &name), obj.clone());
        self.record(rt, ChangeType::Added, obj.clone(), None);
        Ok(obj)
    }

    /// Writes an existing object as is with a new resourceVersion, unless nothing changed.
    /// An object being deleted whose finalizers are all gone is removed instead.
    pub fn put(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        let (ns, name) = (meta::namespace(&obj).to_string(), meta::name(&obj).to_string());
        if self.get(rt, &ns, &name) == Some(&obj) {
            return obj;
        }
        let rv = self.next_rv();
        meta::metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        if meta::is_deleting(&obj) && meta::finalizers(&obj).is_empty() && !self.waits_for_grace(rt, &obj) {
            self.take(rt, &ns, &name);
            self.record(rt, ChangeType::Deleted, obj.clone(), None);
            return obj;
        }
        let previous = self
            .objects
            .entry(key(rt))
            .or_default()
            .insert(object_key(&ns, &name), obj.clone());
        self.record(rt, ChangeType::Modified, obj.clone(), previous);
        obj
    }

    /// Graceful pod termination and namespace teardown are finished by the reconciler.
    fn waits_for_grace(&self, rt: &ResourceType, obj: &Value) -> bool {
        rt.plural == "namespaces"
            || (rt.plural == "pods" && meta::int(&obj["metadata"]["deletionGracePeriodSeconds"], 0) > 0)
    }

    /// Removes an object for good: a deletion with its own resourceVersion.
    pub fn remove(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self.take(rt, ns, name)?;
        let rv = self.next_rv();
        meta::metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.record(rt, ChangeType::Deleted, obj.clone(), None);
        Some(obj)
    }

    fn take(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        self.objects.get_mut(&key(rt))?.remove(&object_key(ns, name))
    }

    /// Replaces an object from a client's PUT or PATCH result, following the update rules.
    pub fn update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        new: Value,
        mode: UpdateMode,
    ) -> Result<Value, ApiError> {
        let old = self
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt.group_resource(), name))?;
        let old_rv = old["metadata"]["resourceVersion"].as_str().unwrap_or_default();
        if let Some(rv) = new["metadata"]["resourceVersion"].as_str() {
            if rv != old_rv {
                return Err(ApiError::modified(rt.group_resource(), name));
            }
        }
        if let Some(uid) = new["metadata"]["uid"].as_str() {
            if uid != meta::uid(&old) {
                return Err(ApiError::Conflict {
                    resource: rt.group_resource(),
                    name: name.to_string(),
                    message: format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        meta::uid(&old)
                    ),
                });
            }
        }
        let result = match mode {
            UpdateMode::Status => {
                let mut result = old.clone();
                result["status"] = new["status"].clone();
                result
            }
            UpdateMode::Main => {
                let mut result = new;
                result["apiVersion"] = json!(rt.api_version());
                result["kind"] = json!(rt.kind);
                if rt.status {
                    match old.get("status") {
                        Some(status) => result["status"] = status.clone(),
                        None => {
                            result.as_object_mut().map(|o| o.remove("status"));
                        }
                    }
                }
                let m = meta::metadata_mut(&mut result);
                for field in [
                    "name",
                    "namespace",
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ] {
                    match old["metadata"].get(field) {
                        Some(v) => m.insert(field.into(), v.clone()),
                        None => m.remove(field),
                    };
                }
                if old.get("spec") != result.get("spec") && old["metadata"]["generation"].is_i64() {
                    let generation = meta::int(&old["metadata"]["generation"], 0) + 1;
                    meta::metadata_mut(&mut result).insert("generation".into(), json!(generation));
                }
                result
            }
        };
        Ok(self.put(rt, result))
    }

    /// Deletes an object: at once, or by marking it with deletionTimestamp and the
    /// finalizers of its propagation policy (the garbage collector finishes the work).
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let mut obj = self
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt.group_resource(), name))?;
        let precondition_failed = |what: &str, want: &str, have: &str| ApiError::Conflict {
            resource: rt.group_resource(),
            name: name.to_string(),
            message: format!(
                "Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"
            ),
        };
        if let Some(uid) = &options.precondition_uid {
            if uid != meta::uid(&obj) {
                return Err(precondition_failed("UID", uid, meta::uid(&obj)));
            }
        }
        if let Some(rv) = &options.precondition_resource_version {
            let have = obj["metadata"]["resourceVersion"].as_str().unwrap_or_default();
            if rv != have {
                return Err(precondition_failed("ResourceVersion", rv, have));
            }
        }
        let default_policy = if rt.plural == "jobs" {
            Propagation::Orphan
        } else {
            Propagation::Background
        };
        let policy = options.propagation.unwrap_or(default_policy);
        let mut finalizers = meta::finalizers(&obj);
        let wanted = match policy {
            Propagation::Foreground => Some("foregroundDeletion"),
            Propagation::Orphan => Some("orphan"),
            Propagation::Background => None,
        };
        if let Some(f) = wanted {
            if !finalizers.iter().any(|x| x == f) {
                finalizers.push(f.to_string());
            }
        }
        if meta::is_deleting(&obj) {
            if options.propagation.is_some() {
                meta::set_finalizers(&mut obj, &finalizers);
                obj = self.put(rt, obj);
            }
            return Ok(Deleted::Pending(obj));
        }
        let grace = if rt.plural == "pods" && obj["spec"]["nodeName"].is_string() {
            options
                .grace_period_seconds
                .unwrap_or_else(|| meta::int(&obj["spec"]["terminationGracePeriodSeconds"], 30))
        } else {
            0
        };
        if finalizers.is_empty() && grace == 0 && rt.plural != "namespaces" {
            return Ok(Deleted::Gone(self.remove(rt, ns, name).unwrap_or(obj)));
        }
        meta::set_finalizers(&mut obj, &finalizers);
        let m = meta::metadata_mut(&mut obj);
        m.insert("deletionTimestamp".into(), json!(meta::now()));
        m.insert("deletionGracePeriodSeconds".into(), json!(grace));
        if rt.plural == "namespaces" {
            obj["status"]["phase"] = json!("Terminating");
        }
        Ok(Deleted::Pending(self.put(rt, obj)))
    }

    /// A fresh pod IP, 10.244.0.0/16.
    pub fn allocate_pod_ip(&mut self) -> String {
        self.next_pod_ip += 1;
        let n = self.next_pod_ip + 1;
        format!("10.244.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }

    /// A fresh service cluster IP, 10.96.0.0/16 from .10 on.
    pub fn allocate_cluster_ip(&mut self) -> String {
        self.next_cluster_ip += 1;
        let n = self.next_cluster_ip + 9;
        format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }

    /// A fresh node port from 30000 on.
    pub fn allocate_node_port(&mut self) -> i64 {
        self.next_node_port += 1;
        29_999 + i64::from(self.next_node_port)
    }
}
