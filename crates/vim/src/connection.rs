//! A registered VIM with its credentials in clear, for the lifecycle (which copies them
//! into an instance's vimConnectionInfo) and the infra drivers.

use serde_json::{Map, Value};
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
