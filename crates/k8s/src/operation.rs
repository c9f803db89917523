//! One LCM operation against one cluster: its client (and so its credentials), the
//! namespace, and the building blocks the driver's operations share: reading, creating
//! and waiting for objects (checks at least every poll interval, and at once after a
//! change the operation's watches report), and reporting a VDU's pods as VNFCs.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use kube::api::{DynamicObject, PostParams};
use serde_json::Value;
use tacker_driver::Vnfc;

use crate::changes::Changes;
use crate::client::Session;
use crate::error::{Error, Result};
use crate::manifests::{self, VduWorkload, INSTANCE_LABEL};
use crate::pods::{self, PodState};
use crate::readiness;
use crate::resources::{Resolved, Resolver};

pub(crate) struct Operation {
    pub session: Session,
    pub resolver: Resolver,
    pub namespace: String,
    pub instance_id: String,
    pub poll: Duration,
    pub timeout: Duration,
    /// How long the server may keep each watch open; `None`: no watches, polling only.
    pub watch: Option<Duration>,
}

impl Operation {
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved> {
        self.resolver.resolve(&self.session, api_version, kind).await
    }

    /// The live object, or `None` if it does not exist.
    pub async fn get(&self, resolved: &Resolved, name: &str) -> Result<Option<Value>> {
        let api = resolved.api(&self.session, &self.namespace);
        match api.get_opt(name).await {
            Ok(found) => found.map(to_value).transpose(),
            Err(e) => Err(self
                .session
                .err(format!("read {}", resolved.describe(&self.namespace, name)), e)),
        }
    }

    /// Creates `object` (already prepared by [`manifests::load`]). One that exists with
    /// this instance's label is taken as created: an earlier attempt of the operation (a
    /// retry after a conductor died mid-way) made it. One of anybody else is a conflict.
    pub async fn create(&self, object: &Value) -> Result<()> {
        let resolved = self
            .resolve(manifests::api_version(object), manifests::kind(object))
            .await?;
        let name = manifests::name(object);
        let mut dynamic = dynamic(object)?;
        if !resolved.namespaced {
            dynamic.metadata.namespace = None;
        }
        tracing::debug!(object = %resolved.describe(&self.namespace, name), "creating");
        let created = resolved
            .api(&self.session, &self.namespace)
            .create(&PostParams::default(), &dynamic)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 && status.reason == "AlreadyExists" => {
                let ours = self.get(&resolved, name).await?.is_some_and(|live| {
                    live.pointer(&format!("/metadata/labels/{}", manifests::INSTANCE_LABEL))
                        .and_then(Value::as_str)
                        == Some(self.instance_id.as_str())
                });
                if ours {
                    tracing::info!(object = %resolved.describe(&self.namespace, name), "already created by an earlier attempt");
                    return Ok(());
                }
                Err(self.session.err(
                    format!("create {}", resolved.describe(&self.namespace, name)),
                    kube::Error::Api(status),
                ))
            }
            Err(e) => Err(self
                .session
                .err(format!("create {}", resolved.describe(&self.namespace, name)), e)),
        }
    }

    /// Why `object` (as the manifests describe it) is not ready yet, if it is not.
    pub async fn object_pending(&self, object: &Value) -> Result<Option<String>> {
        let kind = manifests::kind(object);
        let name = manifests::name(object);
        let resolved = self.resolve(manifests::api_version(object), kind).await?;
        let what = resolved.describe(&self.namespace, name);
        let Some(live) = self.get(&resolved, name).await? else {
            return Ok(Some(format!("{what}: missing")));
        };
        // Only a Service that selects pods gets Endpoints from the cluster.
        let selects_pods = live.pointer("/spec/type").and_then(Value::as_str) != Some("ExternalName")
            && live
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .is_some_and(|s| !s.is_empty());
        let pending = if kind == "Service" && selects_pods {
            readiness::service_pending(&self.session, &self.namespace, name).await?
        } else {
            readiness::pending(kind, &live)
        };
        Ok(pending.map(|why| format!("{what}: {why}")))
    }

    /// A VDU's live workload and its pods.
    pub async fn workload(&self, workload: &VduWorkload) -> Result<(Value, Vec<PodState>)> {
        let resolved = self.resolve(&workload.api_version, &workload.kind).await?;
        let live = self.get(&resolved, &workload.name).await?.ok_or_else(|| {
            Error::Missing(format!(
                "{} (VDU {})",
                resolved.describe(&self.namespace, &workload.name),
                workload.vdu_id
            ))
        })?;
        let pods = pods::of_workload(&self.session, &self.namespace, workload, &live).await?;
        Ok((live, pods))
    }

    /// Why a VDU's workload is not settled: not ready, pods not all Running, too many or
    /// too few, or pods of `gone` (uids) still there.
    pub async fn workload_pending(
        &self,
        workload: &VduWorkload,
        gone: &HashSet<String>,
    ) -> Result<Option<String>> {
        let (live, pods) = self.workload(workload).await?;
        let what = format!("{} {}/{}", workload.kind, self.namespace, workload.name);
        if let Some(why) = readiness::pending(&workload.kind, &live) {
            return Ok(Some(format!("{what}: {why}")));
        }
        let want = if workload.kind == "DaemonSet" {
            live.pointer("/status/desiredNumberScheduled")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        } else {
            readiness::wanted_replicas(&live)
        };
        let old: Vec<&str> = pods
            .iter()
            .filter(|p| gone.contains(&p.uid))
            .map(|p| p.name.as_str())
            .collect();
        if !old.is_empty() {
            return Ok(Some(format!("{what}: old pods {} still exist", old.join(", "))));
        }
        let running = pods.iter().filter(|p| p.running && !p.terminating).count() as i64;
        if pods.len() as i64 != want || running != want {
            return Ok(Some(format!(
                "{what}: {running} of {want} pods Running, {} pods in all",
                pods.len()
            )));
        }
        Ok(None)
    }

    /// Waits until the objects are ready and the VDU workloads settled.
    pub async fn wait_ready(
        &self,
        objects: &[Value],
        workloads: &[VduWorkload],
        gone: &HashSet<String>,
    ) -> Result<()> {
        let mut deciding: Vec<(&str, &str)> = objects
            .iter()
            .filter_map(|o| readiness::decided_by(manifests::api_version(o), manifests::kind(o)))
            .collect();
        for workload in workloads {
            deciding.push((&workload.api_version, &workload.kind));
            deciding.push(("v1", "Pod"));
        }
        let mut watched: Vec<Resolved> = Vec::new();
        for (api_version, kind) in deciding {
            let resolved = self.resolve(api_version, kind).await?;
            if !watched.iter().any(|w| w.same_kind(&resolved)) {
                watched.push(resolved);
            }
        }
        self.poll_until("resources did not become ready", &watched, || async {
            let mut pending = Vec::new();
            for object in objects {
                pending.extend(self.object_pending(object).await?);
            }
            for workload in workloads {
                pending.extend(self.workload_pending(workload, gone).await?);
            }
            Ok(pending)
        })
        .await
    }

    /// Runs `check` until it reports nothing pending, for at most the operation's timeout:
    /// again after every change of the instance's objects of the `watched` kinds, and at
    /// least every poll interval.
    pub async fn poll_until<F, Fut>(
        &self,
        what: &'static str,
        watched: &[Resolved],
        mut check: F,
    ) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Vec<String>>>,
    {
        let start = Instant::now();
        let mut changes = self.watch.is_none().then(Changes::none);
        loop {
            let pending = check().await?;
            if pending.is_empty() {
                return Ok(());
            }
            let elapsed = start.elapsed();
            if elapsed >= self.timeout {
                return Err(Error::Timeout {
                    what,
                    timeout: self.timeout,
                    pending: pending.join("; "),
                });
            }
            tracing::trace!(pending = %pending.join("; "), "waiting");
            match &changes {
                Some(changes) => changes.pause(self.poll.min(self.timeout - elapsed)).await,
                // The first wait starts the watches; the check made before they started is
                // made again at once.
                None => changes = Some(self.watch_changes(watched).await),
            }
        }
    }

    async fn watch_changes(&self, watched: &[Resolved]) -> Changes {
        let Some(timeout) = self.watch else {
            return Changes::none();
        };
        let apis = watched
            .iter()
            .map(|kind| kind.api(&self.session, &self.namespace))
            .collect();
        let selector = format!("{INSTANCE_LABEL}={}", self.instance_id);
        Changes::watch(apis, &selector, timeout).await
    }

    /// The running pods of the VDUs, as VNFCs, in the VDUs' order.
    pub async fn vnfcs(&self, workloads: &[VduWorkload]) -> Result<Vec<Vnfc>> {
        let mut vnfcs = Vec::new();
        for workload in workloads {
            let (_, pods) = self.workload(workload).await?;
            vnfcs.extend(pods.into_iter().filter(|p| !p.terminating).map(|p| Vnfc {
                id: p.name.clone(),
                vdu_id: workload.vdu_id.clone(),
                resource_id: p.name,
                resource_type: workload.kind.clone(),
            }));
        }
        Ok(vnfcs)
    }
}

pub(crate) fn to_value(object: DynamicObject) -> Result<Value> {
    serde_json::to_value(object)
        .map_err(|e| Error::Manifest(format!("unreadable object from the API server: {e}")))
}

pub(crate) fn dynamic(object: &Value) -> Result<DynamicObject> {
    serde_json::from_value(object.clone()).map_err(|e| {
        Error::Manifest(format!(
            "{} {} is not a valid Kubernetes object: {e}",
            manifests::kind(object),
            manifests::name(object)
        ))
    })
}
