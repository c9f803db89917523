//! tacker-manage: schema migrations and VIM key maintenance, for operators and devstack.

pub mod ca;
pub mod vim_config;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tacker_common::Config;
use tacker_crypto::KeyVault;
use tacker_db::Database;
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
    /// Write the vim_config.yaml of a Kubernetes VIM from a kubeconfig or flags.
    VimConfig {
        #[command(flatten)]
        source: vim_config::VimConfigArgs,
        /// Where to write it (default: standard output). Written with mode 0600: it holds secrets.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// The VIM registry, without python-tackerclient.
    Vim {
        #[command(subcommand)]
        action: VimAction,
    },
    /// A development PKI for HTTPS: server CA, separate client CA, certificates.
    Ca {
        /// Where the CAs and certificates live (default: the folder of [DEFAULT] ssl_cert_file,
        /// else $state_path/ssl); accepted before or after the subcommand.
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        /// Validity of issued certificates in days (CAs get four times as long); accepted
        /// before or after the subcommand.
        #[arg(long, default_value_t = 365, global = true)]
        days: u32,
        #[command(subcommand)]
        action: CaAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum VimAction {
    /// Register a VIM from a vim_config.yaml (as `openstack vim register` does).
    Register {
        /// The vim_config.yaml.
        #[arg(long = "vim-config-file")]
        vim_config: PathBuf,
        /// The project that owns the VIM.
        #[arg(long = "tenant-id")]
        tenant_id: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Make it the project's default VIM.
        #[arg(long)]
        is_default: bool,
        /// The VIM's name.
        name: String,
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

/// Runs one command. tacker.conf is read only by the commands that need it: `vim-config`
/// and `ca --dir` run without one.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let files = cli.config_files;
    let config = || Config::load(&files);
    match cli.command {
        Command::Db { action } => db(&config()?, action).await,
        Command::VimKeys { action } => keys(&config()?, action).await,
        Command::VimConfig { source, output } => {
            let yaml = vim_config::to_yaml(&vim_config::build(&source)?)?;
            match output {
                Some(path) => {
                    write_private(&path, &yaml)?;
                    println!("wrote {}", path.display());
                }
                None => print!("{yaml}"),
            }
            Ok(())
        }
        Command::Vim {
            action:
                VimAction::Register {
                    vim_config: file,
                    tenant_id,
                    description,
                    is_default,
                    name,
                },
        } => register(&config()?, &file, &name, &tenant_id, &description, is_default).await,
        Command::Ca { dir, days, action } => {
            let dir = match dir {
                Some(dir) => dir,
                None => default_ca_dir(&config()?),
            };
            let (files, server) = match action {
                CaAction::Init { sans, clients } => (ca::init(&dir, &sans, &clients, days)?.files, true),
                CaAction::IssueServer { sans } => (ca::issue_server(&dir, &sans, days)?, true),
                CaAction::IssueClient { name } => (ca::issue_client(&dir, &name, days)?, false),
            };
            for file in files {
                println!("wrote {}", file.display());
            }
            if server {
                println!("\nTo serve HTTPS with these files, add to tacker.conf:\n");
                print!("{}", ca::tacker_conf_lines(&dir)?);
            }
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
    Ok(Database::open(&config.database).await?)
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

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// `vim register`: the request python-tackerclient would send, run through the VIM
/// registry's own rules as Tacker's admin.
async fn register(
    config: &Config,
    file: &std::path::Path,
    name: &str,
    tenant_id: &str,
    description: &str,
    is_default: bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let vim_config: serde_json::Map<String, serde_json::Value> = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not a YAML mapping", file.display()))?;
    let body = vim_config::register_body(&vim_config, name, tenant_id, description, is_default)?;
    let request = tacker_vim::parse_create(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = connect(config).await?;
    db.ensure_migrated().await?;
    let vault = KeyVault::new(&config.vim_key_dir, config.vim_default_secret_key.clone());
    vault.ensure_dir()?;
    let policy = std::sync::Arc::new(tacker_policy::Enforcer::defaults());
    // The registry the API server builds from the same tacker.conf: the VIM is checked
    // against its cluster exactly as `POST /v1.0/vims` checks it.
    let service = VimService::from_config(
        config,
        db.clone(),
        vault,
        policy,
        tacker_k8s::configured_drivers(config),
    );
    let ctx = tacker_common::RequestContext::admin();
    let created = service.create(&ctx, request).await;
    db.close().await;
    let view = created.map_err(|e| anyhow::anyhow!("VIM {name:?} was not registered: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(["tacker-manage"].iter().chain(args)).unwrap()
    }

    #[tokio::test]
    async fn vim_config_needs_no_tacker_conf() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent.conf");
        let output = dir.path().join("vim_config.yaml");
        run(cli(&[
            "--config-file",
            absent.to_str().unwrap(),
            "vim-config",
            "--endpoint",
            "https://10.0.0.10:6443",
            "--token",
            "secret-token",
            "--output",
            output.to_str().unwrap(),
        ]))
        .await
        .unwrap();
        let text = std::fs::read_to_string(&output).unwrap();
        assert!(text.contains("bearer_token: secret-token"), "{text}");

        // Commands that use the database still need it, and say which file is missing.
        let err = run(cli(&["--config-file", absent.to_str().unwrap(), "db", "sync"]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("absent.conf"), "{err}");
    }

    #[tokio::test]
    async fn ca_options_are_accepted_after_the_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        let absent = dir.path().join("absent.conf");
        let parsed = cli(&[
            "--config-file",
            absent.to_str().unwrap(),
            "ca",
            "init",
            "--san",
            "localhost",
            "--days",
            "30",
            "--dir",
            pki.to_str().unwrap(),
        ]);
        let Command::Ca {
            days,
            dir: Some(ref parsed_dir),
            ..
        } = parsed.command
        else {
            panic!("{parsed:?}")
        };
        assert_eq!((days, parsed_dir), (30, &pki));
        // No tacker.conf needed with --dir.
        run(parsed).await.unwrap();
        let server = std::fs::read_to_string(pki.join("server.pem")).unwrap();
        let params = rcgen::CertificateParams::from_ca_cert_pem(&server).unwrap();
        let days = (params.not_after - time::OffsetDateTime::now_utc()).whole_hours();
        assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");

        // Before the subcommand as well.
        let before = cli(&["ca", "--days", "7", "issue-client", "--name", "ops"]);
        assert!(
            matches!(before.command, Command::Ca { days: 7, .. }),
            "{before:?}"
        );
    }
}
