//! `KubernetesDriver`: the conductor's infra driver for Kubernetes VIMs. Every operation
//! connects afresh (for OIDC VIMs with a fresh id_token, renewed while the operation runs
//! and dropped with it), works on the package's manifests in one namespace, and waits
//! until the cluster has settled: it checks again whenever a watch reports a change, and
//! at least every poll interval.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use tacker_driver::{DriverError, InfraDriver, Plan, Vnfc};

use crate::client;
use crate::error::{Error, Result};
use crate::manifests::{self, Manifests, INSTANCE_LABEL};
use crate::operation::{dynamic, Operation};
use crate::readiness;
use crate::remove::remove_labelled;
use crate::resources::Resolver;

/// `additionalParams` key (seconds) overriding [`KubernetesSettings::wait_timeout`] for
/// one operation.
pub const WAIT_TIMEOUT_PARAM: &str = "kubernetes_vim_rsc_wait_timeout";

/// How the driver waits and how long it lets the API server take.
#[derive(Debug, Clone)]
pub struct KubernetesSettings {
    /// How long objects may take to become ready, or to go away
    /// (Tacker's `[v2_vnfm] kubernetes_vim_rsc_wait_timeout`, 500 s).
    pub wait_timeout: Duration,
    /// Longest pause between two readiness checks.
    pub poll_interval: Duration,
    /// Bound on connecting to the API server and on each request.
    pub request_timeout: Duration,
    /// Watch the objects that decide readiness, to check again as soon as one changes
    /// (else only every poll interval, as Tacker does).
    pub watch: bool,
}

impl KubernetesSettings {
    /// Tacker's options: `[v2_vnfm] kubernetes_vim_rsc_wait_timeout`.
    pub fn from_options(options: &tacker_common::LcmOptions) -> Self {
        KubernetesSettings {
            wait_timeout: options.kubernetes_wait_timeout,
            ..KubernetesSettings::default()
        }
    }
}

impl Default for KubernetesSettings {
    fn default() -> Self {
        KubernetesSettings {
            wait_timeout: Duration::from_secs(500),
            poll_interval: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            watch: true,
        }
    }
}

/// The Kubernetes infra driver. Holds no connection: each operation makes its own.
#[derive(Debug, Clone, Default)]
pub struct KubernetesDriver {
    settings: KubernetesSettings,
}

impl KubernetesDriver {
    pub fn new(settings: KubernetesSettings) -> Self {
        KubernetesDriver { settings }
    }

    /// Connects for one operation on the objects of `manifests`.
    async fn begin(&self, plan: &Plan, manifests: &Manifests) -> Result<Operation> {
        let session = client::connect(&plan.vim, self.settings.request_timeout, &plan.fence).await?;
        Ok(Operation {
            session,
            resolver: Resolver::default(),
            namespace: manifests.namespace.clone(),
            instance_id: plan.instance_id.clone(),
            poll: self.settings.poll_interval,
            timeout: self.wait_timeout(plan),
            watch: self
                .settings
                .watch
                .then(|| watch_timeout(self.settings.request_timeout)),
        })
    }

    fn wait_timeout(&self, plan: &Plan) -> Duration {
        match plan.additional_params.get(WAIT_TIMEOUT_PARAM) {
            Some(Value::Number(n)) => n.as_f64().map(Duration::from_secs_f64),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok().map(Duration::from_secs_f64),
            _ => None,
        }
        .filter(|d| !d.is_zero())
        .unwrap_or(self.settings.wait_timeout)
    }

    /// The manifests of `plan`, or (when they cannot be read: then nothing was created
    /// from them) just the namespace, for removing what carries the instance's label.
    fn removal_scope(plan: &Plan) -> (Manifests, Vec<(String, String)>) {
        match manifests::load(plan, &manifests::files(plan)) {
            Ok(m) => {
                let kinds = m
                    .objects
                    .iter()
                    .map(|o| {
                        (
                            manifests::api_version(o).to_owned(),
                            manifests::kind(o).to_owned(),
                        )
                    })
                    .collect();
                (m, kinds)
            }
            Err(e) => {
                tracing::warn!(instance = %plan.instance_id, error = %e, "manifests unreadable; removing by label only");
                let namespace = manifests::explicit_namespace(plan)
                    .unwrap_or("default")
                    .to_owned();
                (
                    Manifests {
                        namespace,
                        objects: Vec::new(),
                        workloads: Vec::new(),
                    },
                    Vec::new(),
                )
            }
        }
    }

    async fn instantiate(&self, plan: &Plan) -> Result<Vec<Vnfc>> {
        let files = manifests::files(plan);
        if files.is_empty() {
            return Err(Error::Manifest(format!(
                "'{}' must be specified",
                manifests::DEF_FILES
            )));
        }
        let m = manifests::load(plan, &files)?;
        let op = self.begin(plan, &m).await?;
        // Every kind must be served before anything is created.
        for object in &m.objects {
            op.resolve(manifests::api_version(object), manifests::kind(object))
                .await?;
        }
        for object in &m.objects {
            op.create(object).await?;
        }
        op.wait_ready(&m.objects, &m.workloads, &HashSet::new()).await?;
        op.vnfcs(&m.workloads).await
    }

    async fn scale(&self, plan: &Plan) -> Result<Vec<Vnfc>> {
        let m = manifests::load(plan, &manifests::files(plan))?;
        let op = self.begin(plan, &m).await?;
        for workload in &m.workloads {
            let Some(replicas) = workload.replicas else {
                continue;
            };
            let (live, _) = op.workload(workload).await?;
            if readiness::wanted_replicas(&live) == i64::from(replicas) {
                continue;
            }
            let resolved = op.resolve(&workload.api_version, &workload.kind).await?;
            let what = resolved.describe(&op.namespace, &workload.name);
            tracing::debug!(object = %what, replicas, "scaling");
            resolved
                .api(&op.session, &op.namespace)
                .patch_scale(
                    &workload.name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": {"replicas": replicas}})),
                )
                .await
                .map_err(|e| op.session.err(format!("scale {what} to {replicas}"), e))?;
        }
        op.wait_ready(&[], &m.workloads, &HashSet::new()).await?;
        op.vnfcs(&m.workloads).await
    }

    async fn heal(&self, plan: &Plan, current: &[Vnfc], targets: &[Vnfc]) -> Result<Vec<Vnfc>> {
        let m = manifests::load(plan, &manifests::files(plan))?;
        let op = self.begin(plan, &m).await?;
        let targets = if targets.is_empty() { current } else { targets };
        let pods: Api<Pod> = Api::namespaced(op.session.client.clone(), &op.namespace);
        let mut gone = HashSet::new();
        for target in targets {
            let name = &target.resource_id;
            let what = format!("Pod {}/{name}", op.namespace);
            let pod = pods
                .get_opt(name)
                .await
                .map_err(|e| op.session.err(format!("read {what}"), e))?;
            let Some(pod) = pod else { continue };
            let ours =
                pod.metadata.labels.as_ref().and_then(|l| l.get(INSTANCE_LABEL)) == Some(&plan.instance_id);
            if !ours {
                tracing::warn!(pod = %what, instance = %plan.instance_id, "not healed: not labelled as this instance's");
                continue;
            }
            gone.extend(pod.metadata.uid);
            tracing::debug!(pod = %what, "deleting to heal");
            match pods.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(op.session.err(format!("delete {what}"), e)),
            }
        }
        op.wait_ready(&[], &m.workloads, &gone).await?;
        op.vnfcs(&m.workloads).await
    }

    async fn change_vnfpkg(&self, plan: &Plan) -> Result<Vec<Vnfc>> {
        let m = manifests::load(plan, &manifests::files(plan))?;
        let op = self.begin(plan, &m).await?;
        let is_vdu = |o: &Value| {
            m.workloads
                .iter()
                .any(|w| w.kind == manifests::kind(o) && w.name == manifests::name(o))
        };
        // Objects the new package adds (a ConfigMap the new version reads, ...).
        for object in m.objects.iter().filter(|o| !is_vdu(o)) {
            let resolved = op
                .resolve(manifests::api_version(object), manifests::kind(object))
                .await?;
            if op.get(&resolved, manifests::name(object)).await?.is_none() {
                op.create(object).await?;
            }
        }
        let mut gone = HashSet::new();
        for workload in &m.workloads {
            let (live, old_pods) = op.workload(workload).await?;
            let resolved = op.resolve(&workload.api_version, &workload.kind).await?;
            let what = resolved.describe(&op.namespace, &workload.name);
            if live
                .pointer(&format!("/metadata/labels/{INSTANCE_LABEL}"))
                .and_then(Value::as_str)
                != Some(plan.instance_id.as_str())
            {
                return Err(Error::Manifest(format!(
                    "{what} was not created by VNF instance {}",
                    plan.instance_id
                )));
            }
            let Some(new) = m
                .objects
                .iter()
                .find(|o| manifests::kind(o) == workload.kind && manifests::name(o) == workload.name)
            else {
                continue;
            };
            let mut replacement = dynamic(new)?;
            replacement.metadata.resource_version = live
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned);
            tracing::debug!(object = %what, "replacing");
            let after = resolved
                .api(&op.session, &op.namespace)
                .replace(&workload.name, &PostParams::default(), &replacement)
                .await
                .map_err(|e| op.session.err(format!("replace {what}"), e))?;
            // A new generation with unchanged replicas means a new pod template: the old
            // pods are to be replaced.
            let before = live.pointer("/metadata/generation").and_then(Value::as_i64);
            if after.metadata.generation != before {
                gone.extend(old_pods.into_iter().map(|p| p.uid));
            }
        }
        op.wait_ready(&[], &m.workloads, &gone).await?;
        op.vnfcs(&m.workloads).await
    }

    async fn remove(&self, plan: &Plan, grace: Option<u32>) -> Result<()> {
        let (m, kinds) = Self::removal_scope(plan);
        let mut op = self.begin(plan, &m).await?;
        op.timeout += Duration::from_secs(u64::from(grace.unwrap_or(0)));
        remove_labelled(&op, &kinds, grace).await
    }
}

/// How long the server may keep a watch open: well under the client's read timeout (the
/// request timeout), which would otherwise break off a watch with nothing to report.
fn watch_timeout(request_timeout: Duration) -> Duration {
    (request_timeout * 3 / 4).max(Duration::from_secs(1))
}

#[async_trait]
impl InfraDriver for KubernetesDriver {
    async fn instantiate(&self, plan: &Plan) -> Result<Vec<Vnfc>, DriverError> {
        Ok(KubernetesDriver::instantiate(self, plan).await?)
    }

    async fn scale(&self, plan: &Plan, _current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        Ok(KubernetesDriver::scale(self, plan).await?)
    }

    async fn heal(&self, plan: &Plan, current: &[Vnfc], targets: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        Ok(KubernetesDriver::heal(self, plan, current, targets).await?)
    }

    async fn terminate(
        &self,
        plan: &Plan,
        _current: &[Vnfc],
        graceful: Option<Duration>,
    ) -> Result<(), DriverError> {
        // FORCEFUL: no grace; GRACEFUL: the graceful termination timeout.
        let grace = graceful.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        Ok(self.remove(plan, Some(grace)).await?)
    }

    async fn change_vnfpkg(&self, plan: &Plan, _current: &[Vnfc]) -> Result<Vec<Vnfc>, DriverError> {
        Ok(KubernetesDriver::change_vnfpkg(self, plan).await?)
    }

    async fn rollback_instantiate(&self, plan: &Plan) -> Result<(), DriverError> {
        Ok(self.remove(plan, None).await?)
    }
}
