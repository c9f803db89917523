//! Onboarding: CREATED → UPLOADING (the zip is received) → PROCESSING (unpacked and
//! checked in the background, as a leased job: see `jobs.rs`) → ONBOARDED, or back to
//! CREATED with `onboardingFailureDetails` and nothing left in the store.

use bytes::Bytes;
use chrono::Utc;
use futures::{Stream, TryStreamExt};
use serde_json::{json, Value};
use tacker_common::RequestContext;
use tacker_db::packages::Onboarded;
use tacker_db::{DbError, StoredJson};
use tacker_pkg::{inspect, Csar, PackageError};
use tacker_pkgstore::{ReceiveError, Received, Unpacked};
use url::Url;

use crate::error::{PkgError, Result};
use crate::jobs::new_claim;
use crate::service::{changed_concurrently, PackageService};

/// Why an onboarding ended without a package: the ProblemDetails it leaves on the package.
pub(crate) struct Failure {
    status: u16,
    detail: String,
}

impl Failure {
    pub(crate) fn new(status: u16, detail: impl Into<String>) -> Self {
        Failure {
            status,
            detail: detail.into(),
        }
    }

    fn problem_details(&self) -> Value {
        let title = http_reason(self.status);
        json!({"status": self.status, "title": title, "detail": self.detail})
    }
}

fn http_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

/// The body of `upload_from_uri`.
pub struct UriSource {
    pub url: Url,
    pub user_name: Option<String>,
    pub password: Option<String>,
}

impl UriSource {
    /// Reads the request body of `upload_from_uri` with Tacker's rules.
    pub fn from_body(body: Option<Value>) -> Result<Self> {
        let Some(Value::Object(body)) = body else {
            return Err(PkgError::BadRequest("Malformed request body".into()));
        };
        let address = match body.get("addressInformation") {
            Some(Value::String(a)) if a.len() <= 2048 => a,
            Some(_) => {
                return Err(PkgError::BadRequest(
                    "Invalid input for field/attribute addressInformation: a URI of at most 2048 characters is required."
                        .into(),
                ))
            }
            None => return Err(PkgError::BadRequest("'addressInformation' is a required property".into())),
        };
        let url = Url::parse(address)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host() && u.path().len() > 1)
            .ok_or_else(|| {
                let shown = Url::parse(address)
                    .map(|u| redacted(&u))
                    .unwrap_or_else(|_| address.clone());
                PkgError::BadRequest(format!("Vnf package url '{shown}' is invalid"))
            })?;
        let text = |field: &str| -> Result<Option<String>> {
            match body.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.len() <= 255 => Ok(Some(s.clone())),
                Some(_) => Err(PkgError::BadRequest(format!(
                    "Invalid input for field/attribute {field}: a string of at most 255 characters is required."
                ))),
            }
        };
        let user_name = text("userName")?;
        if user_name.as_deref().is_some_and(|u| {
            !u.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }) {
            return Err(PkgError::BadRequest(
                "Invalid input for field/attribute userName: only letters, digits, '-' and '_' are allowed."
                    .into(),
            ));
        }
        Ok(UriSource {
            url,
            user_name,
            password: text("password")?,
        })
    }
}

impl PackageService {
    /// `PUT package_content`: receives the zip, then processes it in the background. The
    /// request holds the package in UPLOADING while the body arrives.
    pub async fn upload_content<S, E>(&self, ctx: &RequestContext, id: &str, body: S) -> Result<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.begin_upload(ctx, id, "upload_package_content").await?;
        let settings = &self.inner.settings;
        let received = tokio::time::timeout(
            settings.onboarding_timeout,
            self.inner
                .store
                .receive(id, body, settings.upload_cap_bytes, settings.checksum_algorithm),
        )
        .await;
        let received = match received {
            Ok(Ok(received)) => received,
            Ok(Err(err)) => {
                let (failure, error) = receive_failure(err);
                self.fail(id, failure).await;
                return Err(error);
            }
            Err(_) => {
                let detail = "the upload took longer than [vnf_package] onboarding_timeout";
                self.fail(id, Failure::new(400, detail)).await;
                return Err(PkgError::BadRequest(detail.into()));
            }
        };
        self.accept_received(id, received).await
    }

    /// `POST package_content/upload_from_uri`: downloads and processes in the background.
    pub async fn upload_from_uri(&self, ctx: &RequestContext, id: &str, source: UriSource) -> Result<()> {
        self.begin_upload(ctx, id, "upload_from_uri").await?;
        let service = self.clone();
        let id = id.to_owned();
        self.spawn_tracked(async move {
            match service.download(&id, &source).await {
                Ok(received) => {
                    if let Err(e) = service.accept_received(&id, received).await {
                        tracing::warn!(package = %id, error = %e, "downloaded package not accepted");
                    }
                }
                Err(failure) => service.fail(&id, failure).await,
            }
        });
        Ok(())
    }

    /// Checks the caller may upload and moves CREATED → UPLOADING.
    async fn begin_upload(&self, ctx: &RequestContext, id: &str, action: &str) -> Result<()> {
        let row = self.visible(ctx, id, action).await?;
        let not_created = || PkgError::Conflict(format!("VNF Package {id} onboarding state is not CREATED"));
        if row.onboarding_state != "CREATED" {
            return Err(not_created());
        }
        match self.inner.db.start_package_upload(id, Utc::now()).await {
            Ok(()) => Ok(()),
            Err(DbError::StateChanged) => Err(not_created()),
            Err(e) => Err(changed_concurrently(e, id)),
        }
    }

    async fn download(&self, id: &str, source: &UriSource) -> Result<Received, Failure> {
        let shown = redacted(&source.url);
        let mut request = self.inner.http.get(source.url.clone());
        if source.user_name.is_some() || source.password.is_some() {
            request = request.basic_auth(
                source.user_name.as_deref().unwrap_or_default(),
                source.password.as_deref(),
            );
        }
        let settings = &self.inner.settings;
        let transfer = async {
            let response = request.send().await.map_err(|e| download_error(&shown, &e))?;
            if !response.status().is_success() {
                return Err(Failure::new(
                    502,
                    format!("downloading {shown} failed: HTTP {}", response.status()),
                ));
            }
            if response
                .content_length()
                .is_some_and(|n| n > settings.upload_cap_bytes)
            {
                return Err(too_large(settings.upload_cap_bytes));
            }
            let body = response.bytes_stream().map_err(|e| e.without_url().to_string());
            self.inner
                .store
                .receive(
                    id,
                    Box::pin(body),
                    settings.upload_cap_bytes,
                    settings.checksum_algorithm,
                )
                .await
                .map_err(|e| receive_failure(e).0)
        };
        match tokio::time::timeout(settings.upload_from_uri_timeout, transfer).await {
            Ok(result) => result,
            Err(_) => Err(Failure::new(
                504,
                format!("downloading {shown} took longer than [vnf_package] upload_from_uri_timeout"),
            )),
        }
    }

    /// Puts a received zip in place, moves to PROCESSING and processes in the background.
    async fn accept_received(&self, id: &str, received: Received) -> Result<()> {
        tracing::info!(package = %id, bytes = received.size, "VNF package content received");
        let checksum = json!({
            "algorithm": self.inner.settings.checksum_algorithm_name,
            "hash": received.hash,
        });
        if let Err(e) = self.inner.store.commit(id, received).await {
            self.fail(id, Failure::new(500, "the package could not be stored"))
                .await;
            return Err(e.into());
        }
        let claim = new_claim();
        let lease = self.inner.jobs.lease();
        if let Err(e) = self
            .inner
            .db
            .start_package_processing(id, &StoredJson::from_value(&checksum), &claim, lease, Utc::now())
            .await
        {
            // Deleted (or handed back by the sweeper) while uploading.
            self.discard_files(id).await;
            return Err(changed_concurrently(e, id));
        }
        self.spawn_onboarding(id.to_owned(), claim, checksum);
        Ok(())
    }

    /// Unpacks and checks the stored zip, publishes its files and records the outcome,
    /// while `claim` holds the onboarding: a superseded onboarding changes nothing.
    pub(crate) async fn process(&self, id: &str, claim: &str, checksum: Value) {
        let inspected = match self
            .inner
            .store
            .unpack(id, &self.inner.settings.archive_limits)
            .await
        {
            Ok(unpacked) => {
                tokio::task::spawn_blocking(move || -> Result<(Csar, Unpacked), PackageError> {
                    let csar = inspect(&unpacked.root(), &unpacked.files)?;
                    Ok((csar, unpacked))
                })
                .await
            }
            Err(e) => Ok(Err(e)),
        };
        self.onboarding_gate().await;
        let csar = match inspected {
            Ok(Ok((csar, unpacked))) => match self.inner.store.publish(id, unpacked).await {
                Ok(()) => csar,
                Err(e) => {
                    tracing::error!(package = %id, error = %e, "publishing the unpacked package failed");
                    let failure = Failure::new(500, "the package could not be stored (storage error)");
                    return self.fail_onboarding(id, claim, failure).await;
                }
            },
            Ok(Err(PackageError::Invalid(problem))) => {
                let failure = Failure::new(422, problem.to_string());
                return self.fail_onboarding(id, claim, failure).await;
            }
            Ok(Err(PackageError::Storage(e))) => {
                tracing::error!(package = %id, error = %e, "package storage failed while onboarding");
                let failure = Failure::new(500, "the package could not be unpacked (storage error)");
                return self.fail_onboarding(id, claim, failure).await;
            }
            Err(e) => {
                tracing::error!(package = %id, error = %e, "onboarding task failed");
                let failure = Failure::new(500, "onboarding failed unexpectedly");
                return self.fail_onboarding(id, claim, failure).await;
            }
        };
        match self
            .inner
            .db
            .finish_package_onboarding(id, claim, &onboarded(&csar, &checksum), Utc::now())
            .await
        {
            Ok(()) => tracing::info!(package = %id, vnfd_id = %csar.vnfd.vnfd_id, "VNF package onboarded"),
            Err(DbError::DuplicateVnfdId(vnfd_id)) => {
                let detail = format!("a VNF package with vnfdId {vnfd_id} is already onboarded");
                self.fail_onboarding(id, claim, Failure::new(409, detail)).await;
            }
            // Deleted meanwhile: its files are this onboarding's to remove.
            Err(DbError::NotFound) => self.discard_files(id).await,
            // Taken over: the files are the new onboarding's now.
            Err(DbError::StateChanged) => superseded(id),
            Err(e) => {
                tracing::error!(package = %id, error = %e, "recording the onboarded package failed");
                let failure = Failure::new(500, "the onboarded package could not be recorded");
                self.fail_onboarding(id, claim, failure).await;
            }
        }
    }

    /// An upload (UPLOADING) back to CREATED with the failure shown, and no files left.
    pub(crate) async fn fail(&self, id: &str, failure: Failure) {
        tracing::warn!(package = %id, status = failure.status, detail = %failure.detail, "VNF package onboarding failed");
        // Files first, while the package is still UPLOADING: once it is CREATED again a
        // client may upload anew, and removing then could take the new upload's files.
        self.discard_files(id).await;
        self.record_failure(id, None, &failure).await;
    }

    /// An onboarding (PROCESSING) under `claim` back to CREATED with the failure shown, and
    /// no files left; nothing at all if another server has taken it over.
    pub(crate) async fn fail_onboarding(&self, id: &str, claim: &str, failure: Failure) {
        tracing::warn!(package = %id, status = failure.status, detail = %failure.detail, "VNF package onboarding failed");
        // Files first, as in `fail`, and only with a freshly renewed lease, so that no other
        // server can have taken the onboarding (and the files) over meanwhile.
        match self.still_held(id, claim).await {
            Ok(true) => {
                self.discard_files(id).await;
                self.record_failure(id, Some(claim), &failure).await;
            }
            Ok(false) => superseded(id),
            Err(DbError::NotFound) => self.discard_files(id).await,
            // Left as it is: once the lease runs out a sweep onboards it again.
            Err(e) => tracing::error!(package = %id, error = %e, "recording the onboarding failure failed"),
        }
    }

    async fn record_failure(&self, id: &str, claim: Option<&str>, failure: &Failure) {
        let details = failure.problem_details().into();
        if let Err(e) = self
            .inner
            .db
            .fail_package_onboarding(id, claim, &details, Utc::now())
            .await
        {
            if !matches!(e, DbError::NotFound | DbError::StateChanged) {
                tracing::error!(package = %id, error = %e, "recording the onboarding failure failed");
            }
        }
    }

    pub(crate) async fn discard_files(&self, id: &str) {
        if let Err(e) = self.inner.store.remove(id).await {
            tracing::error!(package = %id, error = %e, "package files could not be removed");
        }
    }
}

fn superseded(id: &str) {
    tracing::warn!(package = %id, "onboarding superseded by another server's; its result is dropped");
}

fn onboarded(csar: &Csar, checksum: &Value) -> Onboarded {
    let vnfd = &csar.vnfd;
    let images: Vec<Value> = vnfd
        .software_images
        .iter()
        .map(|image| {
            let (algorithm, hash) = image.checksum.clone().unwrap_or_default();
            json!({
                "id": image.id,
                "name": image.name,
                "provider": "",
                "version": image.version,
                "checksum": {"algorithm": algorithm, "hash": hash},
                "containerFormat": image.container_format.clone().unwrap_or_default(),
                "diskFormat": image.disk_format.clone().unwrap_or_default(),
                "createdAt": tacker_common::time::tacker_datetime(&Utc::now()),
                "minDisk": image.min_disk.unwrap_or_default(),
                "minRam": image.min_ram.unwrap_or_default(),
                "size": image.size.unwrap_or_default(),
                "imagePath": image.image_path.clone().unwrap_or_default().trim_start_matches("./"),
                "userMetadata": {},
            })
        })
        .collect();
    let artifacts: Vec<Value> = csar
        .artifacts
        .iter()
        .map(|a| {
            json!({
                "artifactPath": a.path,
                "checksum": {"algorithm": a.algorithm.etsi_name(), "hash": a.hash},
                "metadata": {},
            })
        })
        .collect();
    Onboarded {
        vnfd_id: vnfd.vnfd_id.clone(),
        vnf_provider: vnfd.provider.clone(),
        vnf_product_name: vnfd.product_name.clone(),
        vnf_software_version: vnfd.software_version.clone(),
        vnfd_version: vnfd.descriptor_version.clone(),
        checksum: StoredJson::from_value(checksum),
        software_images: Value::Array(images).into(),
        additional_artifacts: Value::Array(artifacts).into(),
        // Strings, lists and plain structs: serialising them cannot fail.
        vnfd: StoredJson::from_serialize(vnfd).expect("a VNFD serialises to JSON"),
        vnfd_files: json!(csar.vnfd_files).into(),
    }
}

fn receive_failure(err: ReceiveError) -> (Failure, PkgError) {
    match err {
        ReceiveError::TooLarge(cap) => {
            let failure = too_large(cap);
            let error = PkgError::PayloadTooLarge(failure.detail.clone());
            (failure, error)
        }
        ReceiveError::Transfer(why) => {
            let detail = format!("the package could not be received: {why}");
            (Failure::new(400, detail.clone()), PkgError::BadRequest(detail))
        }
        ReceiveError::Store(e) => (Failure::new(500, "the package could not be stored"), e.into()),
    }
}

fn too_large(cap: u64) -> Failure {
    Failure::new(
        413,
        format!("the package is larger than {cap} bytes ([vnf_package] csar_file_size_cap)"),
    )
}

fn download_error(shown: &str, err: &reqwest::Error) -> Failure {
    let why = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        "could not connect".to_string()
    } else {
        // Without the URL: it may carry credentials.
        let mut e: &dyn std::error::Error = err;
        while let Some(source) = e.source() {
            e = source;
        }
        e.to_string()
    };
    Failure::new(502, format!("downloading {shown} failed: {why}"))
}

/// The URL without user name and password, for messages and logs.
pub fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}
