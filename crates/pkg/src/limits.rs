/// Bounds on what a package archive may unpack to, so a hostile zip (a bomb, a million tiny
/// entries) costs a bounded amount of disk and time. Set from `[vnf_package]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Most entries (files and directories) an archive may hold.
    pub max_entries: usize,
    /// Largest uncompressed size of one file, in bytes.
    pub max_entry_bytes: u64,
    /// Largest uncompressed size of all files together, in bytes.
    pub max_total_bytes: u64,
    /// Highest uncompressed/compressed ratio of one file; beyond it the file is a bomb.
    pub max_compression_ratio: u64,
}

impl ArchiveLimits {
    /// Files smaller than this are not ratio-checked: small text compresses very well and
    /// cannot hurt anyway.
    pub const RATIO_CHECK_FLOOR: u64 = 1 << 20;
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: 10_000,
            max_entry_bytes: 1 << 30,
            max_total_bytes: 2 << 30,
            max_compression_ratio: 100,
        }
    }
}
