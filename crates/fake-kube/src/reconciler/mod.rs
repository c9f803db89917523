//! The mini control plane: one pass over the store per tick (under its lock) playing the
//! namespace, garbage-collector, deployment, replicaset, statefulset, daemonset, job,
//! endpoints and PV controllers, plus a kubelet for the single fake node.

mod gc;
mod kubelet;
mod namespaces;
mod services;
mod stateful;
mod status;
mod storage;
mod workloads;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::Timings;
use crate::defaults::prepare_create;
use crate::faults::Faults;
use crate::meta;
use crate::resources::rt;
use crate::store::{DeleteOptions, State};

/// The one node pods run on.
pub const NODE_NAME: &str = "fake-node-1";

/// When each object first reached a stage (`scheduled`, `running`, `terminating`).
#[derive(Default)]
pub struct Clock {
    seen: HashMap<(String, &'static str), Instant>,
}

impl Clock {
    /// Time since `uid` was first seen in `stage` (zero on the first call).
    pub fn since(&mut self, uid: &str, stage: &'static str) -> Duration {
        self.seen
            .entry((uid.to_string(), stage))
            .or_insert_with(Instant::now)
            .elapsed()
    }

    fn forget_missing(&mut self, state: &State) {
        let pods = state.list(rt("pods"), None);
        let live: std::collections::HashSet<&str> = pods.iter().map(meta::uid).collect();
        self.seen.retain(|(uid, _), _| live.contains(uid.as_str()));
    }
}

/// What a controller step works with.
pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub faults: &'a Faults,
    pub timings: &'a Timings,
    pub clock: &'a mut Clock,
}

impl Ctx<'_> {
    /// Creates an object as the apiserver would (defaults, metadata); errors are logged.
    pub fn create(&mut self, plural: &str, mut obj: Value) -> Option<Value> {
        let rt = rt(plural);
        match prepare_create(self.state, rt, &mut obj).and_then(|()| self.state.create(rt, obj)) {
            Ok(created) => Some(created),
            Err(error) => {
                tracing::debug!(%error, plural, "reconciler create failed");
                None
            }
        }
    }

    /// Deletes an object with default options (graceful for pods).
    pub fn delete(&mut self, plural: &str, obj: &Value) {
        let _ = self.state.delete(
            rt(plural),
            meta::namespace(obj),
            meta::name(obj),
            &DeleteOptions::default(),
        );
    }

    /// The pods of namespace `ns` whose controller is `owner`.
    pub fn owned_pods(&self, owner: &Value) -> Vec<Value> {
        let uid = meta::uid(owner);
        self.state
            .list(rt("pods"), Some(meta::namespace(owner)))
            .into_iter()
            .filter(|p| meta::controller_uid(p) == Some(uid))
            .collect()
    }

    /// A new pod from `template`, named `name`, controlled by `owner`.
    pub fn create_pod(
        &mut self,
        owner: &Value,
        template: &Value,
        name: &str,
        labels: &Map<String, Value>,
    ) -> Option<Value> {
        let mut metadata = template["metadata"].as_object().cloned().unwrap_or_default();
        let mut all_labels = metadata
            .get("labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        all_labels.extend(labels.clone());
        metadata.insert("labels".into(), Value::Object(all_labels));
        metadata.insert("name".into(), json!(name));
        metadata.insert("namespace".into(), json!(meta::namespace(owner)));
        metadata.insert("ownerReferences".into(), json!([meta::controller_ref(owner)]));
        metadata.remove("generateName");
        self.create(
            "pods",
            json!({"metadata": metadata, "spec": template["spec"].clone()}),
        )
    }

    /// A free name `<prefix>-<5 random chars>` in `ns`.
    pub fn pod_name(&self, prefix: &str, ns: &str) -> String {
        loop {
            let name = format!("{prefix}-{}", meta::random_suffix(5));
            if self.state.get(rt("pods"), ns, &name).is_none() {
                return name;
            }
        }
    }
}

/// One pass of every controller.
pub fn reconcile_once(ctx: &mut Ctx<'_>) {
    namespaces::step(ctx);
    gc::step(ctx);
    workloads::deployments(ctx);
    workloads::replicasets(ctx);
    stateful::statefulsets(ctx);
    stateful::daemonsets(ctx);
    stateful::jobs(ctx);
    kubelet::step(ctx);
    status::step(ctx);
    services::step(ctx);
    storage::step(ctx);
}

/// Runs the reconciler every `timings.tick` until aborted.
pub fn spawn(app: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = Clock::default();
        let mut ticker = tokio::time::interval(app.timings.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            ticker.tick().await;
            let mut state = app.store.lock();
            let mut ctx = Ctx {
                state: &mut state,
                faults: &app.faults,
                timings: &app.timings,
                clock: &mut clock,
            };
            reconcile_once(&mut ctx);
            n += 1;
            if n.is_multiple_of(100) {
                clock.forget_missing(&state);
            }
        }
    })
}

/// Is the pod counted by its controller (not deleting, not finished)?
pub fn is_active(pod: &Value) -> bool {
    !meta::is_deleting(pod) && !matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
}

/// Running with the Ready condition True.
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["phase"] == "Running"
        && pod["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}
