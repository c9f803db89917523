//! Claim mapping: the username claim (with `email_verified` when it is `email`) and its
//! prefix, the groups claim and its prefix, and the required claims.

use serde_json::Value;

use super::OidcConfig;
use crate::auth::UserInfo;

pub fn map_user(config: &OidcConfig, claims: &Value) -> Result<UserInfo, String> {
    let claim = config.username_claim.as_str();
    let username = match claims.get(claim) {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(format!("oidc: claim {claim:?} is not a string")),
        None => return Err(format!("oidc: claim not present: {claim:?}")),
    };
    if claim == "email" {
        match claims.get("email_verified") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(format!("oidc: email not verified: {username:?}")),
            Some(_) => return Err("oidc: email_verified claim is not a boolean".into()),
        }
    }
    let mut user = UserInfo::new(&format!("{}{username}", config.effective_username_prefix()));
    if let Some(groups_claim) = &config.groups_claim {
        let prefix = config.groups_prefix.as_deref().unwrap_or_default();
        let groups: Vec<String> = match claims.get(groups_claim) {
            None => Vec::new(),
            Some(Value::String(g)) => vec![g.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| g.as_str().map(String::from))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("oidc: groups claim {groups_claim:?} is not an array of strings"))?,
            Some(_) => {
                return Err(format!(
                    "oidc: groups claim {groups_claim:?} is not a string or array"
                ))
            }
        };
        user.groups = groups.into_iter().map(|g| format!("{prefix}{g}")).collect();
    }
    for (key, value) in &config.required_claims {
        match claims.get(key) {
            Some(Value::String(v)) if v == value => {}
            Some(other) => {
                return Err(format!(
                    "oidc: required claim {key:?} value does not match: {other}"
                ));
            }
            None => return Err(format!("oidc: required claim {key:?} not present")),
        }
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://idp.example";

    #[test]
    fn username_and_prefix() {
        let config = OidcConfig::new(ISSUER, "c");
        let user = map_user(&config, &json!({"sub": "alice"})).unwrap();
        assert_eq!(user.username, "https://idp.example#alice");
        let config = OidcConfig::new(ISSUER, "c")
            .username_claim("name")
            .username_prefix("-");
        assert_eq!(
            map_user(&config, &json!({"name": "Alice"})).unwrap().username,
            "Alice"
        );
        assert!(map_user(&config, &json!({"sub": "alice"})).is_err());
        assert!(map_user(&config, &json!({"name": 3})).is_err());
    }

    #[test]
    fn email_verified() {
        let config = OidcConfig::new(ISSUER, "c").username_claim("email");
        let ok = map_user(&config, &json!({"email": "a@x", "email_verified": true})).unwrap();
        assert_eq!(ok.username, "a@x");
        assert!(map_user(&config, &json!({"email": "a@x"})).is_ok());
        assert!(map_user(&config, &json!({"email": "a@x", "email_verified": false})).is_err());
        assert!(map_user(&config, &json!({"email": "a@x", "email_verified": "true"})).is_err());
    }

    #[test]
    fn groups_and_required_claims() {
        let config = OidcConfig::new(ISSUER, "c")
            .groups_claim("groups")
            .groups_prefix("oidc:")
            .required_claim("tenant", "t1");
        let user = map_user(
            &config,
            &json!({"sub": "a", "groups": ["dev", "ops"], "tenant": "t1"}),
        )
        .unwrap();
        assert_eq!(user.groups, vec!["oidc:dev", "oidc:ops"]);
        let user = map_user(&config, &json!({"sub": "a", "groups": "dev", "tenant": "t1"})).unwrap();
        assert_eq!(user.groups, vec!["oidc:dev"]);
        assert!(map_user(&config, &json!({"sub": "a", "groups": [1], "tenant": "t1"})).is_err());
        assert!(map_user(&config, &json!({"sub": "a", "tenant": "t2"})).is_err());
        assert!(map_user(&config, &json!({"sub": "a"})).is_err());
    }
}
