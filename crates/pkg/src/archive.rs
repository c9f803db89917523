//! Unpacking a CSAR zip into a fresh directory without trusting anything it says: every entry
//! name is checked, and must be unique, before anything is written, sizes are counted as the
//! bytes come out (the sizes a zip declares can lie), and a failure removes the directory
//! again.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use zip::read::ZipFile;
use zip::ZipArchive;

use crate::error::{PackageError, Result};
use crate::limits::ArchiveLimits;

/// Longest entry name accepted, in bytes.
const MAX_NAME_LEN: usize = 1024;

/// Why one entry of the archive is refused; shown to the user after the entry's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum EntryRefused {
    #[error("entry names must be 1 to {MAX_NAME_LEN} bytes long")]
    NameLength,
    #[error("entry names must not contain NUL or backslash characters")]
    NameCharacters,
    #[error("absolute paths are not allowed in a package")]
    Absolute,
    #[error("entry names must not contain empty or '.' components")]
    EmptyOrDotComponent,
    #[error("the path escapes the package ('..')")]
    Escapes,
    #[error("symbolic links are not allowed in a package")]
    Symlink,
    #[error("only regular files and directories are allowed in a package")]
    NotFileOrDirectory,
    #[error("the file is larger than {max_entry_bytes} bytes uncompressed")]
    TooLarge { max_entry_bytes: u64 },
    #[error("the compression ratio exceeds {max_ratio}:1 (a zip bomb?)")]
    CompressionRatio { max_ratio: u64 },
}

/// Unpacks the zip at `archive` into `dest`, which must not exist yet. Returns the files it
/// holds (relative paths with `/`, sorted). On any error `dest` is removed.
pub fn extract(archive: &Path, dest: &Path, limits: &ArchiveLimits) -> Result<BTreeSet<String>> {
    let file = File::open(archive)?;
    let mut zip = ZipArchive::new(file)
        .map_err(|e| PackageError::package(format!("the package is not a valid zip archive: {e}")))?;
    if zip.has_duplicate_names() {
        return Err(duplicate_entry(zip));
    }
    let entries = plan(&mut zip, limits)?;
    fs::create_dir(dest)?;
    let guard = RemoveOnDrop(Some(dest.to_path_buf()));
    let files = unpack(&mut zip, &entries, dest, limits)?;
    guard.keep();
    Ok(files)
}

/// One entry that passed the name checks.
struct Entry {
    index: usize,
    name: String,
    is_dir: bool,
}

/// Checks every entry's name, type and declared size before anything touches the disk.
fn plan(zip: &mut ZipArchive<File>, limits: &ArchiveLimits) -> Result<Vec<Entry>> {
    if zip.len() > limits.max_entries {
        return Err(PackageError::package(format!(
            "the package has {} entries; at most {} are allowed",
            zip.len(),
            limits.max_entries
        )));
    }
    let mut seen = BTreeSet::new();
    let mut declared_total: u64 = 0;
    let mut entries = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|e| PackageError::package(format!("the package's entry {index} is unreadable: {e}")))?;
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let name = checked_name(&raw_name).map_err(|why| refused(&raw_name, why))?;
        if entry.encrypted() {
            return Err(PackageError::in_file(name, "encrypted entries are not supported"));
        }
        check_entry_kind(&entry).map_err(|why| refused(&name, why))?;
        let is_dir = entry.is_dir();
        if !is_dir {
            check_declared_size(&entry, limits).map_err(|why| refused(&name, why))?;
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > limits.max_total_bytes {
                return Err(total_too_large(limits));
            }
        }
        let key = name.trim_end_matches('/').to_owned();
        if !seen.insert(key.clone()) {
            return Err(PackageError::in_file(key, "the package holds this path twice"));
        }
        entries.push(Entry {
            index,
            name: key,
            is_dir,
        });
    }
    Ok(entries)
}

/// The error for an archive holding two entries of one name. The zip reader keeps only the
/// last of them (so `plan` cannot see it), hence the name is read from the central
/// directory itself: the first name that comes twice.
fn duplicate_entry(zip: ZipArchive<File>) -> PackageError {
    let start = zip.central_directory_start();
    match first_repeated_name(zip.into_inner(), start) {
        Some(name) => PackageError::in_file(name, "the package holds two entries of this name"),
        None => PackageError::package("the package holds two entries of the same name"),
    }
}

fn first_repeated_name(file: File, start: u64) -> Option<String> {
    const CENTRAL_HEADER: [u8; 4] = [b'P', b'K', 1, 2];
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(start)).ok()?;
    let mut seen = HashSet::new();
    let mut header = [0u8; 46];
    loop {
        reader.read_exact(&mut header).ok()?;
        if header[..4] != CENTRAL_HEADER {
            return None;
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        let mut name = vec![0; usize::from(name_len)];
        reader.read_exact(&mut name).ok()?;
        if !seen.insert(name.clone()) {
            return Some(String::from_utf8_lossy(&name).into_owned());
        }
        reader
            .seek_relative(i64::from(extra_len) + i64::from(comment_len))
            .ok()?;
    }
}

fn refused(name: &str, why: EntryRefused) -> PackageError {
    PackageError::in_file(name, why.to_string())
}

/// The entry's name as a safe relative path, or why it is not one.
fn checked_name(raw: &str) -> Result<String, EntryRefused> {
    if raw.is_empty() || raw.len() > MAX_NAME_LEN {
        return Err(EntryRefused::NameLength);
    }
    if raw.contains('\0') || raw.contains('\\') {
        return Err(EntryRefused::NameCharacters);
    }
    if raw.starts_with('/') || raw.as_bytes().get(1) == Some(&b':') {
        return Err(EntryRefused::Absolute);
    }
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(EntryRefused::Absolute);
    }
    for part in trimmed.split('/') {
        match part {
            "" | "." => return Err(EntryRefused::EmptyOrDotComponent),
            ".." => return Err(EntryRefused::Escapes),
            _ => {}
        }
    }
    Ok(raw.to_owned())
}

/// Only regular files and directories: a symlink could point anywhere on the host.
fn check_entry_kind(entry: &ZipFile<'_, File>) -> Result<(), EntryRefused> {
    if entry.is_symlink() {
        return Err(EntryRefused::Symlink);
    }
    const S_IFMT: u32 = 0o170_000;
    const S_IFREG: u32 = 0o100_000;
    const S_IFDIR: u32 = 0o040_000;
    if let Some(mode) = entry.unix_mode() {
        let kind = mode & S_IFMT;
        if kind != 0 && kind != S_IFREG && kind != S_IFDIR {
            return Err(EntryRefused::NotFileOrDirectory);
        }
    }
    Ok(())
}

fn check_declared_size(entry: &ZipFile<'_, File>, limits: &ArchiveLimits) -> Result<(), EntryRefused> {
    if entry.size() > limits.max_entry_bytes {
        return Err(entry_too_large(limits));
    }
    if entry.size() > ArchiveLimits::RATIO_CHECK_FLOOR
        && entry.size() / entry.compressed_size().max(1) > limits.max_compression_ratio
    {
        return Err(EntryRefused::CompressionRatio {
            max_ratio: limits.max_compression_ratio,
        });
    }
    Ok(())
}

fn entry_too_large(limits: &ArchiveLimits) -> EntryRefused {
    EntryRefused::TooLarge {
        max_entry_bytes: limits.max_entry_bytes,
    }
}

fn total_too_large(limits: &ArchiveLimits) -> PackageError {
    PackageError::package(format!(
        "the package unpacks to more than {} bytes",
        limits.max_total_bytes
    ))
}

fn unpack(
    zip: &mut ZipArchive<File>,
    entries: &[Entry],
    dest: &Path,
    limits: &ArchiveLimits,
) -> Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    let mut total: u64 = 0;
    for entry in entries {
        let target = dest.join(&entry.name);
        if entry.is_dir {
            create_dirs(dest, &target, &entry.name)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            create_dirs(dest, parent, &entry.name)?;
        }
        let mut source = zip.by_index(entry.index).map_err(|e| {
            PackageError::in_file(&entry.name, format!("the entry cannot be decompressed: {e}"))
        })?;
        let declared = source.size();
        let out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| conflict_or_io(e, &entry.name))?;
        let budget = limits.max_entry_bytes.min(limits.max_total_bytes - total);
        let written = copy_bounded(&mut source, out, budget).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::Other => {
                PackageError::in_file(&entry.name, format!("the entry cannot be decompressed: {e}"))
            }
            _ => PackageError::Storage(e),
        })?;
        let Some(written) = written else {
            return Err(if budget < limits.max_entry_bytes {
                total_too_large(limits)
            } else {
                refused(&entry.name, entry_too_large(limits))
            });
        };
        if written != declared {
            return Err(PackageError::in_file(
                &entry.name,
                format!("the entry declares {declared} bytes but holds {written}"),
            ));
        }
        total += written;
        files.insert(entry.name.clone());
    }
    Ok(files)
}

fn create_dirs(dest: &Path, dir: &Path, name: &str) -> Result<()> {
    debug_assert!(dir.starts_with(dest));
    fs::create_dir_all(dir).map_err(|e| conflict_or_io(e, name))
}

/// A file where a directory should be (or the reverse) is the package's fault.
fn conflict_or_io(e: io::Error, name: &str) -> PackageError {
    match e.kind() {
        io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => {
            PackageError::in_file(name, "the path is both a file and a directory in the package")
        }
        _ => PackageError::Storage(e),
    }
}

/// Copies at most `budget` bytes; `None` if the source holds more.
fn copy_bounded(source: &mut impl Read, mut out: File, budget: u64) -> io::Result<Option<u64>> {
    let mut limited = source.take(budget.saturating_add(1));
    let written = io::copy(&mut limited, &mut out)?;
    if written > budget {
        return Ok(None);
    }
    out.flush()?;
    Ok(Some(written))
}

/// Removes a half-written directory unless told to keep it.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}
