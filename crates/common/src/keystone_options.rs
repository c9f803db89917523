//! `[keystone_authtoken]`: keystonemiddleware's auth_token options as Tacker's docs and
//! devstack write them (the service's own credentials for keystoneauth's `password`
//! plugin, where Keystone is, how tokens are cached), read into types only. Which ones
//! are required is decided by the auth filter, which names every missing one at once.

use std::path::PathBuf;

use crate::config::{parse_bool, parsed, ConfigError, ValueRule};
use crate::ini::IniFiles;

const SECTION: &str = "keystone_authtoken";

/// Options keystonemiddleware has that tacker-rs accepts without using: a shared
/// memcached (tacker-rs caches in process), Swift's cache, paste-only settings.
const ACCEPTED_UNUSED: &[&str] = &[
    "memcache_security_strategy",
    "memcache_secret_key",
    "memcache_tls_enabled",
    "memcache_tls_cafile",
    "memcache_tls_certfile",
    "memcache_tls_keyfile",
    "memcache_tls_allowed_ciphers",
    "memcache_pool_dead_retry",
    "memcache_pool_maxsize",
    "memcache_pool_socket_timeout",
    "memcache_pool_unused_timeout",
    "memcache_pool_conn_get_timeout",
    "memcache_use_advanced_pool",
    "memcache_sasl_enabled",
    "memcache_username",
    "memcache_password",
    "cache",
    "log_name",
    "include_service_catalog",
    "signing_dir",
    "auth_version",
];

/// `[keystone_authtoken]`. Empty values count as unset, as in keystonemiddleware.
#[derive(Clone, Default, PartialEq)]
pub struct KeystoneAuthtokenOptions {
    /// The public Identity endpoint clients are sent to (`WWW-Authenticate`); `auth_uri`
    /// is its deprecated name. Unset: `auth_url`.
    pub www_authenticate_uri: Option<String>,
    /// Where the service authenticates (keystoneauth's `auth_url`, versioned or not).
    pub auth_url: Option<String>,
    /// keystoneauth plugin: `password` (or `v3password`).
    pub auth_type: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    /// keystoneauth's fallback for the user's and project's domain.
    pub default_domain_id: Option<String>,
    pub default_domain_name: Option<String>,
    /// A domain scope for the service token instead of a project.
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    /// A system scope for the service token (`all`).
    pub system_scope: Option<String>,
    /// Which Identity endpoint of the catalogue validates tokens.
    pub region_name: Option<String>,
    /// `public`, `internal` (default) or `admin`.
    pub interface: String,
    pub cafile: Option<PathBuf>,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    pub insecure: bool,
    /// Seconds; tacker-rs bounds every call to Keystone even when unset.
    pub http_connect_timeout: Option<u64>,
    /// Connection attempts after the first one fails.
    pub http_request_max_retries: u32,
    /// A service token is one with any of these roles.
    pub service_token_roles: Vec<String>,
    /// Only tokens with a role from `service_token_roles` count as service tokens.
    pub service_token_roles_required: bool,
    /// Set by devstack; tacker-rs caches in process and says so once at start-up.
    pub memcached_servers: Option<String>,
    /// Seconds a validation is reused (never past the token's `expires_at`); -1 disables.
    pub token_cache_time: i64,
    /// tacker-rs: the most validations the cache holds.
    pub token_cache_size: u64,
    /// Pass requests without a valid token on, marked `X-Identity-Status: Invalid`.
    pub delay_auth_decision: bool,
    /// `disabled`, `permissive` (default), `strict`, `required` or a bind type.
    pub enforce_token_bind: String,
    /// This service's catalogue type, for application credentials with access rules.
    pub service_type: Option<String>,
    /// `auth_section`: keystoneauth's options in another section (not supported).
    pub auth_section: Option<String>,
}

/// Secrets stay out of logs and error messages.
impl std::fmt::Debug for KeystoneAuthtokenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneAuthtokenOptions")
            .field("www_authenticate_uri", &self.www_authenticate_uri)
            .field("auth_url", &self.auth_url)
            .field("auth_type", &self.auth_type)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("project_name", &self.project_name)
            .field("region_name", &self.region_name)
            .field("interface", &self.interface)
            .field("token_cache_time", &self.token_cache_time)
            .finish_non_exhaustive()
    }
}

impl KeystoneAuthtokenOptions {
    pub fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        for option in ACCEPTED_UNUSED {
            // Read only to be accepted; a value that cannot be read (it may be a secret,
            // so it is not shown) does not matter either.
            let _ = files.get(SECTION, option);
        }
        let text = |option: &str| -> Result<Option<String>, ConfigError> {
            // Only this section: these names mean other things in [DEFAULT].
            if files.section(SECTION).is_none_or(|s| !s.contains_key(option)) {
                return Ok(None);
            }
            Ok(files
                .get(SECTION, option)?
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()))
        };
        let path =
            |option: &str| -> Result<Option<PathBuf>, ConfigError> { Ok(text(option)?.map(PathBuf::from)) };
        // A password is never repeated in an error message.
        let secret = |option: &str| -> Result<Option<String>, ConfigError> {
            text(option).map_err(|_| {
                ConfigError::invalid(
                    SECTION,
                    option,
                    "***",
                    "refers to an unknown option with '$' (write '$$' for a '$')",
                )
            })
        };
        let interface = text("interface")?.unwrap_or_else(|| "internal".into());
        if !["public", "internal", "admin"].contains(&interface.as_str()) {
            return Err(ConfigError::invalid(
                SECTION,
                "interface",
                &interface,
                "must be public, internal or admin",
            ));
        }
        let enforce_token_bind = text("enforce_token_bind")?.unwrap_or_else(|| "permissive".into());
        let list = |option: &str, default: &[&str]| -> Result<Vec<String>, ConfigError> {
            Ok(match text(option)? {
                Some(v) => v
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => default.iter().map(|s| s.to_string()).collect(),
            })
        };
        let boolean = |option: &str, default: bool| -> Result<bool, ConfigError> {
            match text(option)? {
                None => Ok(default),
                Some(v) => parse_bool(&v).map_err(|r| ConfigError::invalid(SECTION, option, &v, r.0)),
            }
        };
        let http_connect_timeout = match text("http_connect_timeout")? {
            None => None,
            Some(v) => Some(v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ConfigError::invalid(
                    SECTION,
                    "http_connect_timeout",
                    &v,
                    "must be a positive number of seconds",
                )
            })?),
        };
        Ok(KeystoneAuthtokenOptions {
            www_authenticate_uri: text("www_authenticate_uri")?.or(text("auth_uri")?),
            auth_url: text("auth_url")?,
            auth_type: text("auth_type")?.or(text("auth_plugin")?),
            username: text("username")?.or(text("user_name")?),
            user_id: text("user_id")?,
            password: secret("password")?,
            user_domain_name: text("user_domain_name")?,
            user_domain_id: text("user_domain_id")?,
            project_name: text("project_name")?.or(text("tenant_name")?),
            project_id: text("project_id")?.or(text("tenant_id")?),
            project_domain_name: text("project_domain_name")?,
            project_domain_id: text("project_domain_id")?,
            default_domain_id: text("default_domain_id")?,
            default_domain_name: text("default_domain_name")?,
            domain_id: text("domain_id")?,
            domain_name: text("domain_name")?,
            system_scope: text("system_scope")?,
            region_name: text("region_name")?,
            interface,
            cafile: path("cafile")?,
            certfile: path("certfile")?,
            keyfile: path("keyfile")?,
            insecure: boolean("insecure", false)?,
            http_connect_timeout,
            http_request_max_retries: parsed(files, SECTION, "http_request_max_retries", 3, |s| {
                s.parse::<u32>()
                    .map_err(|_| ValueRule("must be a non-negative integer"))
            })?,
            service_token_roles: list("service_token_roles", &["service"])?,
            service_token_roles_required: boolean("service_token_roles_required", true)?,
            memcached_servers: text("memcached_servers")?.or(text("memcache_servers")?),
            token_cache_time: parsed(files, SECTION, "token_cache_time", 300, |s| {
                s.parse::<i64>()
                    .map_err(|_| ValueRule("must be a number of seconds"))
            })?,
            token_cache_size: parsed(files, SECTION, "token_cache_size", 10_000, |s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ValueRule("must be a positive number"))
            })?,
            delay_auth_decision: boolean("delay_auth_decision", false)?,
            enforce_token_bind,
            service_type: text("service_type")?,
            auth_section: text("auth_section")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Result<KeystoneAuthtokenOptions, ConfigError> {
        KeystoneAuthtokenOptions::from_ini(&IniFiles::parse_str(text).unwrap())
    }

    #[test]
    fn devstack_keystone_authtoken_section() {
        let files = IniFiles::parse_str(
            "[DEFAULT]\nregion_name = ignored\n[keystone_authtoken]\nmemcached_servers = localhost:11211\n\
             cafile = /opt/stack/data/ca-bundle.pem\nproject_domain_name = Default\nproject_name = service\n\
             user_domain_name = Default\npassword = secretservice\nusername = tacker\n\
             auth_url = http://10.0.0.5/identity\ninterface = public\nauth_type = password\n\
             www_authenticate_uri = http://10.0.0.5/identity\nmemcache_pool_maxsize = 10\n",
        )
        .unwrap();
        let o = KeystoneAuthtokenOptions::from_ini(&files).unwrap();
        assert_eq!(o.auth_url.as_deref(), Some("http://10.0.0.5/identity"));
        assert_eq!(o.auth_type.as_deref(), Some("password"));
        assert_eq!(o.interface, "public");
        assert_eq!(o.region_name, None, "[DEFAULT] does not leak into the section");
        assert_eq!(o.memcached_servers.as_deref(), Some("localhost:11211"));
        assert_eq!(o.token_cache_time, 300);
        assert_eq!(o.service_token_roles, vec!["service"]);
        assert!(o.service_token_roles_required);
        assert!(!o.delay_auth_decision);
        let unread = files.unread();
        assert!(
            !unread.iter().any(|u| u.starts_with("[keystone_authtoken]")),
            "{unread:?}"
        );
        assert!(!format!("{o:?}").contains("secretservice"));
    }

    #[test]
    fn a_bad_password_is_not_repeated() {
        let err = options("[keystone_authtoken]\npassword = pa$word\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[keystone_authtoken] password"), "{err}");
        assert!(!err.contains("pa$word") && !err.contains("\"pa"), "{err}");
        let o = options("[keystone_authtoken]\npassword = pa$$word\n").unwrap();
        assert_eq!(o.password.as_deref(), Some("pa$word"));
    }

    #[test]
    fn bad_values_name_the_option() {
        let err = options("[keystone_authtoken]\ninterface = private\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[keystone_authtoken] interface"), "{err}");
        let err = options("[keystone_authtoken]\ndelay_auth_decision = maybe\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[keystone_authtoken] delay_auth_decision"), "{err}");
        let err = options("[keystone_authtoken]\ntoken_cache_size = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("token_cache_size"), "{err}");
        let o = options("[keystone_authtoken]\nauth_uri = http://ks\nservice_token_roles = service, admin\n")
            .unwrap();
        assert_eq!(o.www_authenticate_uri.as_deref(), Some("http://ks"));
        assert_eq!(o.service_token_roles, vec!["service", "admin"]);
    }
}
