//! A registered VIM with its credentials in clear, for the lifecycle (which copies them
//! into an instance's vimConnectionInfo) and the infra drivers.

use serde_json::{json, Map, Value};
use tacker_common::RequestContext;

use crate::auth_cred;
use crate::service::{parse_object, VimService};
use crate::VimError;

/// A VIM as the lifecycle uses it.
#[derive(Debug, Clone)]
pub struct RegisteredVim {
    pub id: String,
    pub vim_type: String,
    pub auth_url: String,
    /// Decrypted: secrets and `ssl_ca_cert` in clear. Never log or return it.
    pub auth_cred: Map<String, Value>,
    pub vim_project: Map<String, Value>,
    pub extra: Map<String, Value>,
    pub regions: Vec<String>,
}

impl RegisteredVim {
    /// How a driver connects to this VIM: vimConnectionInfo's `interfaceInfo`,
    /// `accessInfo` and `extra` (the caller adds `vimId` and `vimType`). The one mapping
    /// from a registered VIM's credentials to a connection: the VIM is checked with it at
    /// registration and instances use it, so both connect the same way.
    ///
    /// Kubernetes: OIDC when `oidc_token_url` is set, else username and password when both
    /// are, else the bearer token. A credential counts as set when it is a non-empty
    /// string other than Tacker's placeholder `None` (a token-only VIM is stored with
    /// `username: "None"`).
    pub fn connection(&self) -> Map<String, Value> {
        let cred = &self.auth_cred;
        let set = |key: &str| {
            cred.get(key)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty() && v != "None")
        };
        let pick = |keys: &[&str]| -> Map<String, Value> {
            keys.iter()
                .filter(|k| set(k))
                .map(|k| ((*k).to_owned(), cred[*k].clone()))
                .collect()
        };
        let mut info = Map::new();
        if self.vim_type == "kubernetes" {
            let mut interface = Map::new();
            interface.insert("endpoint".into(), json!(self.auth_url));
            if set("ssl_ca_cert") {
                interface.insert("ssl_ca_cert".into(), cred["ssl_ca_cert"].clone());
            }
            let access = if set("oidc_token_url") {
                pick(&[
                    "oidc_token_url",
                    "username",
                    "password",
                    "client_id",
                    "client_secret",
                ])
            } else if set("username") && set("password") {
                pick(&["username", "password"])
            } else {
                pick(&["bearer_token"])
            };
            info.insert("interfaceInfo".into(), Value::Object(interface));
            info.insert("accessInfo".into(), Value::Object(access));
        } else {
            info.insert(
                "interfaceInfo".into(),
                json!({"endpoint": self.auth_url, "skipCertificateHostnameCheck": true, "skipCertificateVerification": true}),
            );
            let mut access = pick(&["username", "password"]);
            if let Some(region) = self.regions.first() {
                access.insert("region".into(), json!(region));
            }
            if let Some(project) = self.vim_project.get("name") {
                access.insert("project".into(), project.clone());
            }
            for (from, to) in [
                ("project_domain_name", "projectDomain"),
                ("user_domain_name", "userDomain"),
            ] {
                if let Some(v) = cred.get(from) {
                    access.insert(to.into(), v.clone());
                }
            }
            info.insert("accessInfo".into(), Value::Object(access));
        }
        if !self.extra.is_empty() {
            info.insert("extra".into(), Value::Object(self.extra.clone()));
        }
        info
    }
}

impl VimService {
    /// The VIM `vim_id` if the caller may use it (own project or shared), or, with no id,
    /// the caller's project's default VIM (`None` when it has none).
    pub async fn registered(
        &self,
        ctx: &RequestContext,
        vim_id: Option<&str>,
    ) -> Result<Option<RegisteredVim>, VimError> {
        let row = match vim_id {
            Some(id) => match self.db().get_vim(id).await? {
                Some(row) if ctx.can_see_tenant(&row.tenant_id) || row.shared => row,
                _ => return Err(VimError::NotFound(id.into())),
            },
            None => {
                let Some(project) = ctx.project_id.as_deref() else {
                    return Ok(None);
                };
                match self.db().default_vim(project).await? {
                    Some(row) => row,
                    None => return Ok(None),
                }
            }
        };
        let keys = self.vault().open(&row.id)?;
        let mut auth_cred = parse_object(&row.auth_cred);
        auth_cred::decrypt(&mut auth_cred, &keys)?;
        let placement = parse_object(&row.placement_attr);
        let regions = placement
            .get("regions")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(Some(RegisteredVim {
            id: row.id,
            vim_type: row.vim_type,
            auth_url: row.auth_url,
            auth_cred,
            vim_project: parse_object(&row.vim_project),
            extra: parse_object(&row.extra),
            regions,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubernetes(auth_cred: Value) -> RegisteredVim {
        RegisteredVim {
            id: "vim-1".into(),
            vim_type: "kubernetes".into(),
            auth_url: "https://k8s:6443".into(),
            auth_cred: auth_cred.as_object().cloned().unwrap_or_default(),
            vim_project: Map::new(),
            extra: Map::new(),
            regions: Vec::new(),
        }
    }

    #[test]
    fn oidc_first_then_basic_then_the_token() {
        let oidc = kubernetes(json!({
            "oidc_token_url": "https://idp/token", "username": "u", "password": "p",
            "client_id": "c", "client_secret": "s", "bearer_token": "t", "ssl_ca_cert": "PEM",
        }));
        let info = oidc.connection();
        assert_eq!(
            info["interfaceInfo"],
            json!({"endpoint": "https://k8s:6443", "ssl_ca_cert": "PEM"})
        );
        assert_eq!(
            info["accessInfo"],
            json!({"oidc_token_url": "https://idp/token", "username": "u", "password": "p", "client_id": "c", "client_secret": "s"})
        );
        let basic = kubernetes(json!({"username": "u", "password": "p", "bearer_token": "t"}));
        assert_eq!(
            basic.connection()["accessInfo"],
            json!({"username": "u", "password": "p"})
        );
        // A token-only VIM as Tacker stores it, and an OIDC URL that is only a placeholder.
        for cred in [
            json!({"bearer_token": "t", "username": "None", "password": null}),
            json!({"bearer_token": "t", "oidc_token_url": "None", "ssl_ca_cert": ""}),
        ] {
            let info = kubernetes(cred).connection();
            assert_eq!(info["accessInfo"], json!({"bearer_token": "t"}));
            assert_eq!(info["interfaceInfo"], json!({"endpoint": "https://k8s:6443"}));
        }
    }
}
