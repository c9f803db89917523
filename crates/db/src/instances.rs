//! VNF instances and their operation occurrences. An operation holds its instance through
//! `vnf_instances.active_op_occ_id`, taken by a conditional UPDATE in the transaction that
//! creates the occurrence: two operations on one instance can never both start.

use chrono::{DateTime, Utc};

use tacker_sol003::{ApiVersion, CancelMode, InstantiationState, OpState, Operation};

use crate::counters::Counter;
use crate::notifications::{insert_notifications, NotificationRow};
use crate::pool::{bump_revision, with_pool, BeginWrite};
use crate::{Database, DbError, StoredJson};

/// One row of `vnf_instances`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: String,
    pub tenant_id: String,
    #[sqlx(try_from = "String")]
    pub api_version: ApiVersion,
    pub vim_id: Option<String>,
    pub vnf_instance_name: Option<String>,
    pub vnf_instance_description: Option<String>,
    pub vnfd_id: String,
    pub vnf_pkg_id: Option<String>,
    pub vnf_provider: String,
    pub vnf_product_name: String,
    pub vnf_software_version: String,
    pub vnfd_version: String,
    #[sqlx(try_from = "String")]
    pub instantiation_state: InstantiationState,
    /// Map of VimConnectionInfo (secrets encrypted).
    pub vim_connection_info: Option<StoredJson>,
    /// InstantiatedVnfInfo.
    pub instantiated_vnf_info: Option<StoredJson>,
    pub metadata: Option<StoredJson>,
    pub extensions: Option<StoredJson>,
    pub vnf_configurable_properties: Option<StoredJson>,
    pub active_op_occ_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

const INSTANCE_COLUMNS: &str =
    "id, tenant_id, api_version, vim_id, vnf_instance_name, vnf_instance_description, \
    vnfd_id, vnf_pkg_id, vnf_provider, vnf_product_name, vnf_software_version, vnfd_version, \
    instantiation_state, vim_connection_info, instantiated_vnf_info, metadata, extensions, \
    vnf_configurable_properties, active_op_occ_id, created_at, updated_at";

/// [`INSTANCE_COLUMNS`] with the JSON documents read as NULL: neither copied out of the
/// database nor checked, for lists that do not show them.
const INSTANCE_COLUMNS_WITHOUT_DOCUMENTS: &str =
    "id, tenant_id, api_version, vim_id, vnf_instance_name, vnf_instance_description, \
    vnfd_id, vnf_pkg_id, vnf_provider, vnf_product_name, vnf_software_version, vnfd_version, \
    instantiation_state, NULL AS vim_connection_info, NULL AS instantiated_vnf_info, NULL AS metadata, \
    NULL AS extensions, NULL AS vnf_configurable_properties, active_op_occ_id, created_at, updated_at";

/// Whether a list reads the instances' JSON documents (`vimConnectionInfo`,
/// `instantiatedVnfInfo`, `metadata`, `extensions`, `vnfConfigurableProperties`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documents {
    Read,
    /// Left `None` in the rows.
    Skipped,
}

/// One row of `vnf_lcm_op_occs`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OpOccRow {
    pub id: String,
    pub tenant_id: String,
    #[sqlx(try_from = "String")]
    pub api_version: ApiVersion,
    pub vnf_instance_id: String,
    #[sqlx(try_from = "String")]
    pub operation: Operation,
    #[sqlx(try_from = "String")]
    pub operation_state: OpState,
    pub state_entered_time: DateTime<Utc>,
    pub start_time: DateTime<Utc>,
    pub is_automatic_invocation: bool,
    pub is_cancel_pending: bool,
    pub cancel_mode: Option<String>,
    /// The request of the operation (secrets encrypted).
    pub operation_params: StoredJson,
    /// ProblemDetails.
    pub error: Option<StoredJson>,
    pub resource_changes: Option<StoredJson>,
    pub changed_info: Option<StoredJson>,
    pub changed_ext_connectivity: Option<StoredJson>,
    pub pending_action: Option<String>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

const OP_COLUMNS: &str = "id, tenant_id, api_version, vnf_instance_id, operation, operation_state, \
    state_entered_time, start_time, is_automatic_invocation, is_cancel_pending, cancel_mode, \
    operation_params, error, resource_changes, changed_info, changed_ext_connectivity, \
    pending_action, claimed_by, lease_until, created_at, updated_at";

/// The occurrences one claim round won.
#[derive(Debug, Default)]
pub struct Claimed {
    pub ops: Vec<OpOccRow>,
    /// Won, but their row does not decode (a corrupt column). They stay claimed until the
    /// lease runs out: one bad row neither holds up the others nor is retried at every poll.
    pub unreadable: Vec<(String, DbError)>,
}

/// The instance columns an operation's end (or PATCH) rewrites.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceChange {
    pub instantiation_state: InstantiationState,
    pub vim_id: Option<String>,
    pub vnf_instance_name: Option<String>,
    pub vnf_instance_description: Option<String>,
    pub vnfd_id: String,
    pub vnf_pkg_id: Option<String>,
    pub vnf_provider: String,
    pub vnf_product_name: String,
    pub vnf_software_version: String,
    pub vnfd_version: String,
    pub vim_connection_info: Option<StoredJson>,
    pub instantiated_vnf_info: Option<StoredJson>,
    pub metadata: Option<StoredJson>,
    pub extensions: Option<StoredJson>,
    pub vnf_configurable_properties: Option<StoredJson>,
}

impl From<&InstanceRow> for InstanceChange {
    fn from(row: &InstanceRow) -> Self {
        InstanceChange {
            instantiation_state: row.instantiation_state,
            vim_id: row.vim_id.clone(),
            vnf_instance_name: row.vnf_instance_name.clone(),
            vnf_instance_description: row.vnf_instance_description.clone(),
            vnfd_id: row.vnfd_id.clone(),
            vnf_pkg_id: row.vnf_pkg_id.clone(),
            vnf_provider: row.vnf_provider.clone(),
            vnf_product_name: row.vnf_product_name.clone(),
            vnf_software_version: row.vnf_software_version.clone(),
            vnfd_version: row.vnfd_version.clone(),
            vim_connection_info: row.vim_connection_info.clone(),
            instantiated_vnf_info: row.instantiated_vnf_info.clone(),
            metadata: row.metadata.clone(),
            extensions: row.extensions.clone(),
            vnf_configurable_properties: row.vnf_configurable_properties.clone(),
        }
    }
}

/// A state change of an operation occurrence, made by the conductor that holds its claim.
#[derive(Debug, Clone, PartialEq)]
pub struct OpTransition {
    pub operation_state: OpState,
    pub error: Option<StoredJson>,
    pub resource_changes: Option<StoredJson>,
    pub changed_info: Option<StoredJson>,
    /// What is due next (`None`: nothing until an API call).
    pub pending_action: Option<String>,
    /// Keep the claim (the conductor goes on working) or release it.
    pub keep_claim: bool,
    /// The operation ended (COMPLETED, FAILED, ROLLED_BACK): release the instance.
    pub release_instance: bool,
    /// New instance columns, when the operation changed the instance.
    pub instance: Option<InstanceChange>,
}

/// Refreshes the usage state of the packages of `vnfd_id` inside a transaction that has
/// bumped `lcm_revision`: the package revision comes next, before any package row.
macro_rules! refresh_package_usage {
    ($tx:ident, $q:ident, $vnfd_id:expr) => {
        $crate::pool::bump_revision!($tx, Counter::Packages);
        sqlx::query(&$q(
            "UPDATE vnf_packages SET usage_state = CASE WHEN EXISTS \
             (SELECT 1 FROM vnf_instances WHERE vnf_instances.vnfd_id = ?) THEN 'IN_USE' ELSE 'NOT_IN_USE' END \
             WHERE vnfd_id = ?",
        ))
        .bind($vnfd_id)
        .bind($vnfd_id)
        .execute(&mut *$tx)
        .await?;
    };
}

impl Database {
    /// Inserts an instance and its creation notifications; marks its package IN_USE.
    pub async fn insert_instance(
        &self,
        row: &InstanceRow,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let sql = format!(
                "INSERT INTO vnf_instances ({INSTANCE_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            );
            sqlx::query(&q(&sql))
                .bind(&row.id)
                .bind(&row.tenant_id)
                .bind(row.api_version.as_str())
                .bind(&row.vim_id)
                .bind(&row.vnf_instance_name)
                .bind(&row.vnf_instance_description)
                .bind(&row.vnfd_id)
                .bind(&row.vnf_pkg_id)
                .bind(&row.vnf_provider)
                .bind(&row.vnf_product_name)
                .bind(&row.vnf_software_version)
                .bind(&row.vnfd_version)
                .bind(row.instantiation_state.as_str())
                .bind(&row.vim_connection_info)
                .bind(&row.instantiated_vnf_info)
                .bind(&row.metadata)
                .bind(&row.extensions)
                .bind(&row.vnf_configurable_properties)
                .bind(&row.active_op_occ_id)
                .bind(row.created_at)
                .bind(row.updated_at)
                .execute(&mut *tx)
                .await?;
            refresh_package_usage!(tx, q, &row.vnfd_id);
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    pub async fn get_instance(&self, id: &str) -> Result<Option<InstanceRow>, DbError> {
        let sql = format!("SELECT {INSTANCE_COLUMNS} FROM vnf_instances WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, InstanceRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The LCM tables' change counter (see `lcm_revision`): a copy of a list rendered at
    /// this revision is still exact.
    pub async fn lcm_revision(&self) -> Result<i64, DbError> {
        self.counter(Counter::Lcm).await
    }

    /// Instances of one API version, oldest first, optionally of one tenant.
    pub async fn list_instances(
        &self,
        api_version: ApiVersion,
        tenant_id: Option<&str>,
        documents: Documents,
    ) -> Result<Vec<InstanceRow>, DbError> {
        let tenant = if tenant_id.is_some() {
            " AND tenant_id = ?"
        } else {
            ""
        };
        let columns = match documents {
            Documents::Read => INSTANCE_COLUMNS,
            Documents::Skipped => INSTANCE_COLUMNS_WITHOUT_DOCUMENTS,
        };
        let sql = format!(
            "SELECT {columns} FROM vnf_instances WHERE api_version = ?{tenant} ORDER BY created_at, id"
        );
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, InstanceRow>(&sql).bind(api_version.as_str());
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Deletes a NOT_INSTANTIATED instance that no operation holds, with its deletion
    /// notifications; refreshes its package's usage state.
    pub async fn delete_instance(&self, id: &str, notifications: &[NotificationRow]) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            // Read before the transaction: on SQLite a transaction that reads and then
            // writes fails ("database is locked") when another writer committed between.
            let vnfd_id: Option<String> = sqlx::query_scalar(&q("SELECT vnfd_id FROM vnf_instances WHERE id = ?"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            let Some(vnfd_id) = vnfd_id else { return Err(DbError::NotFound) };
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let deleted = sqlx::query(&q(
                "DELETE FROM vnf_instances WHERE id = ? AND instantiation_state = 'NOT_INSTANTIATED' \
                 AND active_op_occ_id IS NULL",
            ))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if deleted.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            refresh_package_usage!(tx, q, &vnfd_id);
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Accepts an operation: takes the instance (fails with `StateChanged` when another
    /// operation holds it, or when its instantiation state is not `expected_state`) and
    /// inserts the occurrence with its notifications, in one transaction.
    pub async fn start_operation(
        &self,
        op: &OpOccRow,
        expected_state: Option<InstantiationState>,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let state_rule = if expected_state.is_some() { " AND instantiation_state = ?" } else { "" };
            let sql = format!(
                "UPDATE vnf_instances SET active_op_occ_id = ? WHERE id = ? AND active_op_occ_id IS NULL{state_rule}"
            );
            let sql = q(&sql);
            let mut take = sqlx::query(&sql).bind(&op.id).bind(&op.vnf_instance_id);
            if let Some(state) = expected_state {
                take = take.bind(state.as_str());
            }
            if take.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            let sql = format!(
                "INSERT INTO vnf_lcm_op_occs ({OP_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            );
            sqlx::query(&q(&sql))
                .bind(&op.id)
                .bind(&op.tenant_id)
                .bind(op.api_version.as_str())
                .bind(&op.vnf_instance_id)
                .bind(op.operation.as_str())
                .bind(op.operation_state.as_str())
                .bind(op.state_entered_time)
                .bind(op.start_time)
                .bind(op.is_automatic_invocation)
                .bind(op.is_cancel_pending)
                .bind(&op.cancel_mode)
                .bind(&op.operation_params)
                .bind(&op.error)
                .bind(&op.resource_changes)
                .bind(&op.changed_info)
                .bind(&op.changed_ext_connectivity)
                .bind(&op.pending_action)
                .bind(&op.claimed_by)
                .bind(op.lease_until)
                .bind(op.created_at)
                .bind(op.updated_at)
                .execute(&mut *tx)
                .await?;
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    pub async fn get_op_occ(&self, id: &str) -> Result<Option<OpOccRow>, DbError> {
        let sql = format!("SELECT {OP_COLUMNS} FROM vnf_lcm_op_occs WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, OpOccRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Occurrences of one API version, oldest first, optionally of one tenant.
    pub async fn list_op_occs(
        &self,
        api_version: ApiVersion,
        tenant_id: Option<&str>,
    ) -> Result<Vec<OpOccRow>, DbError> {
        let tenant = if tenant_id.is_some() {
            " AND tenant_id = ?"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {OP_COLUMNS} FROM vnf_lcm_op_occs WHERE api_version = ?{tenant} ORDER BY created_at, id"
        );
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, OpOccRow>(&sql).bind(api_version.as_str());
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// An API-side change of an occurrence (retry, rollback, fail, cancel): applied only if
    /// the state is still `expected_state` and no conductor holds a live claim.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_op_action(
        &self,
        id: &str,
        expected_state: OpState,
        new_state: OpState,
        pending_action: Option<&str>,
        error: Option<&StoredJson>,
        release_instance: bool,
        now: DateTime<Utc>,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let changed = sqlx::query(&q(
                // state_entered_time first: MySQL assigns left to right and would see the
                // new operation_state.
                "UPDATE vnf_lcm_op_occs SET \
                 state_entered_time = CASE WHEN operation_state = ? THEN state_entered_time ELSE ? END, \
                 operation_state = ?, pending_action = ?, error = COALESCE(?, error), \
                 updated_at = ? WHERE id = ? AND operation_state = ? AND pending_action IS NULL",
            ))
            .bind(new_state.as_str())
            .bind(now)
            .bind(new_state.as_str())
            .bind(pending_action)
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(expected_state.as_str())
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            if release_instance {
                sqlx::query(&q("UPDATE vnf_instances SET active_op_occ_id = NULL WHERE active_op_occ_id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Rolls back an occurrence no conductor has claimed yet (v1 cancel) and releases its
    /// instance.
    pub async fn cancel_unstarted_op(
        &self,
        id: &str,
        error: &StoredJson,
        now: DateTime<Utc>,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let changed = sqlx::query(&q(
                "UPDATE vnf_lcm_op_occs SET operation_state = 'ROLLED_BACK', pending_action = NULL, error = ?, \
                 state_entered_time = ?, updated_at = ? WHERE id = ? AND operation_state = 'STARTING' \
                 AND claimed_by IS NULL",
            ))
            .bind(error)
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            sqlx::query(&q("UPDATE vnf_instances SET active_op_occ_id = NULL WHERE active_op_occ_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Asks the conductor running an occurrence to cancel it (it polls for this): applied
    /// only while the occurrence runs (STARTING, PROCESSING, ROLLING_BACK) and no cancel is
    /// pending, except that FORCEFUL may follow a GRACEFUL that has not ended yet.
    pub async fn request_op_cancel(
        &self,
        id: &str,
        mode: CancelMode,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let pending_rule = match mode {
            CancelMode::Graceful => "is_cancel_pending = FALSE",
            CancelMode::Forceful => "(is_cancel_pending = FALSE OR cancel_mode = 'GRACEFUL')",
        };
        let sql = format!(
            "UPDATE vnf_lcm_op_occs SET is_cancel_pending = TRUE, cancel_mode = ?, updated_at = ? \
             WHERE id = ? AND operation_state IN ('STARTING', 'PROCESSING', 'ROLLING_BACK') AND {pending_rule}"
        );
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let changed = sqlx::query(&q(&sql))
                .bind(mode.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if changed.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The cancel a client asked for on an occurrence, if one is pending.
    pub async fn pending_cancel(&self, id: &str) -> Result<Option<CancelMode>, DbError> {
        let mode: Option<Option<String>> = with_pool!(self, pool, q => {
            sqlx::query_scalar(&q(
                "SELECT cancel_mode FROM vnf_lcm_op_occs WHERE id = ? AND is_cancel_pending = TRUE",
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        mode.flatten()
            .map(|mode| {
                mode.parse()
                    .map_err(|e| DbError::Sqlx(sqlx::Error::Decode(Box::new(e))))
            })
            .transpose()
    }

    /// Claims up to `limit` occurrences with a due action whose lease has run out (or that
    /// nobody holds), skipping those in `running` (this conductor's own: it never takes over
    /// a claim it still works on). Each won row gets a claim of its own, `claim_prefix`
    /// plus a random part, which fences every later write of that execution; the lease
    /// ends `lease` after the moment the database writes it, by the database's clock.
    /// A won row that cannot be read is reported in [`Claimed::unreadable`].
    pub async fn claim_op_occs(
        &self,
        claim_prefix: &str,
        lease: std::time::Duration,
        limit: i64,
        running: &std::collections::HashSet<String>,
    ) -> Result<Claimed, DbError> {
        let clock = self.clock();
        let due = format!(
            "pending_action IS NOT NULL AND (lease_until IS NULL OR lease_until < {})",
            clock.now
        );
        let scan = limit.saturating_add(running.len() as i64);
        let candidates: Vec<String> = with_pool!(self, pool, q => {
            sqlx::query_scalar(&q(&format!(
                "SELECT id FROM vnf_lcm_op_occs WHERE {due} ORDER BY created_at LIMIT ?"
            )))
            .bind(scan)
            .fetch_all(pool)
            .await?
        });
        let lease_micros = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        let mut claimed = Claimed::default();
        for id in candidates.into_iter().filter(|id| !running.contains(id)) {
            if (claimed.ops.len() + claimed.unreadable.len()) as i64 >= limit {
                break;
            }
            let claim = new_claim(claim_prefix);
            let won = with_pool!(self, pool, q => {
                sqlx::query(&q(&format!(
                    "UPDATE vnf_lcm_op_occs SET claimed_by = ?, lease_until = {} WHERE id = ? AND {due}",
                    clock.later
                )))
                .bind(&claim)
                .bind(lease_micros)
                .bind(&id)
                .execute(pool)
                .await?
                .rows_affected()
                    == 1
            });
            if won {
                match self.get_op_occ(&id).await {
                    Ok(row) => claimed.ops.extend(row),
                    Err(e) if e.is_unreadable_row() => claimed.unreadable.push((id, e)),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(claimed)
    }

    /// Gives an occurrence back untouched (its conductor is stopping before it began).
    pub async fn release_op_claim(&self, id: &str, claim: &str) -> Result<(), DbError> {
        with_pool!(self, pool, q => {
            sqlx::query(&q(
                "UPDATE vnf_lcm_op_occs SET claimed_by = NULL, lease_until = NULL WHERE id = ? AND claimed_by = ?",
            ))
            .bind(id)
            .bind(claim)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Extends the lease of a claim still held: false when the claim is gone (another
    /// conductor took the occurrence over, or it ended).
    pub async fn renew_op_claim(
        &self,
        id: &str,
        claim: &str,
        lease: std::time::Duration,
    ) -> Result<bool, DbError> {
        let clock = self.clock();
        let lease_micros = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        Ok(with_pool!(self, pool, q => {
            sqlx::query(&q(&format!(
                "UPDATE vnf_lcm_op_occs SET lease_until = {} WHERE id = ? AND claimed_by = ?",
                clock.later
            )))
            .bind(lease_micros)
            .bind(id)
            .bind(claim)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Applies a conductor's state change, only while `holder` still holds the claim.
    pub async fn transition_op_occ(
        &self,
        id: &str,
        holder: &str,
        change: &OpTransition,
        now: DateTime<Utc>,
        notifications: &[NotificationRow],
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Lcm);
            let claim = if change.keep_claim { "claimed_by" } else { "NULL" };
            let lease = if change.keep_claim { "lease_until" } else { "NULL" };
            // A cancel is pending only while the operation runs (SOL003's isCancelPending).
            let cancel = if change.operation_state.is_running() {
                ""
            } else {
                "is_cancel_pending = FALSE, cancel_mode = NULL, "
            };
            // state_entered_time first: MySQL assigns left to right and would see the new
            // operation_state.
            let sql = format!(
                "UPDATE vnf_lcm_op_occs SET \
                 state_entered_time = CASE WHEN operation_state = ? THEN state_entered_time ELSE ? END, \
                 operation_state = ?, error = ?, \
                 resource_changes = COALESCE(?, resource_changes), changed_info = COALESCE(?, changed_info), \
                 pending_action = ?, claimed_by = {claim}, lease_until = {lease}, {cancel}\
                 updated_at = ? WHERE id = ? AND claimed_by = ?"
            );
            let updated = sqlx::query(&q(&sql))
                .bind(change.operation_state.as_str())
                .bind(now)
                .bind(change.operation_state.as_str())
                .bind(&change.error)
                .bind(&change.resource_changes)
                .bind(&change.changed_info)
                .bind(&change.pending_action)
                .bind(now)
                .bind(id)
                .bind(holder)
                .execute(&mut *tx)
                .await?;
            if updated.rows_affected() == 0 {
                return Err(DbError::StateChanged);
            }
            if let Some(instance) = &change.instance {
                let previous: Option<String> =
                    sqlx::query_scalar(&q("SELECT vnfd_id FROM vnf_instances WHERE active_op_occ_id = ?"))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                sqlx::query(&q(
                    "UPDATE vnf_instances SET instantiation_state = ?, vim_id = ?, vnf_instance_name = ?, \
                     vnf_instance_description = ?, vnfd_id = ?, vnf_pkg_id = ?, vnf_provider = ?, \
                     vnf_product_name = ?, vnf_software_version = ?, vnfd_version = ?, vim_connection_info = ?, \
                     instantiated_vnf_info = ?, metadata = ?, extensions = ?, vnf_configurable_properties = ?, \
                     updated_at = ? WHERE active_op_occ_id = ?",
                ))
                .bind(instance.instantiation_state.as_str())
                .bind(&instance.vim_id)
                .bind(&instance.vnf_instance_name)
                .bind(&instance.vnf_instance_description)
                .bind(&instance.vnfd_id)
                .bind(&instance.vnf_pkg_id)
                .bind(&instance.vnf_provider)
                .bind(&instance.vnf_product_name)
                .bind(&instance.vnf_software_version)
                .bind(&instance.vnfd_version)
                .bind(&instance.vim_connection_info)
                .bind(&instance.instantiated_vnf_info)
                .bind(&instance.metadata)
                .bind(&instance.extensions)
                .bind(&instance.vnf_configurable_properties)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                refresh_package_usage!(tx, q, &instance.vnfd_id);
                // A move to another VNFD (MODIFY_INFO, CHANGE_VNFPKG) may free the old package.
                if let Some(previous) = previous.filter(|p| p != &instance.vnfd_id) {
                    refresh_package_usage!(tx, q, &previous);
                }
            }
            if change.release_instance {
                sqlx::query(&q("UPDATE vnf_instances SET active_op_occ_id = NULL WHERE active_op_occ_id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_notifications!(tx, q, notifications);
            tx.commit().await?;
            Ok(())
        }
        .await)
    }
}

/// A claim of one row: its holder's name (cut to fit the column) and a random part, so
/// that a later claim of the same row by the same holder is still a different claim.
pub fn new_claim(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let mut prefix = prefix.to_owned();
    while prefix.len() > 48 {
        prefix.pop();
    }
    format!("{prefix}/{}", &random[..12])
}
