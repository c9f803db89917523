//! VNF fault management, SOL003 `/vnffm/v1` as Tacker serves it: alarms raised and cleared
//! from Alertmanager's webhooks (Tacker's Prometheus plugin, `POST /alert`), listed and
//! acknowledged through the API, and FM subscriptions notified through the same outbox as
//! LCM notifications. Alarms belong to the project of the instance they are about.
//! Auto-heal and auto-scale alerts (`POST /alert/auto_healing`, `/alert/auto_scaling`)
//! start HEAL and SCALE operations.

mod alarms;
mod alerts;
mod autoheal;
mod autoscale;
pub mod notifications;
pub mod requests;
mod subscriptions;
pub mod views;

use std::sync::Arc;

use serde_json::Value;
use tacker_common::RequestContext;
use tacker_crypto::KeyVault;
use tacker_db::Database;
use tacker_lcm::{enforce, plain_page, Page, Result};
use tacker_policy::Enforcer;
use tacker_sol013::{ListQuery, ResourceSchema};

pub use alerts::AlertReport;
pub use autoheal::{AutoHealer, HealReport};
pub use autoscale::{AutoScaler, ScaleReport};
pub use notifications::FmNotifier;

/// The FM API's rules over the shared database; cheap to clone.
#[derive(Clone)]
pub struct FmService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    vault: KeyVault,
    policy: Arc<Enforcer>,
    notifier: FmNotifier,
    tester: tacker_lcm::SharedTester,
    page_size: usize,
}

impl FmService {
    pub fn new(
        db: Database,
        vault: KeyVault,
        policy: Arc<Enforcer>,
        endpoint: String,
        tester: tacker_lcm::SharedTester,
        page_size: usize,
    ) -> Self {
        FmService {
            inner: Arc::new(Inner {
                db,
                vault,
                policy,
                notifier: FmNotifier { endpoint },
                tester,
                page_size,
            }),
        }
    }

    /// Tacker's `os_nfv_orchestration_api_v2:vnf_fault_monitor:<action>` for a resource
    /// of `tenant_id`.
    fn authorize(&self, ctx: &RequestContext, action: &str, tenant_id: &str) -> Result<()> {
        let rule = format!("os_nfv_orchestration_api_v2:vnf_fault_monitor:{action}");
        enforce(&self.inner.policy, rule, ctx, tenant_id)
    }

    fn page(&self, views: Vec<(String, Value)>, query: &ListQuery, schema: &ResourceSchema) -> Result<Page> {
        plain_page(views, query, schema, self.inner.page_size)
    }

    /// The caller's own project, and the project a list is limited to (none for admins).
    fn scope(ctx: &RequestContext) -> (String, Option<String>) {
        let own = ctx.project_id.clone().unwrap_or_default();
        let limit = (!ctx.is_admin).then(|| own.clone());
        (own, limit)
    }
}
