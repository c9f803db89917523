//! Shared building blocks of tacker-rs: configuration (tacker.conf and api-paste.ini),
//! the per-request context, and small value helpers used by every other crate.

pub mod config;
pub mod connection_options;
pub mod context;
pub mod database_options;
pub mod detach;
pub mod ini;
pub mod keystone_options;
pub mod lcm_options;
pub mod package_options;
pub mod paste;
pub mod prometheus_options;
pub mod time;

pub use config::{Config, ConfigError, ExtOAuth2Options, SslOptions};
pub use connection_options::ConnectionOptions;
pub use context::{PeerCertificate, RequestContext};
pub use database_options::DatabaseOptions;
pub use keystone_options::KeystoneAuthtokenOptions;
pub use lcm_options::LcmOptions;
pub use package_options::{PackageStoreOptions, S3Options, VnfPackageOptions};
pub use prometheus_options::PrometheusPluginOptions;
