//! tacker.conf: the options tacker-rs understands, with Tacker's names and defaults.
//!
//! Unknown options are collected (not fatal) so an existing Tacker configuration still
//! starts; a bad value of a known option stops start-up with a message naming it.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::connection_options::ConnectionOptions;
use crate::database_options::DatabaseOptions;
use crate::ini::IniFiles;
use crate::keystone_options::KeystoneAuthtokenOptions;
use crate::lcm_options::LcmOptions;
use crate::package_options::VnfPackageOptions;
use crate::paste::PasteError;
use crate::prometheus_options::PrometheusPluginOptions;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot parse configuration file {path}: {reason}")]
    Parse {
        path: PathBuf,
        #[source]
        reason: ParseError,
    },
    #[error("invalid value {value:?} for option [{section}] {option}: {reason}")]
    Invalid {
        section: String,
        option: String,
        value: String,
        reason: String,
    },
}

/// Why the text of a configuration (or api-paste.ini) file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Ini(#[from] ini::ParseError),
    #[error("option found before the first [section] header")]
    OptionBeforeSection,
    #[error(transparent)]
    Paste(#[from] PasteError),
}

/// The rule a value breaks ("must be a boolean (true/false)"), shown after the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueRule(pub &'static str);

impl ConfigError {
    pub fn invalid(section: &str, option: &str, value: &str, reason: &str) -> Self {
        ConfigError::Invalid {
            section: section.into(),
            option: option.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// Which key of each api-paste composite (`noauth` or `keystone`) builds the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStrategy {
    Keystone,
    NoAuth,
}

impl AuthStrategy {
    /// The key used in api-paste.ini composites.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStrategy::Keystone => "keystone",
            AuthStrategy::NoAuth => "noauth",
        }
    }
}

impl FromStr for AuthStrategy {
    type Err = ValueRule;
    fn from_str(s: &str) -> Result<Self, ValueRule> {
        match s {
            "keystone" => Ok(AuthStrategy::Keystone),
            "noauth" => Ok(AuthStrategy::NoAuth),
            _ => Err(ValueRule("must be 'keystone' or 'noauth'")),
        }
    }
}

/// The typed configuration of every tacker-rs process.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[DEFAULT] bind_host`
    pub bind_host: String,
    /// `[DEFAULT] bind_port`
    pub bind_port: u16,
    /// `[DEFAULT] api_paste_config`, resolved against the configuration files' folders.
    pub api_paste_config: PathBuf,
    /// `[DEFAULT] auth_strategy`
    pub auth_strategy: AuthStrategy,
    /// `[DEFAULT] state_path`: the data folder (SQLite file by default).
    pub state_path: PathBuf,
    /// `[vnf_package]`: package storage and limits.
    pub vnf_package: VnfPackageOptions,
    /// `[v2_vnfm]` and `[conductor]`: lifecycle, notifications, conductor claims.
    pub lcm: LcmOptions,
    /// `[prometheus_plugin]`: Tacker's Prometheus receivers.
    pub prometheus_plugin: PrometheusPluginOptions,
    /// `[k8s_vim] validate_on_register` (tacker-rs): check a Kubernetes VIM against its
    /// cluster (credentials, namespaces) when it is registered or its credentials change.
    pub k8s_validate_on_register: bool,
    /// `[DEFAULT] debug`
    pub debug: bool,
    /// `[DEFAULT] use_json` (oslo.log): log one JSON object per line.
    pub use_json: bool,
    /// `[DEFAULT]` timeouts and limits of client connections.
    pub connections: ConnectionOptions,
    /// `[database] connection`, an oslo.db (SQLAlchemy) URL.
    pub database_connection: String,
    /// `[database]`: the connection and the pool's size and wait.
    pub database: DatabaseOptions,
    /// `[vim_keys] openstack`: the folder of per-VIM fernet key files.
    pub vim_key_dir: PathBuf,
    /// `[vim_keys] default_secret_key`: a shared key file name used instead of per-VIM files.
    pub vim_default_secret_key: Option<String>,
    /// `[nfvo_vim] vim_drivers`: the VIM types that may be registered.
    pub vim_drivers: Vec<String>,
    /// `[oslo_middleware] max_request_body_size`: the largest request body accepted, in bytes.
    pub max_request_body_size: usize,
    /// `[DEFAULT] use_ssl` and the files: HTTPS when set.
    pub ssl: Option<SslOptions>,
    /// `[DEFAULT] public_endpoint`: the base URL clients reach the API at (a proxy's),
    /// without a trailing `/`, for absolute links and `Location`; unset, links are built
    /// from the request's scheme and `Host`.
    pub public_endpoint: Option<String>,
    /// `[oslo_policy] policy_file`, resolved against the configuration files' folders; a
    /// missing file means Tacker's default rules only.
    pub policy_file: PathBuf,
    /// `[ext_oauth2_auth]`
    pub ext_oauth2: ExtOAuth2Options,
    /// `[keystone_authtoken]`: Keystone token validation (the `authtoken` filter).
    pub keystone_authtoken: KeystoneAuthtokenOptions,
    /// Options present in the files that tacker-rs does not use, as `[section] option`.
    pub ignored_options: Vec<String>,
}

/// HTTPS for the API: `[DEFAULT] use_ssl = true` with these files.
#[derive(Debug, Clone)]
pub struct SslOptions {
    /// `ssl_cert_file`: the server certificate chain (PEM).
    pub cert_file: PathBuf,
    /// `ssl_key_file`: its private key (PEM).
    pub key_file: PathBuf,
    /// `ssl_ca_file`: the CA that client certificates must chain to.
    pub client_ca_file: Option<PathBuf>,
    /// `ssl_client_cert_required` (tacker-rs): with a client CA, whether a client must
    /// present a certificate (Tacker: always) or may connect without one.
    pub client_cert_required: bool,
    /// `ssl_reload_interval` (tacker-rs): seconds between checks of the files for renewal.
    pub reload_interval: u64,
}

/// `[ext_oauth2_auth]`: keystonemiddleware's external_oauth2_token options (inbound token
/// introspection) plus Tacker's outbound ones. Empty values count as unset, as there.
#[derive(Debug, Clone, Default)]
pub struct ExtOAuth2Options {
    /// Tacker's switch for its own outbound tokens.
    pub use_ext_oauth2_auth: bool,
    /// Outbound: the token endpoint for client-credentials tokens.
    pub token_endpoint: Option<String>,
    /// Outbound: the scope to ask for.
    pub scope: Option<String>,
    pub introspect_endpoint: Option<String>,
    pub audience: Option<String>,
    /// client_secret_basic (default), client_secret_post, tls_client_auth, private_key_jwt, client_secret_jwt.
    pub auth_method: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    pub cafile: Option<PathBuf>,
    pub insecure: bool,
    /// Seconds; tacker-rs bounds the introspection call even when unset (10 s).
    pub http_connect_timeout: Option<u64>,
    pub thumbprint_verify: bool,
    pub jwt_key_file: Option<PathBuf>,
    pub jwt_algorithm: Option<String>,
    pub jwt_bearer_time_out: u64,
    pub mapping_project_id: Option<String>,
    pub mapping_project_name: Option<String>,
    pub mapping_project_domain_id: Option<String>,
    pub mapping_project_domain_name: Option<String>,
    pub mapping_user_id: String,
    pub mapping_user_name: String,
    pub mapping_user_domain_id: Option<String>,
    pub mapping_user_domain_name: Option<String>,
    pub mapping_roles: Option<String>,
    pub mapping_system_scope: Option<String>,
    pub mapping_expires_at: Option<String>,
    /// Seconds an introspection result is reused (never past the token's `exp`); -1 or 0 disables.
    pub token_cache_time: i64,
    /// tacker-rs: the most tokens the cache holds.
    pub token_cache_size: u64,
}

impl ExtOAuth2Options {
    fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        const S: &str = "ext_oauth2_auth";
        let text = |option: &str| -> Result<Option<String>, ConfigError> {
            Ok(files.get(S, option)?.filter(|v| !v.trim().is_empty()))
        };
        let path =
            |option: &str| -> Result<Option<PathBuf>, ConfigError> { Ok(text(option)?.map(PathBuf::from)) };
        let auth_method = string(files, S, "auth_method", "client_secret_basic")?;
        const METHODS: &[&str] = &[
            "client_secret_basic",
            "client_secret_post",
            "tls_client_auth",
            "private_key_jwt",
            "client_secret_jwt",
        ];
        if !METHODS.contains(&auth_method.as_str()) {
            return Err(ConfigError::invalid(
                S,
                "auth_method",
                &auth_method,
                &format!("must be one of {}", METHODS.join(", ")),
            ));
        }
        let seconds = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| ValueRule("must be a whole number of seconds"))
        };
        Ok(ExtOAuth2Options {
            use_ext_oauth2_auth: parsed(files, S, "use_ext_oauth2_auth", false, parse_bool)?,
            token_endpoint: text("token_endpoint")?,
            scope: text("scope")?,
            introspect_endpoint: text("introspect_endpoint")?,
            audience: text("audience")?,
            auth_method,
            client_id: text("client_id")?,
            client_secret: text("client_secret")?,
            certfile: path("certfile")?,
            keyfile: path("keyfile")?,
            cafile: path("cafile")?,
            insecure: parsed(files, S, "insecure", false, parse_bool)?,
            http_connect_timeout: match text("http_connect_timeout")? {
                Some(v) => {
                    Some(seconds(&v).map_err(|r| ConfigError::invalid(S, "http_connect_timeout", &v, r.0))?)
                }
                None => None,
            },
            thumbprint_verify: parsed(files, S, "thumbprint_verify", false, parse_bool)?,
            jwt_key_file: path("jwt_key_file")?,
            jwt_algorithm: text("jwt_algorithm")?,
            jwt_bearer_time_out: parsed(files, S, "jwt_bearer_time_out", 3600, seconds)?,
            mapping_project_id: text("mapping_project_id")?,
            mapping_project_name: text("mapping_project_name")?,
            mapping_project_domain_id: text("mapping_project_domain_id")?,
            mapping_project_domain_name: text("mapping_project_domain_name")?,
            mapping_user_id: text("mapping_user_id")?.unwrap_or_else(|| "client_id".into()),
            mapping_user_name: text("mapping_user_name")?.unwrap_or_else(|| "username".into()),
            mapping_user_domain_id: text("mapping_user_domain_id")?,
            mapping_user_domain_name: text("mapping_user_domain_name")?,
            mapping_roles: text("mapping_roles")?,
            mapping_system_scope: text("mapping_system_scope")?,
            mapping_expires_at: text("mapping_expires_at")?,
            token_cache_time: parsed(files, S, "token_cache_time", 300, |s| {
                s.parse::<i64>()
                    .map_err(|_| ValueRule("must be a number of seconds"))
            })?,
            token_cache_size: parsed(files, S, "token_cache_size", 10_000, |s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ValueRule("must be a positive number"))
            })?,
        })
    }
}

impl Config {
    /// Loads and merges the files in order (later files win).
    pub fn load(paths: &[PathBuf]) -> Result<Self, ConfigError> {
        let files = IniFiles::load(paths)?;
        Self::from_ini(&files)
    }

    /// Builds the configuration from already-read INI content.
    pub fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        let state_path = PathBuf::from(string(files, "DEFAULT", "state_path", "/var/lib/tacker")?);
        let database = DatabaseOptions::from_ini(files, &state_path)?;
        let database_connection = database.connection.clone();
        // Barbican is not available to tacker-rs; an operator who asks for it must be told.
        if parsed::<bool>(files, "vim_keys", "use_barbican", false, parse_bool)? {
            return Err(ConfigError::invalid(
                "vim_keys",
                "use_barbican",
                "true",
                "Barbican is not supported; VIM keys are kept in the [vim_keys] openstack folder",
            ));
        }
        // Tacker defaults [k8s_vim] use_barbican to true; reading it keeps such files quiet,
        // and Kubernetes VIM keys use the same key folder.
        parsed::<bool>(files, "k8s_vim", "use_barbican", true, parse_bool)?;

        let vim_drivers: Vec<String> = string(files, "nfvo_vim", "vim_drivers", "openstack,kubernetes")?
            .split(',')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect();
        for driver in &vim_drivers {
            if driver != "openstack" && driver != "kubernetes" {
                return Err(ConfigError::invalid(
                    "nfvo_vim",
                    "vim_drivers",
                    driver,
                    "known VIM drivers are 'openstack' and 'kubernetes'",
                ));
            }
        }

        let config = Config {
            bind_host: string(files, "DEFAULT", "bind_host", "0.0.0.0")?,
            bind_port: parsed(files, "DEFAULT", "bind_port", 9890, |s| {
                s.parse::<u16>()
                    .map_err(|_| ValueRule("must be a port number (0-65535)"))
            })?,
            api_paste_config: resolve_near_config(
                files.files(),
                &string(files, "DEFAULT", "api_paste_config", "api-paste.ini")?,
            ),
            auth_strategy: parsed(
                files,
                "DEFAULT",
                "auth_strategy",
                AuthStrategy::Keystone,
                str::parse,
            )?,
            debug: parsed(files, "DEFAULT", "debug", false, parse_bool)?,
            use_json: parsed(files, "DEFAULT", "use_json", false, parse_bool)?,
            connections: ConnectionOptions::from_ini(files)?,
            database_connection,
            database,
            vim_key_dir: PathBuf::from(string(
                files,
                "vim_keys",
                "openstack",
                "/etc/tacker/vim/fernet_keys",
            )?),
            vim_default_secret_key: files
                .get("vim_keys", "default_secret_key")?
                .filter(|s| !s.is_empty()),
            vim_drivers,
            max_request_body_size: parsed(files, "oslo_middleware", "max_request_body_size", 114_688, |s| {
                s.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ValueRule("must be a positive number of bytes"))
            })?,
            policy_file: resolve_near_config(
                files.files(),
                &string(files, "oslo_policy", "policy_file", "policy.yaml")?,
            ),
            ext_oauth2: ExtOAuth2Options::from_ini(files)?,
            keystone_authtoken: KeystoneAuthtokenOptions::from_ini(files)?,
            ssl: ssl_options(files)?,
            public_endpoint: public_endpoint(files)?,
            vnf_package: VnfPackageOptions::from_ini(files, &state_path)?,
            lcm: LcmOptions::from_ini(files)?,
            prometheus_plugin: PrometheusPluginOptions::from_ini(files)?,
            k8s_validate_on_register: parsed(files, "k8s_vim", "validate_on_register", true, parse_bool)?,
            state_path,
            ignored_options: Vec::new(),
        };
        Ok(Config {
            ignored_options: files.unread(),
            ..config
        })
    }
}

fn public_endpoint(files: &IniFiles) -> Result<Option<String>, ConfigError> {
    let Some(value) = files
        .get("DEFAULT", "public_endpoint")?
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let value = value.trim();
    let host = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && !value.contains(['?', '#', ' ']) => {
            Ok(Some(value.trim_end_matches('/').to_owned()))
        }
        _ => Err(ConfigError::invalid(
            "DEFAULT",
            "public_endpoint",
            value,
            "must be an http:// or https:// URL",
        )),
    }
}

fn ssl_options(files: &IniFiles) -> Result<Option<SslOptions>, ConfigError> {
    const D: &str = "DEFAULT";
    let path = |option: &str| -> Result<Option<PathBuf>, ConfigError> {
        Ok(files
            .get(D, option)?
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from))
    };
    let use_ssl = parsed(files, D, "use_ssl", false, parse_bool)?;
    let cert_file = path("ssl_cert_file")?;
    let key_file = path("ssl_key_file")?;
    let client_ca_file = path("ssl_ca_file")?;
    let client_cert_required = parsed(files, D, "ssl_client_cert_required", true, parse_bool)?;
    let reload_interval = parsed(files, D, "ssl_reload_interval", 5, |s| {
        s.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ValueRule("must be a positive number of seconds"))
    })?;
    if !use_ssl {
        return Ok(None);
    }
    let cert_file = cert_file
        .ok_or_else(|| ConfigError::invalid(D, "ssl_cert_file", "", "is required with use_ssl = true"))?;
    // Tacker allows the key inside the certificate file.
    let key_file = key_file.unwrap_or_else(|| cert_file.clone());
    Ok(Some(SslOptions {
        cert_file,
        key_file,
        client_ca_file,
        client_cert_required,
        reload_interval,
    }))
}

pub(crate) fn string(
    files: &IniFiles,
    section: &str,
    option: &str,
    default: &str,
) -> Result<String, ConfigError> {
    Ok(files.get(section, option)?.unwrap_or_else(|| default.to_string()))
}

pub(crate) fn parsed<T>(
    files: &IniFiles,
    section: &str,
    option: &str,
    default: T,
    parse: impl Fn(&str) -> Result<T, ValueRule>,
) -> Result<T, ConfigError> {
    match files.get(section, option)? {
        None => Ok(default),
        Some(raw) => parse(&raw).map_err(|rule| ConfigError::invalid(section, option, &raw, rule.0)),
    }
}

/// oslo.config's boolean spellings.
pub fn parse_bool(s: &str) -> Result<bool, ValueRule> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(ValueRule("must be a boolean (true/false)")),
    }
}

/// Finds a relative file the way oslo.config's `find_file` does: beside the configuration
/// files (the last one first), then in the working directory.
fn resolve_near_config(config_files: &[PathBuf], name: &str) -> PathBuf {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    config_files
        .iter()
        .rev()
        .filter_map(|f| f.parent().map(|dir| dir.join(path)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<Config, ConfigError> {
        Config::from_ini(&IniFiles::parse_str(text).unwrap())
    }

    #[test]
    fn defaults_match_tacker() {
        let c = config("").unwrap();
        assert_eq!(c.bind_host, "0.0.0.0");
        assert_eq!(c.bind_port, 9890);
        assert_eq!(c.auth_strategy, AuthStrategy::Keystone);
        assert_eq!(c.vim_key_dir, PathBuf::from("/etc/tacker/vim/fernet_keys"));
        assert_eq!(c.database_connection, "sqlite:////var/lib/tacker/tacker.sqlite");
        assert_eq!(c.vim_drivers, vec!["openstack", "kubernetes"]);
    }

    #[test]
    fn public_endpoint_is_a_base_url_without_its_trailing_slash() {
        assert_eq!(config("").unwrap().public_endpoint, None);
        assert_eq!(
            config("[DEFAULT]\npublic_endpoint =\n").unwrap().public_endpoint,
            None
        );
        let c = config("[DEFAULT]\npublic_endpoint = https://nfvo.example:8443/tacker/\n").unwrap();
        assert_eq!(
            c.public_endpoint.as_deref(),
            Some("https://nfvo.example:8443/tacker")
        );
        assert!(c.ignored_options.is_empty(), "{:?}", c.ignored_options);
        let err = config("[DEFAULT]\npublic_endpoint = nfvo.example\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[DEFAULT] public_endpoint"), "{err}");
    }

    #[test]
    fn bad_values_name_the_option() {
        let err = config("[DEFAULT]\nbind_port = http\n").unwrap_err().to_string();
        assert!(err.contains("[DEFAULT] bind_port"), "{err}");
        let err = config("[DEFAULT]\nauth_strategy = magic\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[DEFAULT] auth_strategy"), "{err}");
        let err = config("[vim_keys]\nuse_barbican = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[vim_keys] use_barbican"), "{err}");
        let err = config("[nfvo_vim]\nvim_drivers = kubernetes,vmware\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("vmware"), "{err}");
    }

    #[test]
    fn unknown_options_are_collected_not_fatal() {
        let c = config(
            "[DEFAULT]\nbind_port = 1234\ntransport_url = rabbit://\n[oslo_messaging_notifications]\ndriver = x\n",
        )
        .unwrap();
        assert_eq!(c.bind_port, 1234);
        assert_eq!(
            c.ignored_options,
            vec![
                "[DEFAULT] transport_url".to_string(),
                "[oslo_messaging_notifications] driver".to_string()
            ]
        );
    }

    #[test]
    fn ext_oauth2_options_follow_keystonemiddleware() {
        let c = config("[ext_oauth2_auth]\nintrospect_endpoint = https://as/introspect\nclient_secret =\n")
            .unwrap();
        assert_eq!(c.ext_oauth2.auth_method, "client_secret_basic");
        assert_eq!(c.ext_oauth2.mapping_user_id, "client_id");
        assert_eq!(c.ext_oauth2.token_cache_time, 300);
        assert_eq!(c.ext_oauth2.client_secret, None, "empty counts as unset");
        let err = config("[ext_oauth2_auth]\nauth_method = magic\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[ext_oauth2_auth] auth_method"), "{err}");
    }

    #[test]
    fn state_path_feeds_database_default_and_interpolation() {
        let c = config("[DEFAULT]\nstate_path = /srv/t\n[vim_keys]\nopenstack = $state_path/keys\n").unwrap();
        assert_eq!(c.database_connection, "sqlite:////srv/t/tacker.sqlite");
        assert_eq!(c.vim_key_dir, PathBuf::from("/srv/t/keys"));
    }
}
