//! tacker-manage: schema migrations and VIM key maintenance, for operators and devstack.

pub mod ca;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tacker_common::Config;
use tacker_crypto::KeyVault;
use tacker_db::{url::redact, Database, PoolSettings};
use tacker_vim::VimService;

#[derive(Debug, Parser)]
#[command(name = "tacker-manage", about = "Manage a tacker-rs deployment")]
pub struct Cli {
    /// A tacker.conf file; repeat to layer files (later ones win).
    #[arg(
        long = "config-file",
        value_name = "PATH",
        default_value = "/etc/tacker/tacker.conf",
        global = true
    )]
    pub config_files: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Database schema.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// VIM credential keys in the [vim_keys] openstack folder.
    VimKeys {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// A development PKI for HTTPS: server CA, separate client CA, certificates.
    Ca {
        /// Where the CAs and certificates live (default: the folder of [DEFAULT] ssl_cert_file,
        /// else $state_path/ssl).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Validity of issued certificates in days (CAs get four times as long).
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[command(subcommand)]
        action: CaAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaAction {
    /// Create the server CA, the client CA, the server certificate and client certificates.
    Init {
        /// DNS names or IP addresses of the server certificate (repeatable).
        #[arg(long = "san", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        sans: Vec<String>,
        /// Client certificates to issue, by name (repeatable).
        #[arg(long = "client")]
        clients: Vec<String>,
    },
    /// Issue a new server certificate (a renewal; a running server picks it up).
    IssueServer {
        #[arg(long = "san", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        sans: Vec<String>,
    },
    /// Issue a client certificate from the client CA.
    IssueClient {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Create or upgrade the schema to the newest version.
    Sync,
    /// Same as sync (tacker-db-manage compatibility); only `head` is accepted.
    Upgrade {
        #[arg(default_value = "head")]
        revision: String,
    },
    /// Print the applied schema versions and whether the schema is current.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Create the key folder with private permissions.
    Init,
    /// Encrypt a VIM's secrets with a new key (or every VIM's with --all).
    Rotate {
        /// The VIM to rotate.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        vim_id: Option<String>,
        /// Rotate the keys of every VIM.
        #[arg(long)]
        all: bool,
    },
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config_files)?;
    match cli.command {
        Command::Db { action } => db(&config, action).await,
        Command::VimKeys { action } => keys(&config, action).await,
        Command::Ca { dir, days, action } => {
            let dir = dir.unwrap_or_else(|| default_ca_dir(&config));
            let files = match action {
                CaAction::Init { sans, clients } => ca::init(&dir, &sans, &clients, days)?.files,
                CaAction::IssueServer { sans } => ca::issue_server(&dir, &sans, days)?,
                CaAction::IssueClient { name } => ca::issue_client(&dir, &name, days)?,
            };
            for file in files {
                println!("wrote {}", file.display());
            }
            println!(
                "tacker.conf [DEFAULT]: use_ssl = true, ssl_cert_file = {0}/server.pem, ssl_key_file = {0}/server.key, \
                 ssl_ca_file = {0}/client-ca.pem",
                dir.display()
            );
            Ok(())
        }
    }
}

fn default_ca_dir(config: &Config) -> PathBuf {
    config
        .ssl
        .as_ref()
        .and_then(|ssl| ssl.cert_file.parent().map(PathBuf::from))
        .unwrap_or_else(|| config.state_path.join("ssl"))
}

async fn connect(config: &Config) -> anyhow::Result<Database> {
    Database::connect(&config.database_connection, &PoolSettings::default())
        .await
        .with_context(|| {
            format!(
                "cannot open [database] connection {}",
                redact(&config.database_connection)
            )
        })
}

async fn db(config: &Config, action: DbAction) -> anyhow::Result<()> {
    let db = connect(config).await?;
    match action {
        DbAction::Sync => sync(&db).await?,
        DbAction::Upgrade { revision } if revision == "head" => sync(&db).await?,
        DbAction::Upgrade { revision } => {
            anyhow::bail!("only 'upgrade head' is supported (asked for {revision:?})")
        }
        DbAction::Version => {
            let applied = db.applied_versions().await?;
            println!("applied: {applied:?}");
            match db.ensure_migrated().await {
                Ok(()) => println!("schema is current"),
                Err(e) => println!("{e}"),
            }
        }
    }
    db.close().await;
    Ok(())
}

async fn sync(db: &Database) -> anyhow::Result<()> {
    db.migrate().await?;
    db.ensure_migrated().await?;
    println!("database schema is up to date ({:?})", db.backend());
    Ok(())
}

async fn keys(config: &Config, action: KeyAction) -> anyhow::Result<()> {
    let vault = KeyVault::new(&config.vim_key_dir, config.vim_default_secret_key.clone());
    vault.ensure_dir()?;
    match action {
        KeyAction::Init => println!("key folder ready: {}", vault.dir().display()),
        KeyAction::Rotate { vim_id, all } => {
            if config.vim_default_secret_key.is_some() {
                anyhow::bail!("[vim_keys] default_secret_key is set: a shared key cannot be rotated per VIM");
            }
            let db = connect(config).await?;
            db.ensure_migrated().await?;
            // Maintenance runs as the operator: policy does not apply to key rotation.
            let policy = std::sync::Arc::new(tacker_policy::Enforcer::defaults());
            let service = VimService::new(db.clone(), vault, config.vim_drivers.clone(), policy);
            let ids = if all {
                service.all_ids().await?
            } else {
                vim_id.into_iter().collect()
            };
            for id in &ids {
                service
                    .rotate_key(id)
                    .await
                    .with_context(|| format!("VIM {id}"))?;
                println!("rotated key of VIM {id}");
            }
            db.close().await;
        }
    }
    Ok(())
}
