//! `[vnf_package]`: where packages are kept and how large and slow they may be. Tacker's
//! option names and meanings; the archive and timeout bounds are tacker-rs additions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{parsed, ConfigError, ValueRule};
use crate::ini::IniFiles;

const SECTION: &str = "vnf_package";
const GIB: f64 = (1u64 << 30) as f64;

#[derive(Debug, Clone, PartialEq)]
pub struct VnfPackageOptions {
    /// `vnf_package_csar_path`: package zips and their unpacked files.
    pub csar_path: PathBuf,
    /// `csar_file_size_cap` (GB in the file): the largest package upload, in bytes.
    pub upload_cap_bytes: u64,
    /// `hashing_algorithm`: `sha256` or `sha512`, for the package checksum.
    pub hashing_algorithm: String,
    /// `vnf_package_num`: the page size of package lists.
    pub page_size: usize,
    /// `csar_max_entries`: the most files and folders a package may hold.
    pub max_entries: usize,
    /// `csar_max_file_size_cap` (GB): the largest uncompressed file inside a package.
    pub max_entry_bytes: u64,
    /// `csar_max_uncompressed_size_cap` (GB): the largest a package may unpack to.
    pub max_total_bytes: u64,
    /// `csar_max_compression_ratio`: above this ratio a file is treated as a zip bomb.
    pub max_compression_ratio: u64,
    /// `upload_from_uri_timeout` (seconds): the whole download of upload_from_uri.
    pub upload_from_uri_timeout: Duration,
    /// `onboarding_timeout` (seconds): an upload plus processing that takes longer is
    /// treated as interrupted and the package returns to CREATED.
    pub onboarding_timeout: Duration,
    /// `package_store`: where package files are kept (`file`, the default, or `s3`).
    pub store: PackageStoreOptions,
}

/// Where every process finds package files (tacker-rs addition).
#[derive(Debug, Clone, PartialEq)]
pub enum PackageStoreOptions {
    /// Under `vnf_package_csar_path`; several processes share it by NFS or a
    /// ReadWriteMany volume, as Tacker's glance `file` store is shared.
    File,
    /// In an S3-compatible bucket; `vnf_package_csar_path` is then this process's
    /// scratch and cache only.
    S3(S3Options),
}

/// `s3_*` options of `[vnf_package]`.
#[derive(Clone, PartialEq)]
pub struct S3Options {
    /// `s3_endpoint`: the service's URL (AWS's regional endpoint when unset).
    pub endpoint: Option<String>,
    /// `s3_bucket` (required).
    pub bucket: String,
    /// `s3_region` (default `us-east-1`).
    pub region: String,
    /// `s3_access_key` and `s3_secret_key`; unset, the AWS environment and instance
    /// credentials are used.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    /// `s3_ca_file`: a PEM bundle trusted for the endpoint besides the system roots.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl VnfPackageOptions {
    pub fn from_ini(files: &IniFiles, state_path: &Path) -> Result<Self, ConfigError> {
        // Read (and so accept) Tacker's VNFD-rewriting options, which tacker-rs has no use for.
        for option in ["get_top_list", "exclude_node", "get_lower_list", "del_input_list"] {
            files.get(SECTION, option)?;
        }
        let csar_path = match files.get(SECTION, "vnf_package_csar_path")? {
            Some(path) if !path.trim().is_empty() => PathBuf::from(path),
            _ => state_path.join("vnfpackages"),
        };
        Ok(VnfPackageOptions {
            csar_path,
            upload_cap_bytes: gigabytes(files, "csar_file_size_cap", 1.0)?,
            hashing_algorithm: parsed(
                files,
                SECTION,
                "hashing_algorithm",
                "sha512".into(),
                |s| match s {
                    "sha256" | "sha512" => Ok(s.to_string()),
                    _ => Err(ValueRule("must be 'sha256' or 'sha512'")),
                },
            )?,
            page_size: count(files, "vnf_package_num", 100)?,
            max_entries: count(files, "csar_max_entries", 10_000)?,
            max_entry_bytes: gigabytes(files, "csar_max_file_size_cap", 1.0)?,
            max_total_bytes: gigabytes(files, "csar_max_uncompressed_size_cap", 2.0)?,
            max_compression_ratio: count(files, "csar_max_compression_ratio", 100)? as u64,
            upload_from_uri_timeout: seconds(files, "upload_from_uri_timeout", 300)?,
            onboarding_timeout: seconds(files, "onboarding_timeout", 3600)?,
            store: store_options(files)?,
        })
    }
}

fn store_options(files: &IniFiles) -> Result<PackageStoreOptions, ConfigError> {
    let kind = files.get(SECTION, "package_store")?;
    let text = |option: &str| -> Result<Option<String>, ConfigError> {
        Ok(files
            .get(SECTION, option)?
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()))
    };
    // Read even for the file store, so that a configuration naming them is not reported
    // as having unknown options when the store is switched back.
    let endpoint = text("s3_endpoint")?;
    let bucket = text("s3_bucket")?;
    let region = text("s3_region")?;
    let access_key = text("s3_access_key")?;
    let secret_key = text("s3_secret_key")?;
    let ca_file = text("s3_ca_file")?.map(PathBuf::from);
    match kind.as_deref().map(str::trim) {
        None | Some("") | Some("file") => Ok(PackageStoreOptions::File),
        Some("s3") => {
            let bucket = bucket.ok_or_else(|| {
                ConfigError::invalid(SECTION, "s3_bucket", "", "is required when package_store = s3")
            })?;
            if access_key.is_some() != secret_key.is_some() {
                return Err(ConfigError::invalid(
                    SECTION,
                    "s3_access_key",
                    "",
                    "s3_access_key and s3_secret_key are set together or not at all",
                ));
            }
            if let Some(endpoint) = &endpoint {
                if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
                    return Err(ConfigError::invalid(
                        SECTION,
                        "s3_endpoint",
                        endpoint,
                        "must be an http:// or https:// URL",
                    ));
                }
            }
            Ok(PackageStoreOptions::S3(S3Options {
                endpoint,
                bucket,
                region: region.unwrap_or_else(|| "us-east-1".to_owned()),
                access_key,
                secret_key,
                ca_file,
            }))
        }
        Some(other) => Err(ConfigError::invalid(
            SECTION,
            "package_store",
            other,
            "must be 'file' or 's3'",
        )),
    }
}

/// A size in (possibly fractional) GB, as Tacker's `csar_file_size_cap`, in bytes.
fn gigabytes(files: &IniFiles, option: &str, default: f64) -> Result<u64, ConfigError> {
    let gb = parsed(files, SECTION, option, default, |s| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or(ValueRule("must be a positive number of GB"))
    })?;
    Ok((gb * GIB) as u64)
}

/// A non-negative count (0 turns paging off for `vnf_package_num`).
fn count(files: &IniFiles, option: &str, default: usize) -> Result<usize, ConfigError> {
    parsed(files, SECTION, option, default, |s| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| ValueRule("must be a non-negative integer"))
    })
}

fn seconds(files: &IniFiles, option: &str, default: u64) -> Result<Duration, ConfigError> {
    parsed(files, SECTION, option, Duration::from_secs(default), |s| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_secs)
            .ok_or(ValueRule("must be a positive number of seconds"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Result<VnfPackageOptions, ConfigError> {
        VnfPackageOptions::from_ini(&IniFiles::parse_str(text).unwrap(), Path::new("/srv/tacker"))
    }

    #[test]
    fn defaults_follow_tacker_with_bounded_uploads() {
        let o = options("").unwrap();
        assert_eq!(o.csar_path, PathBuf::from("/srv/tacker/vnfpackages"));
        assert_eq!(o.upload_cap_bytes, 1 << 30);
        assert_eq!(o.hashing_algorithm, "sha512");
        assert_eq!(o.page_size, 100);
        assert_eq!(o.store, PackageStoreOptions::File);
    }

    #[test]
    fn s3_store_needs_a_bucket_and_both_keys_and_never_shows_the_secret() {
        let o = options(
            "[vnf_package]\npackage_store = s3\ns3_endpoint = http://127.0.0.1:9000\ns3_bucket = pkgs\n\
             s3_access_key = ak\ns3_secret_key = very-secret\n",
        )
        .unwrap();
        let PackageStoreOptions::S3(s3) = &o.store else {
            panic!("{:?}", o.store)
        };
        assert_eq!(s3.bucket, "pkgs");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(!format!("{o:?}").contains("very-secret"));
        let err = options("[vnf_package]\npackage_store = s3\n").unwrap_err();
        assert!(err.to_string().contains("s3_bucket"), "{err}");
        let err = options("[vnf_package]\npackage_store = s3\ns3_bucket = b\ns3_secret_key = hidden-value\n")
            .unwrap_err();
        assert!(err.to_string().contains("together"), "{err}");
        assert!(!err.to_string().contains("hidden-value"), "{err}");
        let err = options("[vnf_package]\npackage_store = glance\n").unwrap_err();
        assert!(err.to_string().contains("'file' or 's3'"), "{err}");
    }

    #[test]
    fn values_are_read_and_bad_ones_named() {
        let o = options("[vnf_package]\ncsar_file_size_cap = 0.5\nvnf_package_csar_path = /data/pkgs\nget_top_list = a,b\n")
            .unwrap();
        assert_eq!(o.upload_cap_bytes, 1 << 29);
        assert_eq!(o.csar_path, PathBuf::from("/data/pkgs"));
        let err = options("[vnf_package]\nhashing_algorithm = md5\n").unwrap_err();
        assert!(
            err.to_string().contains("[vnf_package] hashing_algorithm"),
            "{err}"
        );
    }
}
