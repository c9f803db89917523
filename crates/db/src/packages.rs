//! VNF package rows. The onboarding state moves only through conditional UPDATEs, so two
//! uploads (or an upload and a delete) racing on one package cannot both win. An onboarding
//! (PROCESSING) is a job leased to one server (`onboarding_claimed_by`,
//! `onboarding_lease_until` by the database's clock): only the holder's writes land, and a
//! lease that runs out lets another server take the job over.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::counters::Counter;
use crate::pool::{bump_revision, with_pool, BeginWrite, DbClock};
use crate::{Database, DbError, StoredJson};

/// One row of `vnf_packages`. JSON-valued columns are text, checked when read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PackageRow {
    pub id: String,
    pub tenant_id: String,
    pub onboarding_state: String,
    pub operational_state: String,
    pub usage_state: String,
    /// Object (userDefinedData).
    pub user_data: StoredJson,
    pub vnfd_id: Option<String>,
    pub vnf_provider: Option<String>,
    pub vnf_product_name: Option<String>,
    pub vnf_software_version: Option<String>,
    pub vnfd_version: Option<String>,
    /// `{"algorithm", "hash"}`.
    pub checksum: Option<StoredJson>,
    /// Array of VnfPackageSoftwareImageInfo.
    pub software_images: Option<StoredJson>,
    /// Array of VnfPackageArtifactInfo.
    pub additional_artifacts: Option<StoredJson>,
    /// The parsed VNFD model.
    pub vnfd: Option<StoredJson>,
    /// Array of the package paths that make up the VNFD.
    pub vnfd_files: Option<StoredJson>,
    /// ProblemDetails of the last failed onboarding.
    pub onboarding_failure: Option<StoredJson>,
    pub onboarding_started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a successful onboarding writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Onboarded {
    pub vnfd_id: String,
    pub vnf_provider: String,
    pub vnf_product_name: String,
    pub vnf_software_version: String,
    pub vnfd_version: String,
    pub checksum: StoredJson,
    pub software_images: StoredJson,
    pub additional_artifacts: StoredJson,
    pub vnfd: StoredJson,
    pub vnfd_files: StoredJson,
}

const COLUMNS: &str = "id, tenant_id, onboarding_state, operational_state, usage_state, user_data, \
                       vnfd_id, vnf_provider, vnf_product_name, vnf_software_version, vnfd_version, \
                       checksum, software_images, additional_artifacts, vnfd, vnfd_files, \
                       onboarding_failure, onboarding_started_at, created_at, updated_at";

/// Ends a `with_pool!` block around a conditional UPDATE or DELETE of one package: when no
/// row matched, tells a missing package from one in another state.
macro_rules! one_row_or_conflict {
    ($pool:ident, $q:ident, $id:expr, $result:expr) => {{
        if $result.rows_affected() == 1 {
            return Ok(());
        }
        let exists: Option<String> = sqlx::query_scalar(&$q("SELECT id FROM vnf_packages WHERE id = ?"))
            .bind($id)
            .fetch_optional($pool)
            .await?;
        Err(if exists.is_some() {
            DbError::StateChanged
        } else {
            DbError::NotFound
        })
    }};
}

impl Database {
    pub async fn insert_package(&self, row: &PackageRow) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let sql = format!(
                "INSERT INTO vnf_packages ({COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            );
            sqlx::query(&q(&sql))
                .bind(&row.id)
                .bind(&row.tenant_id)
                .bind(&row.onboarding_state)
                .bind(&row.operational_state)
                .bind(&row.usage_state)
                .bind(&row.user_data)
                .bind(&row.vnfd_id)
                .bind(&row.vnf_provider)
                .bind(&row.vnf_product_name)
                .bind(&row.vnf_software_version)
                .bind(&row.vnfd_version)
                .bind(&row.checksum)
                .bind(&row.software_images)
                .bind(&row.additional_artifacts)
                .bind(&row.vnfd)
                .bind(&row.vnfd_files)
                .bind(&row.onboarding_failure)
                .bind(row.onboarding_started_at)
                .bind(row.created_at)
                .bind(row.updated_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The change counter of what packages show (see `packages_revision`).
    pub async fn packages_revision(&self) -> Result<i64, DbError> {
        self.counter(Counter::Packages).await
    }

    pub async fn get_package(&self, id: &str) -> Result<Option<PackageRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM vnf_packages WHERE id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, PackageRow>(&q(&sql)).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The onboarded package of a VNFD, if any.
    pub async fn package_by_vnfd_id(&self, vnfd_id: &str) -> Result<Option<PackageRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM vnf_packages WHERE vnfd_id = ?");
        Ok(with_pool!(self, pool, q => {
            sqlx::query_as::<_, PackageRow>(&q(&sql)).bind(vnfd_id).fetch_optional(pool).await?
        }))
    }

    /// Packages, oldest first, optionally of one tenant only.
    pub async fn list_packages(&self, tenant_id: Option<&str>) -> Result<Vec<PackageRow>, DbError> {
        let filter = if tenant_id.is_some() {
            "WHERE tenant_id = ?"
        } else {
            ""
        };
        let sql = format!("SELECT {COLUMNS} FROM vnf_packages {filter} ORDER BY created_at, id");
        Ok(with_pool!(self, pool, q => {
            let sql = q(&sql);
            let mut query = sqlx::query_as::<_, PackageRow>(&sql);
            if let Some(tenant_id) = tenant_id {
                query = query.bind(tenant_id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// PATCH: sets the operational state and user data, provided both are still what the
    /// caller read (so two PATCHes never lose each other's changes).
    pub async fn update_package_info(
        &self,
        id: &str,
        expected_operational_state: &str,
        operational_state: &str,
        expected_user_data: &StoredJson,
        user_data: &StoredJson,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let updated = sqlx::query(&q(
                "UPDATE vnf_packages SET operational_state = ?, user_data = ?, updated_at = ? \
                 WHERE id = ? AND operational_state = ? AND user_data = ?",
            ))
            .bind(operational_state)
            .bind(user_data)
            .bind(now)
            .bind(id)
            .bind(expected_operational_state)
            .bind(expected_user_data)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await)
    }

    /// CREATED → UPLOADING; clears the last failure. `StateChanged` if not CREATED.
    pub async fn start_package_upload(&self, id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let updated = sqlx::query(&q(
                "UPDATE vnf_packages SET onboarding_state = 'UPLOADING', onboarding_failure = NULL, \
                 onboarding_started_at = ?, updated_at = ? WHERE id = ? AND onboarding_state = 'CREATED'",
            ))
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await)
    }

    /// UPLOADING → PROCESSING, recording the checksum of the received zip and the lease of
    /// the onboarding that now runs under `claim`: it ends `lease` after the database
    /// writes it, by the database's clock.
    pub async fn start_package_processing(
        &self,
        id: &str,
        checksum: &StoredJson,
        claim: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let later = self.clock().later;
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let updated = sqlx::query(&q(&format!(
                "UPDATE vnf_packages SET onboarding_state = 'PROCESSING', checksum = ?, \
                 onboarding_claimed_by = ?, onboarding_lease_until = {later}, updated_at = ? \
                 WHERE id = ? AND onboarding_state = 'UPLOADING'",
            )))
            .bind(checksum)
            .bind(claim)
            .bind(micros(lease))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await)
    }

    /// Extends the lease of an onboarding still held under `claim`. `StateChanged` when the
    /// claim is gone (the onboarding ended, or another server took it over after the lease
    /// ran out), `NotFound` when the package was deleted.
    pub async fn renew_package_onboarding(
        &self,
        id: &str,
        claim: &str,
        lease: Duration,
    ) -> Result<(), DbError> {
        let later = self.clock().later;
        with_pool!(self, pool, q => async {
            let updated = sqlx::query(&q(&format!(
                "UPDATE vnf_packages SET onboarding_lease_until = {later} \
                 WHERE id = ? AND onboarding_state = 'PROCESSING' AND onboarding_claimed_by = ?",
            )))
            .bind(micros(lease))
            .bind(id)
            .bind(claim)
            .execute(pool)
            .await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await)
    }

    /// Gives an onboarding's lease up, so that any server's next sweep takes it over at
    /// once (its server stops before it finished). False when `claim` no longer held it.
    pub async fn release_package_onboarding(&self, id: &str, claim: &str) -> Result<bool, DbError> {
        Ok(with_pool!(self, pool, q => {
            sqlx::query(&q(
                "UPDATE vnf_packages SET onboarding_claimed_by = NULL, onboarding_lease_until = NULL \
                 WHERE id = ? AND onboarding_state = 'PROCESSING' AND onboarding_claimed_by = ?",
            ))
            .bind(id)
            .bind(claim)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// PROCESSING packages whose onboarding lease has run out (or that never had one): their
    /// server stopped, or lost the database for longer than the lease.
    pub async fn expired_onboardings(&self) -> Result<Vec<String>, DbError> {
        let now = self.clock().now;
        Ok(with_pool!(self, pool, q => {
            sqlx::query_scalar(&q(&format!(
                "SELECT id FROM vnf_packages WHERE onboarding_state = 'PROCESSING' \
                 AND (onboarding_lease_until IS NULL OR onboarding_lease_until < {now}) ORDER BY created_at, id",
            )))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Takes over an onboarding whose lease has run out, under a new `claim`: true for the
    /// one server that wins, false if it is no longer PROCESSING or its lease is live.
    pub async fn claim_expired_onboarding(
        &self,
        id: &str,
        claim: &str,
        lease: Duration,
    ) -> Result<bool, DbError> {
        let DbClock { now, later } = self.clock();
        Ok(with_pool!(self, pool, q => {
            sqlx::query(&q(&format!(
                "UPDATE vnf_packages SET onboarding_claimed_by = ?, onboarding_lease_until = {later} \
                 WHERE id = ? AND onboarding_state = 'PROCESSING' \
                 AND (onboarding_lease_until IS NULL OR onboarding_lease_until < {now})",
            )))
            .bind(claim)
            .bind(micros(lease))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// PROCESSING → ONBOARDED and ENABLED, with what onboarding learned, while `claim` still
    /// holds the onboarding (`StateChanged` otherwise: it was taken over). A VNFD already
    /// onboarded by another package is `DuplicateVnfdId`.
    pub async fn finish_package_onboarding(
        &self,
        id: &str,
        claim: &str,
        onboarded: &Onboarded,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let result: Result<(), DbError> = with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let updated = sqlx::query(&q(
                "UPDATE vnf_packages SET onboarding_state = 'ONBOARDED', operational_state = 'ENABLED', \
                 vnfd_id = ?, vnf_provider = ?, vnf_product_name = ?, vnf_software_version = ?, \
                 vnfd_version = ?, checksum = ?, software_images = ?, additional_artifacts = ?, \
                 vnfd = ?, vnfd_files = ?, onboarding_failure = NULL, onboarding_started_at = NULL, \
                 onboarding_claimed_by = NULL, onboarding_lease_until = NULL, updated_at = ? \
                 WHERE id = ? AND onboarding_state = 'PROCESSING' AND onboarding_claimed_by = ?",
            ))
            .bind(&onboarded.vnfd_id)
            .bind(&onboarded.vnf_provider)
            .bind(&onboarded.vnf_product_name)
            .bind(&onboarded.vnf_software_version)
            .bind(&onboarded.vnfd_version)
            .bind(&onboarded.checksum)
            .bind(&onboarded.software_images)
            .bind(&onboarded.additional_artifacts)
            .bind(&onboarded.vnfd)
            .bind(&onboarded.vnfd_files)
            .bind(now)
            .bind(id)
            .bind(claim)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await);
        match result {
            Err(DbError::Sqlx(e)) if DbError::is_unique_violation(&e) => {
                Err(DbError::DuplicateVnfdId(onboarded.vnfd_id.clone()))
            }
            other => other,
        }
    }

    /// Back to CREATED, recording why (a ProblemDetails JSON): an upload (UPLOADING) when
    /// `claim` is `None`, else an onboarding (PROCESSING) that `claim` still holds.
    pub async fn fail_package_onboarding(
        &self,
        id: &str,
        claim: Option<&str>,
        failure: &StoredJson,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let held = match claim {
            None => "onboarding_state = 'UPLOADING'",
            Some(_) => "onboarding_state = 'PROCESSING' AND onboarding_claimed_by = ?",
        };
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let sql = q(&format!(
                "UPDATE vnf_packages SET onboarding_state = 'CREATED', onboarding_failure = ?, \
                 checksum = NULL, onboarding_started_at = NULL, onboarding_claimed_by = NULL, \
                 onboarding_lease_until = NULL, updated_at = ? WHERE id = ? AND {held}",
            ))
            .into_owned();
            let mut query = sqlx::query(&sql).bind(failure).bind(now).bind(id);
            if let Some(claim) = claim {
                query = query.bind(claim);
            }
            let updated = query.execute(&mut *tx).await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, updated)
        }
        .await)
    }

    /// Uploads that started before `deadline` and never ended: the request's server
    /// stopped mid-way (an upload cannot be resumed).
    pub async fn interrupted_uploads(&self, deadline: DateTime<Utc>) -> Result<Vec<String>, DbError> {
        Ok(with_pool!(self, pool, q => {
            sqlx::query_scalar(&q(
                "SELECT id FROM vnf_packages WHERE onboarding_state = 'UPLOADING' \
                 AND onboarding_started_at < ?",
            ))
            .bind(deadline)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Deletes a package that is DISABLED and NOT_IN_USE (in any onboarding state, as
    /// Tacker: an onboarding that finds its package gone cleans up after itself).
    pub async fn delete_package(&self, id: &str) -> Result<(), DbError> {
        with_pool!(self, pool, q => async {
            let mut tx = pool.begin_write().await?;
            bump_revision!(tx, Counter::Packages);
            let deleted = sqlx::query(&q(
                "DELETE FROM vnf_packages WHERE id = ? AND operational_state = 'DISABLED' \
                 AND usage_state = 'NOT_IN_USE'",
            ))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            one_row_or_conflict!(pool, q, id, deleted)
        }
        .await)
    }
}

/// A lease length as the microseconds `DbClock::later` adds.
fn micros(lease: Duration) -> i64 {
    i64::try_from(lease.as_micros()).unwrap_or(i64::MAX)
}
