use std::time::Duration;

use tacker_common::VnfPackageOptions;
use tacker_pkg::{ArchiveLimits, DigestAlgorithm};

/// `[vnf_package]` in the types the package service works with.
#[derive(Debug, Clone)]
pub struct PackageSettings {
    pub upload_cap_bytes: u64,
    pub checksum_algorithm: DigestAlgorithm,
    /// As configured (`sha512`), which is what Tacker shows as `checksum.algorithm`.
    pub checksum_algorithm_name: String,
    pub page_size: usize,
    pub archive_limits: ArchiveLimits,
    pub upload_from_uri_timeout: Duration,
    pub onboarding_timeout: Duration,
}

impl PackageSettings {
    pub fn new(options: &VnfPackageOptions) -> Self {
        let checksum_algorithm = match options.hashing_algorithm.as_str() {
            "sha256" => DigestAlgorithm::Sha256,
            _ => DigestAlgorithm::Sha512,
        };
        PackageSettings {
            upload_cap_bytes: options.upload_cap_bytes,
            checksum_algorithm,
            checksum_algorithm_name: options.hashing_algorithm.clone(),
            page_size: options.page_size,
            archive_limits: ArchiveLimits {
                max_entries: options.max_entries,
                max_entry_bytes: options.max_entry_bytes,
                max_total_bytes: options.max_total_bytes,
                max_compression_ratio: options.max_compression_ratio,
            },
            upload_from_uri_timeout: options.upload_from_uri_timeout,
            onboarding_timeout: options.onboarding_timeout,
        }
    }
}
