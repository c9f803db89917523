//! VNF performance management, SOL003 `/vnfpm/v2` as Tacker's Prometheus plugin serves
//! it: a PM job or threshold becomes a Prometheus rule file, delivered over SFTP to the
//! hosts its `metadata.monitoring` names and loaded with Prometheus's reload API; the
//! alerts those rules raise come back through Alertmanager (`POST /pm_event`,
//! `POST /pm_threshold`) and become reports and ThresholdCrossed notifications. Jobs and
//! thresholds belong to the project that created them, and measure its instances only.

mod events;
mod jobs;
pub mod metrics;
mod notifications;
pub mod requests;
mod secrets;
mod thresholds;
pub mod views;

use std::sync::Arc;

use serde_json::Value;
use tacker_common::{PrometheusPluginOptions, RequestContext};
use tacker_crypto::KeyVault;
use tacker_db::instances::InstanceRow;
use tacker_db::Database;
use tacker_lcm::{enforce, plain_page, InstantiationState, LcmError, Page, Result, SharedTester};
use tacker_monitoring::RulePublisher;
use tacker_policy::Enforcer;
use tacker_sol013::{ListQuery, ResourceSchema};

pub use events::EventReport;

/// The PM API's rules over the shared database; cheap to clone.
#[derive(Clone)]
pub struct PmService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    vault: KeyVault,
    policy: Arc<Enforcer>,
    /// The public base URL, for notification links.
    endpoint: String,
    tester: SharedTester,
    publisher: RulePublisher,
    plugin: PrometheusPluginOptions,
    page_size: usize,
}

impl PmService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Database,
        vault: KeyVault,
        policy: Arc<Enforcer>,
        endpoint: String,
        tester: SharedTester,
        publisher: RulePublisher,
        plugin: PrometheusPluginOptions,
        page_size: usize,
    ) -> Self {
        PmService {
            inner: Arc::new(Inner {
                db,
                vault,
                policy,
                endpoint,
                tester,
                publisher,
                plugin,
                page_size,
            }),
        }
    }

    /// Tacker's `os_nfv_orchestration_api_v2:vnf_performance_management:<action>`.
    fn authorize(&self, ctx: &RequestContext, action: &str, tenant_id: &str) -> Result<()> {
        let rule = format!("os_nfv_orchestration_api_v2:vnf_performance_management:{action}");
        enforce(&self.inner.policy, rule, ctx, tenant_id)
    }

    /// The caller's own project, and the project a list is limited to (none for admins).
    fn scope(ctx: &RequestContext) -> (String, Option<String>) {
        let own = ctx.project_id.clone().unwrap_or_default();
        let limit = (!ctx.is_admin).then(|| own.clone());
        (own, limit)
    }

    fn page(&self, views: Vec<(String, Value)>, query: &ListQuery, schema: &ResourceSchema) -> Result<Page> {
        plain_page(views, query, schema, self.inner.page_size)
    }

    /// An instance the caller may measure: visible to it (404) and instantiated (409).
    async fn measurable_instance(&self, ctx: &RequestContext, id: &str) -> Result<InstanceRow> {
        let instance = match self.inner.db.get_instance(id).await? {
            Some(instance) if ctx.can_see_tenant(&instance.tenant_id) => instance,
            _ => return Err(LcmError::NotFound(format!("VnfInstance {id} not found."))),
        };
        if instance.instantiation_state != InstantiationState::Instantiated {
            return Err(LcmError::Conflict(format!(
                "VnfInstance {id} isn't instantiated."
            )));
        }
        Ok(instance)
    }
}

/// The instance's instantiatedVnfInfo (Null when it has none).
fn instantiated_info(instance: &InstanceRow) -> Value {
    instance
        .instantiated_vnf_info
        .as_ref()
        .map_or(Value::Null, |info| info.to_value())
}

/// The namespace the instance's workloads run in.
fn namespace(info: &Value) -> String {
    info["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_owned()
}
