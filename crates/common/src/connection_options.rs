//! `[DEFAULT]` options that bound the API server's client connections: Tacker's
//! (oslo.service wsgi's) `client_socket_timeout` and `wsgi_keep_alive`, and tacker-rs's
//! `client_header_timeout` and `max_client_connections`.

use std::time::Duration;

use crate::config::{parse_bool, parsed, ConfigError, ValueRule};
use crate::ini::IniFiles;

const SECTION: &str = "DEFAULT";

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionOptions {
    /// `client_socket_timeout`: a connection on which nothing is sent either way for this
    /// long while no request is being handled is closed (Tacker: 900 s; 0, here `None`:
    /// never).
    pub client_socket_timeout: Option<Duration>,
    /// `client_header_timeout` (tacker-rs): how long a client may take to send a complete
    /// request head, counted from the connection's start and, on an HTTP/1.1 keep-alive
    /// connection, from the end of the previous response (0, here `None`: no limit).
    pub client_header_timeout: Option<Duration>,
    /// `wsgi_keep_alive`: keep HTTP/1.1 connections open between requests.
    pub keep_alive: bool,
    /// `max_client_connections` (tacker-rs): connections served at once; further ones wait
    /// in the kernel's listen backlog until one closes.
    pub max_connections: usize,
}

impl ConnectionOptions {
    pub fn from_ini(files: &IniFiles) -> Result<Self, ConfigError> {
        let seconds = |option: &str, default: u64| {
            parsed(files, SECTION, option, default, |s| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| ValueRule("must be a whole number of seconds (0: no timeout)"))
            })
            .map(|secs| (secs > 0).then(|| Duration::from_secs(secs)))
        };
        Ok(ConnectionOptions {
            client_socket_timeout: seconds("client_socket_timeout", 900)?,
            // A request head is a few kilobytes that any client sends at once; 30 s (hyper's
            // and Apache's order of magnitude) leaves room for slow links while a client that
            // sends half a head and stops gives its slot back quickly.
            client_header_timeout: seconds("client_header_timeout", 30)?,
            keep_alive: parsed(files, SECTION, "wsgi_keep_alive", true, parse_bool)?,
            // Tacker's eventlet server serves at most 1000 connections at once (max_size).
            max_connections: parsed(files, SECTION, "max_client_connections", 1000, |s| {
                s.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ValueRule("must be a positive number"))
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> Result<ConnectionOptions, ConfigError> {
        ConnectionOptions::from_ini(&IniFiles::parse_str(text).unwrap())
    }

    #[test]
    fn defaults_and_zero_means_no_timeout() {
        let o = options("").unwrap();
        assert_eq!(o.client_socket_timeout, Some(Duration::from_secs(900)));
        assert_eq!(o.client_header_timeout, Some(Duration::from_secs(30)));
        assert!(o.keep_alive);
        assert_eq!(o.max_connections, 1000);
        let o = options("[DEFAULT]\nclient_socket_timeout = 0\nclient_header_timeout = 0\n").unwrap();
        assert_eq!(o.client_socket_timeout, None);
        assert_eq!(o.client_header_timeout, None);
    }

    #[test]
    fn bad_values_name_the_option() {
        let err = options("[DEFAULT]\nmax_client_connections = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[DEFAULT] max_client_connections"), "{err}");
        let err = options("[DEFAULT]\nclient_socket_timeout = -1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[DEFAULT] client_socket_timeout"), "{err}");
    }
}
