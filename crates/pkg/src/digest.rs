//! The hash algorithms packages use for artifacts and for the package checksum.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest, Sha256, Sha384, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    /// The name SOL004 and SOL005 use (`SHA-256`, ...).
    pub fn etsi_name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    pub fn hasher(self) -> Hasher {
        match self {
            DigestAlgorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            DigestAlgorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            DigestAlgorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// The lowercase hex digest of everything `reader` yields.
    pub fn hex_digest(self, reader: &mut impl Read) -> io::Result<String> {
        let mut hasher = self.hasher();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(hasher.finish());
            }
            hasher.update(&buf[..n]);
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.etsi_name())
    }
}

/// A hash algorithm tacker-rs does not check digests with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported hash algorithm '{0}' (SHA-256, SHA-384 or SHA-512)")]
pub struct UnsupportedAlgorithm(pub String);

/// Accepts `SHA-256`, `sha256`, `SHA_512` and the like: packages in the wild spell it all ways.
impl FromStr for DigestAlgorithm {
    type Err = UnsupportedAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normal: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect::<String>()
            .to_ascii_uppercase();
        match normal.as_str() {
            "SHA256" => Ok(DigestAlgorithm::Sha256),
            "SHA384" => Ok(DigestAlgorithm::Sha384),
            "SHA512" => Ok(DigestAlgorithm::Sha512),
            _ => Err(UnsupportedAlgorithm(s.to_owned())),
        }
    }
}

/// A running digest, fed as bytes arrive (an upload, an archive entry).
pub enum Hasher {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The lowercase hex digest.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("{:x}", h.finalize()),
            Hasher::Sha384(h) => format!("{:x}", h.finalize()),
            Hasher::Sha512(h) => format!("{:x}", h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_in_any_spelling() {
        assert_eq!("SHA-256".parse(), Ok(DigestAlgorithm::Sha256));
        assert_eq!("sha512".parse(), Ok(DigestAlgorithm::Sha512));
        assert_eq!("Sha_384".parse(), Ok(DigestAlgorithm::Sha384));
        assert!("MD5".parse::<DigestAlgorithm>().is_err());
    }

    #[test]
    fn digests_match_known_values() {
        let digest = DigestAlgorithm::Sha256.hex_digest(&mut &b"abc"[..]).unwrap();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
