//! A fake kube-apiserver for demos, with kube-apiserver's authentication flags.
//!
//! Run with:
//! `fake-kube-apiserver --listen 127.0.0.1:6443 --oidc-issuer-url https://127.0.0.1:8443 \
//!   --oidc-client-id tacker --oidc-username-claim name --oidc-username-prefix - \
//!   --oidc-ca-file idp-ca.pem --token-auth-file tokens.csv --ca-out fake-kube-ca.pem`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use tacker_fake_kube::{parse_token_file, Authorization, FakeKube, FakeKubeConfig, OidcConfig, Rbac};

#[derive(Parser, Debug)]
#[command(version, about = "A fake kube-apiserver for tests and demos")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    #[arg(long)]
    oidc_issuer_url: Option<String>,
    #[arg(long)]
    oidc_client_id: Option<String>,
    #[arg(long, default_value = "sub")]
    oidc_username_claim: String,
    #[arg(long)]
    oidc_username_prefix: Option<String>,
    #[arg(long)]
    oidc_groups_claim: Option<String>,
    #[arg(long)]
    oidc_groups_prefix: Option<String>,
    /// `key=value`, repeatable.
    #[arg(long)]
    oidc_required_claim: Vec<String>,
    #[arg(long)]
    oidc_ca_file: Option<PathBuf>,
    /// Comma-separated (default RS256).
    #[arg(long, value_delimiter = ',')]
    oidc_signing_algs: Vec<String>,
    /// CSV lines `token,user,uid,"group1,group2"`.
    #[arg(long)]
    token_auth_file: Option<PathBuf>,
    /// The admin token (system:masters); random if not given.
    #[arg(long)]
    admin_token: Option<String>,
    #[arg(long)]
    anonymous_auth: bool,
    /// AlwaysAllow or RBAC (RBAC grants system:masters and every --allow-user).
    #[arg(long, default_value = "AlwaysAllow")]
    authorization_mode: String,
    /// A user allowed everything under RBAC, repeatable.
    #[arg(long)]
    allow_user: Vec<String>,
    /// Where to write the CA certificate.
    #[arg(long, default_value = "fake-kube-ca.pem")]
    ca_out: PathBuf,
    /// Where to write a kubeconfig with the admin token.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
}

fn config(args: &Args) -> Result<FakeKubeConfig, Box<dyn std::error::Error>> {
    let mut config = FakeKubeConfig::default()
        .listen(args.listen)
        .with_anonymous(args.anonymous_auth);
    if let Some(token) = &args.admin_token {
        config = config.admin_token(Some(token));
    }
    if let Some(path) = &args.token_auth_file {
        for (token, user) in parse_token_file(&std::fs::read_to_string(path)?)? {
            config = config.with_token(&token, user);
        }
    }
    if let Some(issuer) = &args.oidc_issuer_url {
        let client_id = args.oidc_client_id.as_deref().unwrap_or_default();
        let mut oidc = OidcConfig::new(issuer, client_id).username_claim(&args.oidc_username_claim);
        if let Some(p) = &args.oidc_username_prefix {
            oidc = oidc.username_prefix(p);
        }
        if let Some(c) = &args.oidc_groups_claim {
            oidc = oidc.groups_claim(c);
        }
        if let Some(p) = &args.oidc_groups_prefix {
            oidc = oidc.groups_prefix(p);
        }
        for claim in &args.oidc_required_claim {
            let (k, v) = claim
                .split_once('=')
                .ok_or("--oidc-required-claim wants key=value")?;
            oidc = oidc.required_claim(k, v);
        }
        if let Some(path) = &args.oidc_ca_file {
            oidc = oidc.ca_file(path)?;
        }
        if !args.oidc_signing_algs.is_empty() {
            oidc = oidc.signing_algs(args.oidc_signing_algs.clone());
        }
        config = config.with_oidc(oidc);
    }
    match args.authorization_mode.as_str() {
        "AlwaysAllow" => {}
        "RBAC" => {
            let rbac = args
                .allow_user
                .iter()
                .fold(Rbac::new(), |r, u| r.allow_all_for_user(u));
            config = config.with_authorization(Authorization::Rbac(rbac));
        }
        other => return Err(format!("unknown --authorization-mode {other}").into()),
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tacker_fake_kube=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let kube = FakeKube::start(config(&args)?).await?;
    std::fs::write(&args.ca_out, kube.ca_pem())?;
    if let Some(path) = &args.kubeconfig_out {
        std::fs::write(path, kube.kubeconfig(kube.admin_token()))?;
    }
    println!("{}", kube.url());
    eprintln!(
        "fake kube-apiserver at {} (CA in {}, admin token {})",
        kube.url(),
        args.ca_out.display(),
        kube.admin_token()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
