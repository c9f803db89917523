//! `tacker-manage ca`: a development PKI for HTTPS with client certificates, replacing
//! the openssl command sequence operators follow today. A server CA signs the API's
//! certificate; a separate client CA signs client certificates (as Octavia keeps its
//! amphora client CA apart). Keys are written with mode 0600.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A CA loaded from or written to `<dir>/<name>.pem` and `<dir>/<name>.key`.
struct Authority {
    cert: Certificate,
    key: KeyPair,
}

fn write(path: &Path, content: &str, private: bool) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    // Renamed into place, so a server watching the file never reads half of it.
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Valid from a minute ago (clock skew) for `days` days.
fn validity(params: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = now + time::Duration::days(i64::from(days));
}

impl Authority {
    fn create(common_name: &str, days: u32) -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut params, days);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Authority { cert, key })
    }

    fn save(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        write(&dir.join(format!("{name}.pem")), &self.cert.pem(), false)?;
        write(&dir.join(format!("{name}.key")), &self.key.serialize_pem(), true)
    }

    fn load(dir: &Path, name: &str) -> anyhow::Result<Self> {
        let read = |ext: &str| {
            let path = dir.join(format!("{name}.{ext}"));
            std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {} (run `tacker-manage ca init` first)",
                    path.display()
                )
            })
        };
        let key = KeyPair::from_pem(&read("key")?)?;
        let params = CertificateParams::from_ca_cert_pem(&read("pem")?)?;
        let cert = params.self_signed(&key)?;
        Ok(Authority { cert, key })
    }

    fn issue(&self, params: CertificateParams) -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

fn server_params(sans: &[String], days: u32) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    for san in sans {
        params
            .subject_alt_names
            .push(match san.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(san.clone().try_into()?),
            });
    }
    params.distinguished_name.push(
        DnType::CommonName,
        sans.first().cloned().unwrap_or_else(|| "tacker".into()),
    );
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params, days);
    Ok(params)
}

fn client_params(name: &str, days: u32) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    validity(&mut params, days);
    Ok(params)
}

/// What `init` wrote, for the message to the operator.
pub struct Written {
    pub files: Vec<PathBuf>,
}

/// Creates both CAs, the server certificate and the named client certificates.
pub fn init(dir: &Path, sans: &[String], clients: &[String], days: u32) -> anyhow::Result<Written> {
    if dir.join("server-ca.key").exists() || dir.join("client-ca.key").exists() {
        bail!(
            "{} already holds a CA; use `ca issue-server` / `ca issue-client` to add certificates",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let server_ca = Authority::create("tacker-rs server CA", days * 4)?;
    let client_ca = Authority::create("tacker-rs client CA", days * 4)?;
    server_ca.save(dir, "server-ca")?;
    client_ca.save(dir, "client-ca")?;
    let mut files = vec![dir.join("server-ca.pem"), dir.join("client-ca.pem")];
    files.extend(issue_server(dir, sans, days)?);
    for client in clients {
        files.extend(issue_client(dir, client, days)?);
    }
    Ok(Written { files })
}

/// The `[DEFAULT]` lines of tacker.conf that serve HTTPS with the server certificate in
/// `dir` and require client certificates from its client CA, with absolute paths (the
/// server does not run from the folder this command ran in), ready to paste.
pub fn tacker_conf_lines(dir: &Path) -> anyhow::Result<String> {
    let dir = dir
        .canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let file = |name: &str| dir.join(name).display().to_string();
    Ok(format!(
        "[DEFAULT]\nuse_ssl = true\nssl_cert_file = {}\nssl_key_file = {}\nssl_ca_file = {}\n",
        file("server.pem"),
        file("server.key"),
        file("client-ca.pem"),
    ))
}

/// (Re)issues the server certificate and key from the server CA (a renewal).
pub fn issue_server(dir: &Path, sans: &[String], days: u32) -> anyhow::Result<Vec<PathBuf>> {
    let ca = Authority::load(dir, "server-ca")?;
    let (cert, key) = ca.issue(server_params(sans, days)?)?;
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    // Key first: a watcher that sees only the new certificate refuses the mismatched pair.
    write(&key_path, &key, true)?;
    write(&cert_path, &cert, false)?;
    Ok(vec![cert_path, key_path])
}

/// Issues a client certificate `client-<name>.pem` / `.key` from the client CA.
pub fn issue_client(dir: &Path, name: &str, days: u32) -> anyhow::Result<Vec<PathBuf>> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("client name {name:?} must be letters, digits, '-', '_' or '.'");
    }
    let ca = Authority::load(dir, "client-ca")?;
    let (cert, key) = ca.issue(client_params(name, days)?)?;
    let (cert_path, key_path) = (
        dir.join(format!("client-{name}.pem")),
        dir.join(format!("client-{name}.key")),
    );
    write(&key_path, &key, true)?;
    write(&cert_path, &cert, false)?;
    Ok(vec![cert_path, key_path])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_printed_lines_configure_https_with_the_written_files() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        init(&pki, &["localhost".into()], &[], 30).unwrap();
        // A path with `..` in it still prints the folder itself.
        let lines = tacker_conf_lines(&pki.join("..").join("pki")).unwrap();
        assert!(lines.starts_with("[DEFAULT]\nuse_ssl = true\n"), "{lines}");
        let conf = dir.path().join("tacker.conf");
        std::fs::write(&conf, &lines).unwrap();
        let ssl = tacker_common::Config::load(&[conf]).unwrap().ssl.unwrap();
        let pki = pki.canonicalize().unwrap();
        assert_eq!(ssl.cert_file, pki.join("server.pem"));
        assert_eq!(ssl.key_file, pki.join("server.key"));
        assert_eq!(ssl.client_ca_file, Some(pki.join("client-ca.pem")));
        for file in [&ssl.cert_file, &ssl.key_file] {
            assert!(file.is_absolute() && file.is_file(), "{}", file.display());
        }
    }
}
