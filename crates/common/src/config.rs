//! tacker.conf: the options tacker-rs understands, with Tacker's names and defaults.
//!
//! Unknown options are collected (not fatal) so an existing Tacker configuration still
//! starts; a bad value of a known option stops start-up with a message naming it.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::ini::IniFiles;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot parse configuration file {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("invalid value {value:?} for option [{section}] {option}: {reason}")]
    Invalid {
        section: String,
        option: String,
        value: String,
        reason: String,
    },
}

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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "keystone" => Ok(AuthStrategy::Keystone),
            "noauth" => Ok(AuthStrategy::NoAuth),
            _ => Err("must be 'keystone' or 'noauth'".into()),
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
    /// `[DEFAULT] debug`
    pub debug: bool,
    /// `[database] connection`, an oslo.db (SQLAlchemy) URL.
    pub database_connection: String,
    /// `[vim_keys] openstack`: the folder of per-VIM fernet key files.
    pub vim_key_dir: PathBuf,
    /// `[vim_keys] default_secret_key`: a shared key file name used instead of per-VIM files.
    pub vim_default_secret_key: Option<String>,
    /// `[nfvo_vim] vim_drivers`: the VIM types that may be registered.
    pub vim_drivers: Vec<String>,
    /// `[oslo_middleware] max_request_body_size`: the largest request body accepted, in bytes.
    pub max_request_body_size: usize,
    /// Options present in the files that tacker-rs does not use, as `[section] option`.
    pub ignored_options: Vec<String>,
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
        let database_connection = match files.get("database", "connection")? {
            Some(url) if !url.is_empty() => url,
            _ => format!("sqlite:///{}", state_path.join("tacker.sqlite").display()),
        };
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
                    .map_err(|_| "must be a port number (0-65535)".to_string())
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
            database_connection,
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
                    .ok_or_else(|| "must be a positive number of bytes".to_string())
            })?,
            state_path,
            ignored_options: Vec::new(),
        };
        Ok(Config {
            ignored_options: files.unread(),
            ..config
        })
    }
}

fn string(files: &IniFiles, section: &str, option: &str, default: &str) -> Result<String, ConfigError> {
    Ok(files.get(section, option)?.unwrap_or_else(|| default.to_string()))
}

fn parsed<T>(
    files: &IniFiles,
    section: &str,
    option: &str,
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match files.get(section, option)? {
        None => Ok(default),
        Some(raw) => parse(&raw).map_err(|reason| ConfigError::invalid(section, option, &raw, &reason)),
    }
}

/// oslo.config's boolean spellings.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err("must be a boolean (true/false)".into()),
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
            "[DEFAULT]\nbind_port = 1234\ntransport_url = rabbit://\n[keystone_authtoken]\nauth_url = x\n",
        )
        .unwrap();
        assert_eq!(c.bind_port, 1234);
        assert_eq!(
            c.ignored_options,
            vec![
                "[DEFAULT] transport_url".to_string(),
                "[keystone_authtoken] auth_url".to_string()
            ]
        );
    }

    #[test]
    fn state_path_feeds_database_default_and_interpolation() {
        let c = config("[DEFAULT]\nstate_path = /srv/t\n[vim_keys]\nopenstack = $state_path/keys\n").unwrap();
        assert_eq!(c.database_connection, "sqlite:////srv/t/tacker.sqlite");
        assert_eq!(c.vim_key_dir, PathBuf::from("/srv/t/keys"));
    }
}
