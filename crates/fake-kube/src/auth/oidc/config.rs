//! The `--oidc-*` flags of kube-apiserver and the rules it applies to them.

use std::path::Path;
use std::time::Duration;

use crate::error::Error;

/// The algorithms `--oidc-signing-algs` accepts (never HS* or `none`). ES512 is valid for
/// kube-apiserver but not supported by this fake's JWT library.
const ALLOWED_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512",
];

/// OIDC authentication, one field per kube-apiserver flag.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// `--oidc-issuer-url`: https only; must equal the token's `iss` byte for byte.
    pub issuer_url: String,
    /// `--oidc-client-id`: must be in the token's `aud`.
    pub client_id: String,
    /// `--oidc-username-claim` (default `sub`).
    pub username_claim: String,
    /// `--oidc-username-prefix`: `None` means the default (`<issuer>#` unless the claim is
    /// `email`), `"-"` means no prefix.
    pub username_prefix: Option<String>,
    /// `--oidc-groups-claim`.
    pub groups_claim: Option<String>,
    /// `--oidc-groups-prefix`.
    pub groups_prefix: Option<String>,
    /// `--oidc-required-claim key=value`, repeatable.
    pub required_claims: Vec<(String, String)>,
    /// `--oidc-ca-file` content: the CA of the issuer's TLS certificate (host roots if none).
    pub ca_pem: Option<String>,
    /// `--oidc-signing-algs` (default `RS256`).
    pub signing_algs: Vec<String>,
    /// How often discovery is retried until it succeeds (kube-apiserver: about 10 s).
    pub retry_interval: Duration,
    /// The clock-skew leeway for `nbf` (go-oidc: 5 minutes). `exp` has none.
    pub nbf_leeway: Duration,
}

impl OidcConfig {
    pub fn new(issuer_url: &str, client_id: &str) -> Self {
        OidcConfig {
            issuer_url: issuer_url.to_string(),
            client_id: client_id.to_string(),
            username_claim: "sub".to_string(),
            username_prefix: None,
            groups_claim: None,
            groups_prefix: None,
            required_claims: Vec::new(),
            ca_pem: None,
            signing_algs: vec!["RS256".to_string()],
            retry_interval: Duration::from_secs(10),
            nbf_leeway: Duration::from_secs(300),
        }
    }

    pub fn username_claim(mut self, claim: &str) -> Self {
        self.username_claim = claim.to_string();
        self
    }

    pub fn username_prefix(mut self, prefix: &str) -> Self {
        self.username_prefix = Some(prefix.to_string());
        self
    }

    pub fn groups_claim(mut self, claim: &str) -> Self {
        self.groups_claim = Some(claim.to_string());
        self
    }

    pub fn groups_prefix(mut self, prefix: &str) -> Self {
        self.groups_prefix = Some(prefix.to_string());
        self
    }

    pub fn required_claim(mut self, key: &str, value: &str) -> Self {
        self.required_claims.push((key.to_string(), value.to_string()));
        self
    }

    pub fn ca_pem(mut self, pem: &str) -> Self {
        self.ca_pem = Some(pem.to_string());
        self
    }

    /// Reads `--oidc-ca-file`.
    pub fn ca_file(self, path: &Path) -> Result<Self, Error> {
        let pem = std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(self.ca_pem(&pem))
    }

    pub fn signing_algs<I, S>(mut self, algs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.signing_algs = algs.into_iter().map(Into::into).collect();
        self
    }

    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The checks kube-apiserver makes on its flags at start.
    pub fn validate(&self) -> Result<(), Error> {
        let url = reqwest::Url::parse(&self.issuer_url)
            .map_err(|e| Error::Config(format!("--oidc-issuer-url: {e}")))?;
        if url.scheme() != "https" {
            return Err(Error::Config(format!(
                "--oidc-issuer-url ({}) must use https scheme",
                self.issuer_url
            )));
        }
        if self.client_id.is_empty() {
            return Err(Error::Config(
                "--oidc-client-id must be set when --oidc-issuer-url is".into(),
            ));
        }
        if self.username_claim.is_empty() {
            return Err(Error::Config("--oidc-username-claim must not be empty".into()));
        }
        if self.signing_algs.is_empty() {
            return Err(Error::Config("--oidc-signing-algs must not be empty".into()));
        }
        for alg in &self.signing_algs {
            if !ALLOWED_ALGS.contains(&alg.as_str()) {
                return Err(Error::Config(format!(
                    "oidc: unsupported signing alg {alg:?} (allowed: {ALLOWED_ALGS:?})"
                )));
            }
        }
        Ok(())
    }

    /// The prefix put before every username.
    pub fn effective_username_prefix(&self) -> String {
        match self.username_prefix.as_deref() {
            Some("-") => String::new(),
            Some(prefix) => prefix.to_string(),
            None if self.username_claim == "email" => String::new(),
            None => format!("{}#", self.issuer_url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_rules() {
        let issuer = "https://idp.example/realms/oidc";
        assert!(OidcConfig::new("http://idp.example", "c").validate().is_err());
        assert!(OidcConfig::new(issuer, "").validate().is_err());
        assert!(OidcConfig::new(issuer, "c")
            .signing_algs(["HS256"])
            .validate()
            .is_err());
        assert!(OidcConfig::new(issuer, "c")
            .signing_algs(["none"])
            .validate()
            .is_err());
        assert!(OidcConfig::new(issuer, "c").validate().is_ok());
        assert_eq!(
            OidcConfig::new(issuer, "c").effective_username_prefix(),
            format!("{issuer}#")
        );
        assert_eq!(
            OidcConfig::new(issuer, "c")
                .username_claim("email")
                .effective_username_prefix(),
            ""
        );
        assert_eq!(
            OidcConfig::new(issuer, "c")
                .username_prefix("-")
                .effective_username_prefix(),
            ""
        );
        assert_eq!(
            OidcConfig::new(issuer, "c")
                .username_prefix("oidc:")
                .effective_username_prefix(),
            "oidc:"
        );
    }
}
