//! A fake kube-apiserver for demos, with kube-apiserver's authentication flags.
//!
//! Run with:
//! `fake-kube-apiserver --listen 127.0.0.1:6443 --oidc-issuer-url https://127.0.0.1:8443 \
//!   --oidc-client-id tacker --oidc-username-claim name --oidc-username-prefix - \
//!   --oidc-ca-file idp-ca.pem --token-auth-file tokens.csv --ca-out fake-kube-ca.pem \
//!   --basic-auth alice:alice-password --audit-log audit.jsonl \
//!   --pod-startup 2s --pod-fault crash-loop:app=broken --fail create:deployments:500:1`
//!
//! It prints its URL on the first line of standard output.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tacker_fake_kube::{
    parse_token_file, Authorization, FakeKube, FakeKubeConfig, InjectedError, LabelSelector, OidcConfig,
    PodFault, Rbac, Timings, UserInfo,
};

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
    /// A basic-auth user `USER:PASSWORD` (repeatable; no groups: use --allow-user under RBAC).
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_basic_user)]
    basic_auth: Vec<(String, String)>,
    /// Append every request to FILE as a JSON line (an `audit.k8s.io/v1` Event, level
    /// Metadata, with the bearer token's sha256 as an annotation).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// The reconciler's tick (`50ms`, `1s`, `2m`; default 50ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    tick: Option<Duration>,
    /// From a pod's scheduling to Running and Ready (default 200ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pod_startup: Option<Duration>,
    /// How long a deleted pod stays Terminating (default 100ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pod_termination: Option<Duration>,
    /// How long a Job's pod runs before it Succeeds (default 300ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    job_duration: Option<Duration>,
    /// Fail requests: `VERB:RESOURCE[:CODE[:TIMES]]`, `*` for any verb or resource (a
    /// plural such as `deployments` or a kind such as `Deployment`); CODE defaults to 500,
    /// TIMES to every request. Repeatable.
    #[arg(long, value_name = "VERB:RESOURCE[:CODE[:TIMES]]", value_parser = parse_request_fault)]
    fail: Vec<RequestFault>,
    /// Pods that misbehave: `never-ready|crash-loop|fail[:SELECTOR]` with a label selector
    /// (`app=web`; none: every pod). Repeatable.
    #[arg(long, value_name = "FAULT[:SELECTOR]", value_parser = parse_pod_fault)]
    pod_fault: Vec<(PodFault, String)>,
}

/// A `--fail` flag.
#[derive(Clone, Debug)]
struct RequestFault {
    verb: String,
    resource: String,
    error: InjectedError,
    times: Option<u32>,
}

fn parse_basic_user(text: &str) -> Result<(String, String), String> {
    // RFC 7617: the user name cannot hold a colon; the password may.
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() && !password.is_empty() => {
            Ok((user.to_string(), password.to_string()))
        }
        _ => Err("expected USER:PASSWORD".into()),
    }
}

/// `250ms`, `2s`, `1m`; a bare number is milliseconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 250ms, 2s or 1m"))?;
    match unit {
        "" | "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        _ => Err(format!("{text:?} is not a duration such as 250ms, 2s or 1m")),
    }
}

/// kube-apiserver's `Status` reason for a code.
fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}

fn parse_request_fault(text: &str) -> Result<RequestFault, String> {
    let wrong = || format!("{text:?}: expected VERB:RESOURCE[:CODE[:TIMES]]");
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=4).contains(&parts.len()) || parts[0].is_empty() || parts[1].is_empty() {
        return Err(wrong());
    }
    let code = match parts.get(2) {
        Some(code) => code
            .parse::<u16>()
            .ok()
            .filter(|c| (400..600).contains(c))
            .ok_or_else(|| format!("{text:?}: the code must be an HTTP error status (400-599)"))?,
        None => 500,
    };
    let times = match parts.get(3) {
        Some(times) => Some(times.parse::<u32>().map_err(|_| wrong())?),
        None => None,
    };
    let (verb, resource) = (parts[0], parts[1]);
    Ok(RequestFault {
        verb: verb.to_string(),
        resource: resource.to_string(),
        error: InjectedError::new(
            code,
            reason(code),
            &format!("injected failure: {verb} {resource}"),
        ),
        times,
    })
}

fn parse_pod_fault(text: &str) -> Result<(PodFault, String), String> {
    let (fault, selector) = text.split_once(':').unwrap_or((text, ""));
    let fault = match fault {
        "never-ready" => PodFault::NeverReady,
        "crash-loop" => PodFault::CrashLoop,
        "fail" => PodFault::Fail,
        other => return Err(format!("{other:?}: expected never-ready, crash-loop or fail")),
    };
    LabelSelector::parse(selector).map_err(|e| format!("{selector:?}: {e}"))?;
    Ok((fault, selector.to_string()))
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
    for (user, password) in &args.basic_auth {
        config = config.with_basic_user(user, password, UserInfo::new(user));
    }
    if let Some(path) = &args.audit_log {
        config = config.with_audit_log(path);
    }
    let defaults = Timings::default();
    config = config.with_timings(Timings {
        tick: args.tick.unwrap_or(defaults.tick),
        pod_startup: args.pod_startup.unwrap_or(defaults.pod_startup),
        pod_termination: args.pod_termination.unwrap_or(defaults.pod_termination),
        job_duration: args.job_duration.unwrap_or(defaults.job_duration),
    });
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
    for fault in &args.fail {
        kube.faults()
            .fail(&fault.verb, &fault.resource, fault.error.clone(), fault.times);
    }
    for (fault, selector) in &args.pod_fault {
        kube.faults().pods(selector, *fault)?;
    }
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
