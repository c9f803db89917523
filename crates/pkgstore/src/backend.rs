//! The object store behind `[vnf_package] package_store`.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{BackoffConfig, Certificate, ClientOptions, ObjectStore, RetryConfig};
use tacker_common::{PackageStoreOptions, S3Options, VnfPackageOptions};

use crate::error::StoreError;

/// How the store was opened, for logs (never a credential).
pub fn describe(options: &VnfPackageOptions) -> String {
    match &options.store {
        PackageStoreOptions::File => format!("folder {}", options.csar_path.display()),
        PackageStoreOptions::S3(s3) => format!(
            "S3 bucket {} at {}",
            s3.bucket,
            s3.endpoint.as_deref().unwrap_or("AWS")
        ),
    }
}

pub fn open(options: &VnfPackageOptions) -> Result<Arc<dyn ObjectStore>, StoreError> {
    Ok(match &options.store {
        PackageStoreOptions::File => {
            std::fs::create_dir_all(&options.csar_path)?;
            // Empty folders go with their last file, so a deleted package leaves nothing.
            Arc::new(LocalFileSystem::new_with_prefix(&options.csar_path)?.with_automatic_cleanup(true))
        }
        PackageStoreOptions::S3(s3) => Arc::new(s3_store(s3)?),
    })
}

fn s3_store(s3: &S3Options) -> Result<object_store::aws::AmazonS3, StoreError> {
    // Connecting is bounded; a whole request is not, since a download streams to a client
    // at the client's pace.
    let mut client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout_disabled();
    if let Some(ca_file) = &s3.ca_file {
        let pem = std::fs::read(ca_file).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("[vnf_package] s3_ca_file {}: {e}", ca_file.display()),
            )
        })?;
        for certificate in Certificate::from_pem_bundle(&pem)? {
            client = client.with_root_certificate(certificate);
        }
    }
    // A store that is away is reported within seconds, not after object_store's default
    // of ten retries over three minutes.
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    };
    // The AWS environment (AWS_ACCESS_KEY_ID, ...) applies unless the options say otherwise.
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_retry(retry);
    if let Some(endpoint) = &s3.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
        client = client.with_allow_http(endpoint.starts_with("http://"));
    }
    if let (Some(access), Some(secret)) = (&s3.access_key, &s3.secret_key) {
        builder = builder.with_access_key_id(access).with_secret_access_key(secret);
    }
    Ok(builder.with_client_options(client).build()?)
}
