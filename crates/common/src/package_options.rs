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
        })
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
