//! Building a zip of some of a package's files (the VNFD download).

use std::fs::File;
use std::io::{self, Cursor};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A zip (deflated) of `files`, paths relative to `root`, kept as they are in the package.
pub fn zip_files(root: &Path, files: &[String]) -> io::Result<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for name in files {
        zip.start_file(name.as_str(), options).map_err(io::Error::other)?;
        io::copy(&mut File::open(root.join(name))?, &mut zip)?;
    }
    Ok(zip.finish().map_err(io::Error::other)?.into_inner())
}
