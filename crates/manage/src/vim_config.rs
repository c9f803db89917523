//! `tacker-manage vim-config` and `vim register`: the vim_config.yaml of a Kubernetes VIM
//! (the job of Tacker's gen_vim_config.sh), from a kubeconfig or flags, and registering
//! such a file without python-tackerclient.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine;
use clap::Args;
use serde_json::{json, Map, Value};

/// Where the VIM's endpoint and credentials come from.
#[derive(Debug, Clone, Default, Args)]
pub struct VimConfigArgs {
    /// Read the endpoint, CA and credentials of a kubeconfig's context.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current-context).
    #[arg(long)]
    pub context: Option<String>,
    /// The Kubernetes API endpoint (overrides the kubeconfig's).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// A bearer token (or TACKER_VIM_TOKEN: the environment keeps it out of `ps`).
    #[arg(long, env = "TACKER_VIM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Basic-auth user, or the OIDC user with --oidc-token-url.
    #[arg(long)]
    pub username: Option<String>,
    /// Or TACKER_VIM_PASSWORD.
    #[arg(long, env = "TACKER_VIM_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The IdP's token endpoint: the VIM authenticates with OIDC id_tokens.
    #[arg(long)]
    pub oidc_token_url: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
    /// Or TACKER_VIM_CLIENT_SECRET.
    #[arg(long, env = "TACKER_VIM_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// A PEM CA file (repeatable: the cluster's CA and the IdP's are concatenated).
    #[arg(long = "ca-file")]
    pub ca_files: Vec<PathBuf>,
    /// vim_project name (Tacker's `project_name`).
    #[arg(long, default_value = "default")]
    pub project: String,
}

/// The vim_config.yaml content as a map, in the keys python-tackerclient reads.
pub fn build(args: &VimConfigArgs) -> anyhow::Result<Map<String, Value>> {
    let from_kubeconfig = match &args.kubeconfig {
        Some(path) => Some(kubeconfig(path, args.context.as_deref())?),
        None => None,
    };
    let base = from_kubeconfig.unwrap_or_default();
    let endpoint = args
        .endpoint
        .clone()
        .or(base.endpoint)
        .context("no endpoint: give --endpoint or --kubeconfig")?;
    if !endpoint.starts_with("https://") && !endpoint.starts_with("http://") {
        bail!("the endpoint must be an http(s) URL: {endpoint}");
    }
    let mut config = Map::new();
    config.insert("auth_url".into(), json!(endpoint));
    config.insert("project_name".into(), json!(args.project));
    config.insert("type".into(), json!("kubernetes"));
    let username = args.username.clone().or(base.username);
    let password = args.password.clone().or(base.password);
    if let Some(token_url) = &args.oidc_token_url {
        let (Some(username), Some(password), Some(client_id)) = (&username, &password, &args.client_id)
        else {
            bail!("--oidc-token-url needs --username, --password and --client-id");
        };
        config.insert("oidc_token_url".into(), json!(token_url));
        config.insert("username".into(), json!(username));
        config.insert("password".into(), json!(password));
        config.insert("client_id".into(), json!(client_id));
        if let Some(secret) = &args.client_secret {
            config.insert("client_secret".into(), json!(secret));
        }
    } else if let Some(token) = args.token.clone().or(base.token) {
        config.insert("bearer_token".into(), json!(token));
    } else if let (Some(username), Some(password)) = (username, password) {
        config.insert("username".into(), json!(username));
        config.insert("password".into(), json!(password));
    } else {
        bail!("no credentials: give --token, --username/--password, or the OIDC options (client certificates are not supported by Tacker VIMs)");
    }
    let mut pem = base.ca_pem.unwrap_or_default();
    for file in &args.ca_files {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            bail!("{} holds no PEM certificate", file.display());
        }
        if !pem.is_empty() && !pem.ends_with('\n') {
            pem.push('\n');
        }
        pem.push_str(&text);
    }
    if !pem.is_empty() {
        config.insert("ssl_ca_cert".into(), json!(pem));
    }
    Ok(config)
}

/// The YAML text of a vim_config.
pub fn to_yaml(config: &Map<String, Value>) -> anyhow::Result<String> {
    Ok(serde_yaml_ng::to_string(config)?)
}

/// What a kubeconfig context offers.
#[derive(Debug, Default)]
struct FromKubeconfig {
    endpoint: Option<String>,
    ca_pem: Option<String>,
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

fn kubeconfig(path: &Path, context: Option<&str>) -> anyhow::Result<FromKubeconfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value =
        serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))?;
    let name = context
        .map(str::to_owned)
        .or_else(|| {
            doc.get("current-context")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .context("the kubeconfig has no current-context; give --context")?;
    let named = |list: &str, wanted: &str| -> anyhow::Result<Value> {
        doc.get(list)
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i.get("name").and_then(Value::as_str) == Some(wanted))
            })
            .cloned()
            .with_context(|| format!("the kubeconfig has no {list} entry named '{wanted}'"))
    };
    let ctx = named("contexts", &name)?;
    let cluster_name = ctx
        .pointer("/context/cluster")
        .and_then(Value::as_str)
        .context("context without a cluster")?;
    let cluster = named("clusters", cluster_name)?;
    let user = match ctx.pointer("/context/user").and_then(Value::as_str) {
        Some(user) => named("users", user)?,
        None => json!({}),
    };
    let relative = |file: &str| path.parent().unwrap_or(Path::new(".")).join(file);
    let ca_pem = match (
        cluster
            .pointer("/cluster/certificate-authority-data")
            .and_then(Value::as_str),
        cluster
            .pointer("/cluster/certificate-authority")
            .and_then(Value::as_str),
    ) {
        (Some(data), _) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .context("certificate-authority-data is not base64")?;
            Some(String::from_utf8(bytes).context("certificate-authority-data is not PEM text")?)
        }
        (None, Some(file)) => {
            Some(std::fs::read_to_string(relative(file)).with_context(|| format!("reading {file}"))?)
        }
        (None, None) => None,
    };
    let token = match (
        user.pointer("/user/token").and_then(Value::as_str),
        user.pointer("/user/tokenFile").and_then(Value::as_str),
    ) {
        (Some(token), _) => Some(token.to_owned()),
        (None, Some(file)) => Some(std::fs::read_to_string(relative(file))?.trim().to_owned()),
        _ => None,
    };
    let text_of = |pointer: &str| user.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    Ok(FromKubeconfig {
        endpoint: cluster
            .pointer("/cluster/server")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ca_pem,
        token,
        username: text_of("/user/username"),
        password: text_of("/user/password"),
    })
}

/// The `{"vim": ...}` register body python-tackerclient sends for a vim_config.yaml.
pub fn register_body(
    config: &Map<String, Value>,
    name: &str,
    tenant_id: &str,
    description: &str,
    is_default: bool,
) -> anyhow::Result<Map<String, Value>> {
    let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_owned);
    let auth_url = text("auth_url").context("vim_config has no auth_url")?;
    let vim_type = text("type").unwrap_or_else(|| "openstack".into());
    let mut auth_cred = Map::new();
    for key in [
        "username",
        "password",
        "bearer_token",
        "ssl_ca_cert",
        "oidc_token_url",
        "client_id",
        "client_secret",
        "user_domain_name",
        "cert_verify",
    ] {
        if let Some(value) = config.get(key) {
            auth_cred.insert(key.into(), value.clone());
        }
    }
    let mut vim_project = Map::new();
    vim_project.insert(
        "name".into(),
        json!(text("project_name").unwrap_or_else(|| "default".into())),
    );
    if let Some(domain) = text("project_domain_name") {
        vim_project.insert("project_domain_name".into(), json!(domain));
    }
    let mut vim = Map::new();
    vim.insert("type".into(), json!(vim_type));
    vim.insert("name".into(), json!(name));
    vim.insert("description".into(), json!(description));
    vim.insert("tenant_id".into(), json!(tenant_id));
    vim.insert("auth_url".into(), json!(auth_url));
    vim.insert("auth_cred".into(), Value::Object(auth_cred));
    vim.insert("vim_project".into(), Value::Object(vim_project));
    vim.insert("is_default".into(), json!(is_default));
    Ok(vim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_kubeconfig_becomes_a_vim_config() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        let data = base64::engine::general_purpose::STANDARD.encode(CA);
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: c1\n  cluster:\n    server: https://10.1.2.3:6443\n    certificate-authority-data: {data}\ncontexts:\n- name: prod\n  context: {{cluster: c1, user: u1}}\nusers:\n- name: u1\n  user: {{token: sa-token}}\n"
            ),
        )
        .unwrap();
        let args = VimConfigArgs {
            kubeconfig: Some(kubeconfig),
            project: "default".into(),
            ..Default::default()
        };
        let config = build(&args).unwrap();
        assert_eq!(config["auth_url"], "https://10.1.2.3:6443");
        assert_eq!(config["bearer_token"], "sa-token");
        assert_eq!(config["ssl_ca_cert"], CA);
        let yaml = to_yaml(&config).unwrap();
        let back: Map<String, Value> = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(back, config, "the YAML reads back the same");
    }

    #[test]
    fn oidc_flags_concatenate_both_cas() {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, idp) = (dir.path().join("cluster.pem"), dir.path().join("idp.pem"));
        std::fs::write(&cluster, CA).unwrap();
        std::fs::write(&idp, CA.replace("MIIB", "MIIC")).unwrap();
        let args = VimConfigArgs {
            endpoint: Some("https://k8s:6443".into()),
            oidc_token_url: Some("https://idp/token".into()),
            username: Some("alice".into()),
            password: Some("pw".into()),
            client_id: Some("tacker".into()),
            client_secret: Some("s".into()),
            ca_files: vec![cluster, idp],
            project: "default".into(),
            ..Default::default()
        };
        let config = build(&args).unwrap();
        assert_eq!(config["oidc_token_url"], "https://idp/token");
        assert_eq!(
            config["ssl_ca_cert"]
                .as_str()
                .unwrap()
                .matches("BEGIN CERTIFICATE")
                .count(),
            2
        );
        assert!(config.get("bearer_token").is_none());
        let body = register_body(&config, "k8s", "project-a", "", true).unwrap();
        assert_eq!(body["auth_cred"]["client_id"], "tacker");
        assert_eq!(body["vim_project"], json!({"name": "default"}));

        let missing = VimConfigArgs {
            endpoint: Some("https://k8s:6443".into()),
            project: "default".into(),
            ..Default::default()
        };
        assert!(build(&missing)
            .unwrap_err()
            .to_string()
            .starts_with("no credentials"));
    }
}
