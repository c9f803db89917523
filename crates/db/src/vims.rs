//! The VIM registry's rows. JSON-valued attributes are stored as text (checked when
//! read); secrets inside `auth_cred` arrive here already encrypted.

use chrono::{DateTime, Utc};

use crate::counters::Counter;
use crate::pool::{bump_revision, with_pool, BeginWrite};
use crate::{Backend, Database, DbError, StoredJson};

/// One row of `vims`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VimRow {
    pub id: String,
    pub tenant_id: String,
    #[sqlx(rename = "type")]
    pub vim_type: String,
    pub name: String,
    pub description: String,
    pub auth_url: String,
    /// Object.
    pub vim_project: StoredJson,
    /// Object, secrets encrypted.
    pub auth_cred: StoredJson,
    /// Object (`{"regions": [...]}`).
    pub placement_attr: StoredJson,
    /// Object.
    pub extra: StoredJson,
    pub shared: bool,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Bumped by every change; an update applies only to the revision it read.
    pub revision: i64,
}

const COLUMNS: &str = "id, tenant_id, type, name, description, auth_url, vim_project, auth_cred, \
                       placement_attr, extra, shared, is_default, created_at, updated_at, revision";

/// Inside a `with_pool!` transaction: fails with `DefaultVimExists` when `row` is to be
/// its tenant's default and another VIM already is. (The unique index catches races.)
macro_rules! refuse_second_default {
    ($tx:ident, $q:ident, $row:expr) => {
        if $row.is_default {
            let existing: Option<String> = sqlx::query_scalar(&$q(
                "SELECT id FROM vims WHERE tenant_id = ? AND is_default = TRUE AND id <> ?",
            ))
            .bind(&$row.tenant_id)
            .bind(&$row.id)
            .fetch_optional(&mut *$tx)
            .await?;
            if let Some(id) = existing {
                return Err(DbError::DefaultVimExists(Some(id)));
            }
        }
    };
}

/// Ends a `with_pool!` transaction that changed one VIM row: not found when no row
/// changed; otherwise the revision bump that every VIM change owes the list caches, then
/// commit.
macro_rules! commit_row_change {
    ($tx:ident, $result:expr) => {{
        if $result.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        $crate::pool::bump_revision!($tx, Counter::Vims);
        $tx.commit().await?;
        Ok(())
    }};
}

/// After a compare-and-swap UPDATE of VIM `$id` that changed nothing: `StateChanged` when
/// the row is still there (another change came first), else `NotFound`.
macro_rules! stale_or_gone {
    ($tx:ident, $q:ident, $id:expr) => {{
        let exists: Option<i64> = sqlx::query_scalar(&$q("SELECT revision FROM vims WHERE id = ?"))
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?;
        if exists.is_some() {
            DbError::StateChanged
        } else {
            DbError::NotFound
        }
    }};
}

impl Database {
    /// Inserts a new VIM, enforcing unique names per tenant and one default per tenant.
    pub async fn insert_vim(&self, row: &VimRow) -> Result<(), DbError> {
        let result: Result<(), DbError> = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            refuse_second_default!(tx, q, row);
            let sql = format!(
                "INSERT INTO vims ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            );
            sqlx::query(&q(&sql))
                .bind(&row.id)
                .bind(&row.tenant_id)
                .bind(&row.vim_type)
                .bind(&row.name)
                .bind(&row.description)
                .bind(&row.auth_url)
                .bind(&row.vim_project)
                .bind(&row.auth_cred)
                .bind(&row.placement_attr)
                .bind(&row.extra)
                .bind(row.shared)
                .bind(row.is_default)
                .bind(row.created_at)
                .bind(row.updated_at)
                .bind(row.revision)
                .execute(&mut *tx)
                .await?;
            bump_revision!(tx, Counter::Vims);
            tx.commit().await?;
            Ok(())
        }
        .await);
        result.map_err(|e| self.unique_conflict(e, row))
    }

    /// Replaces a VIM's mutable columns, with the same rules as insert, if the row is still
    /// at `row.revision`: `StateChanged` when another change came first (the caller reads
    /// again and reapplies its request), `NotFound` when the VIM is gone.
    pub async fn update_vim(&self, row: &VimRow) -> Result<(), DbError> {
        let result: Result<(), DbError> = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            refuse_second_default!(tx, q, row);
            let updated = sqlx::query(&q(
                "UPDATE vims SET name = ?, description = ?, vim_project = ?, auth_cred = ?, \
                 placement_attr = ?, extra = ?, is_default = ?, updated_at = ?, revision = revision + 1 \
                 WHERE id = ? AND revision = ?",
            ))
            .bind(&row.name)
            .bind(&row.description)
            .bind(&row.vim_project)
            .bind(&row.auth_cred)
            .bind(&row.placement_attr)
            .bind(&row.extra)
            .bind(row.is_default)
            .bind(row.updated_at)
            .bind(&row.id)
            .bind(row.revision)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(stale_or_gone!(tx, q, &row.id));
            }
            commit_row_change!(tx, updated)
        }
        .await);
        result.map_err(|e| self.unique_conflict(e, row))
    }

    /// Replaces only the stored credentials (key rotation), if the row is still at
    /// `revision` (`StateChanged` otherwise).
    pub async fn update_vim_auth_cred(
        &self,
        id: &str,
        revision: i64,
        auth_cred: &StoredJson,
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(&q(
                "UPDATE vims SET auth_cred = ?, revision = revision + 1 WHERE id = ? AND revision = ?",
            ))
            .bind(auth_cred)
            .bind(id)
            .bind(revision)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(stale_or_gone!(tx, q, id));
            }
            commit_row_change!(tx, updated)
        }
        .await)
    }

    /// The VIM table's change counter (see `vims_revision`).
    pub async fn vims_revision(&self) -> Result<i64, DbError> {
        self.counter(Counter::Vims).await
    }

    /// Deletes a VIM unless a VNF instance uses it.
    pub async fn delete_vim(&self, id: &str) -> Result<(), DbError> {
        let result: Result<(), DbError> = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            let users: i64 = sqlx::query_scalar(&q("SELECT COUNT(*) FROM vnf_instances WHERE vim_id = ?"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if users > 0 {
                return Err(DbError::VimInUse(id.to_string()));
            }
            let deleted = sqlx::query(&q("DELETE FROM vims WHERE id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            commit_row_change!(tx, deleted)
        }
        .await);
        match result {
            // An instance created between the check and the delete: the foreign key holds.
            Err(DbError::Sqlx(e)) if DbError::is_foreign_key_violation(&e) => {
                Err(DbError::VimInUse(id.into()))
            }
            other => other,
        }
    }

    /// True when a VNF instance refers to the VIM.
    pub async fn vim_in_use(&self, id: &str) -> Result<bool, DbError> {
        let users: i64 = with_pool!(self, pool, q => {
            sqlx::query_scalar(&q("SELECT COUNT(*) FROM vnf_instances WHERE vim_id = ?"))
                .bind(id)
                .fetch_one(pool)
                .await?
        });
        Ok(users > 0)
    }

    pub async fn get_vim(&self, id: &str) -> Result<Option<VimRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM vims WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, VimRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The tenant's default VIM, if it has one.
    pub async fn default_vim(&self, tenant_id: &str) -> Result<Option<VimRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM vims WHERE tenant_id = ? AND is_default = TRUE");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, VimRow>(&q(&sql)).bind(tenant_id).fetch_optional(pool).await?
        }))
    }

    /// Every VIM, oldest first. Lists are filtered by the caller (the VIM registry keeps
    /// them cached between changes, see `vims_revision`).
    pub async fn all_vims(&self) -> Result<Vec<VimRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM vims ORDER BY created_at, id");
        Ok(with_pool!(self, pool, _q => {
            sqlx::query_as::<_, VimRow>(&sql).fetch_all(pool).await?
        }))
    }

    /// Turns a UNIQUE violation that raced past the explicit checks into the rule it broke.
    fn unique_conflict(&self, err: DbError, row: &VimRow) -> DbError {
        let DbError::Sqlx(sqlx_err) = &err else {
            return err;
        };
        if !DbError::is_unique_violation(sqlx_err) {
            return err;
        }
        let message = sqlx_err.to_string();
        // PostgreSQL and MySQL name the index; SQLite lists the columns of the broken key.
        let default_rule = message.contains("default_per_tenant")
            || (self.backend() == Backend::Sqlite && !message.contains("vims.name"));
        if default_rule {
            DbError::DefaultVimExists(None)
        } else {
            DbError::DuplicateVimName {
                tenant_id: row.tenant_id.clone(),
                name: row.name.clone(),
            }
        }
    }
}
