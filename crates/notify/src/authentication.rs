//! SOL013 SubscriptionAuthentication: validation of a request's object, encryption of its
//! secrets at rest (`paramsBasic.password`, `paramsOauth2ClientCredentials.clientPassword`,
//! fernet with the subscription's own key), and the typed form the sender uses.
//!
//! ```json
//! {"authType": ["BASIC" | "OAUTH2_CLIENT_CREDENTIALS" | "OAUTH2_CLIENT_CERT"],
//!  "paramsBasic": {"userName": "...", "password": "..."},
//!  "paramsOauth2ClientCredentials": {"clientId": "...", "clientPassword": "...", "tokenEndpoint": "..."},
//!  "paramsOauth2ClientCert": {"clientId": "...", "certificateRef": {"type": "...", "value": "..."},
//!                             "tokenEndpoint": "..."}}
//! ```

use std::fmt;

use serde_json::Value;
use tacker_crypto::{VaultError, VimKeys};
use tacker_db::StoredJson;
use url::Url;

pub const BASIC: &str = "BASIC";
pub const OAUTH2_CLIENT_CREDENTIALS: &str = "OAUTH2_CLIENT_CREDENTIALS";
pub const OAUTH2_CLIENT_CERT: &str = "OAUTH2_CLIENT_CERT";

/// The secret fields: (params object, field).
const SECRETS: &[(&str, &str)] = &[
    ("paramsBasic", "password"),
    ("paramsOauth2ClientCredentials", "clientPassword"),
];

/// Why a SubscriptionAuthentication object cannot be used. The messages of a request's
/// object are shown to the client (400); they name the missing or wrong attribute.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticationError {
    #[error("authentication must be an object")]
    NotAnObject,
    #[error("authentication.authType is required")]
    NoAuthType,
    #[error("authentication.authType must be a non-empty list")]
    AuthTypeNotAList,
    #[error("authentication.authType must be a list of strings")]
    AuthTypeNotStrings,
    #[error("authType TLS_CERT is not supported")]
    TlsCert,
    #[error("unknown authType {0:?}: expected {BASIC}, {OAUTH2_CLIENT_CREDENTIALS} or {OAUTH2_CLIENT_CERT}")]
    UnknownAuthType(String),
    #[error("{params} is required for authType {auth_type}")]
    MissingParams { params: String, auth_type: String },
    #[error("{params}.{field} is required for authType {auth_type} (a non-empty string)")]
    MissingParam {
        params: String,
        field: String,
        auth_type: String,
    },
    #[error("{params}.certificateRef is required for authType {OAUTH2_CLIENT_CERT}")]
    NoCertificateRef { params: String },
    #[error("{params}.certificateRef.{field} is required for authType {OAUTH2_CLIENT_CERT}")]
    CertificateRefField { params: String, field: &'static str },
    #[error("{params}.tokenEndpoint must be an absolute URI")]
    TokenEndpointNotAbsolute {
        params: String,
        #[source]
        source: url::ParseError,
    },
    #[error("{params}.tokenEndpoint must be an http or https URI")]
    TokenEndpointNotHttp { params: String },
    #[error(
        "{params}.tokenEndpoint must be an https URI: OAUTH2_CLIENT_CERT authenticates with a TLS client certificate"
    )]
    TokenEndpointNotHttps { params: String },
    #[error("a stored secret cannot be decrypted with the subscription's key")]
    StoredSecret(#[source] VaultError),
}

/// How notifications to one subscriber authenticate, secrets in clear (memory only).
/// When several types are listed, the first of BASIC, OAUTH2_CLIENT_CREDENTIALS,
/// OAUTH2_CLIENT_CERT is used, as Tacker does.
#[derive(Clone, PartialEq, Eq)]
pub enum SubscriptionAuth {
    /// HTTP Basic with these credentials.
    Basic { user_name: String, password: String },
    /// A bearer token from `token_endpoint` (client credentials grant, client
    /// authenticated with HTTP Basic).
    ClientCredentials {
        client_id: String,
        client_password: String,
        token_endpoint: Url,
    },
    /// A certificate-bound bearer token from `token_endpoint` (RFC 8705 tls_client_auth);
    /// the token request and the notification go over mutual TLS with the configured
    /// client certificate.
    ClientCert { client_id: String, token_endpoint: Url },
}

impl fmt::Debug for SubscriptionAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscriptionAuth::Basic { user_name, .. } => {
                write!(f, "Basic {{ user_name: {user_name:?}, password: *** }}")
            }
            SubscriptionAuth::ClientCredentials {
                client_id,
                token_endpoint,
                ..
            } => write!(
                f,
                "ClientCredentials {{ client_id: {client_id:?}, client_password: ***, token_endpoint: {} }}",
                token_endpoint.as_str()
            ),
            SubscriptionAuth::ClientCert {
                client_id,
                token_endpoint,
            } => write!(
                f,
                "ClientCert {{ client_id: {client_id:?}, token_endpoint: {} }}",
                token_endpoint.as_str()
            ),
        }
    }
}

impl SubscriptionAuth {
    /// The typed form of a SubscriptionAuthentication object whose secrets are in clear
    /// (a request body, or a stored one after [`decrypt_authentication`]).
    pub fn parse(auth: &Value) -> Result<Self, AuthenticationError> {
        validate_authentication(auth)?;
        let types = auth_types(auth)?;
        // Validation guarantees every field read below.
        let text = |params: &str, field: &str| -> String {
            auth[params][field].as_str().unwrap_or_default().to_string()
        };
        let endpoint = |params: &str| token_endpoint(auth, params);
        if types.contains(&BASIC) {
            return Ok(SubscriptionAuth::Basic {
                user_name: text("paramsBasic", "userName"),
                password: text("paramsBasic", "password"),
            });
        }
        if types.contains(&OAUTH2_CLIENT_CREDENTIALS) {
            let params = "paramsOauth2ClientCredentials";
            return Ok(SubscriptionAuth::ClientCredentials {
                client_id: text(params, "clientId"),
                client_password: text(params, "clientPassword"),
                token_endpoint: endpoint(params)?,
            });
        }
        let params = "paramsOauth2ClientCert";
        Ok(SubscriptionAuth::ClientCert {
            client_id: text(params, "clientId"),
            token_endpoint: endpoint(params)?,
        })
    }

    /// The typed form of a stored `lcm_subscriptions.authentication` (secrets encrypted
    /// with `keys`).
    pub fn from_stored(stored: &StoredJson, keys: &VimKeys) -> Result<Self, AuthenticationError> {
        let mut auth = stored.to_value();
        decrypt_authentication(&mut auth, keys).map_err(AuthenticationError::StoredSecret)?;
        SubscriptionAuth::parse(&auth)
    }
}

fn auth_types(auth: &Value) -> Result<Vec<&str>, AuthenticationError> {
    let Some(list) = auth.get("authType") else {
        return Err(AuthenticationError::NoAuthType);
    };
    let Some(list) = list.as_array().filter(|l| !l.is_empty()) else {
        return Err(AuthenticationError::AuthTypeNotAList);
    };
    list.iter()
        .map(|t| t.as_str().ok_or(AuthenticationError::AuthTypeNotStrings))
        .collect()
}

fn token_endpoint(auth: &Value, params: &str) -> Result<Url, AuthenticationError> {
    let value = auth[params]["tokenEndpoint"].as_str().unwrap_or_default();
    let url = Url::parse(value).map_err(|source| AuthenticationError::TokenEndpointNotAbsolute {
        params: params.to_owned(),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AuthenticationError::TokenEndpointNotHttp {
            params: params.to_owned(),
        });
    }
    if params == "paramsOauth2ClientCert" && url.scheme() != "https" {
        return Err(AuthenticationError::TokenEndpointNotHttps {
            params: params.to_owned(),
        });
    }
    Ok(url)
}

/// Checks a SubscriptionAuthentication object from a request; the error is a message for
/// a 400 answer, naming the missing or wrong attribute.
pub fn validate_authentication(auth: &Value) -> Result<(), AuthenticationError> {
    if !auth.is_object() {
        return Err(AuthenticationError::NotAnObject);
    }
    let types = auth_types(auth)?;
    for auth_type in &types {
        match *auth_type {
            BASIC => require_params(auth, BASIC, "paramsBasic", &["userName", "password"])?,
            OAUTH2_CLIENT_CREDENTIALS => {
                let params = "paramsOauth2ClientCredentials";
                require_params(
                    auth,
                    auth_type,
                    params,
                    &["clientId", "clientPassword", "tokenEndpoint"],
                )?;
                token_endpoint(auth, params)?;
            }
            OAUTH2_CLIENT_CERT => {
                let params = "paramsOauth2ClientCert";
                require_params(auth, auth_type, params, &["clientId", "tokenEndpoint"])?;
                let Some(reference) = auth[params].get("certificateRef").filter(|r| r.is_object()) else {
                    return Err(AuthenticationError::NoCertificateRef {
                        params: params.to_owned(),
                    });
                };
                for field in ["type", "value"] {
                    if !is_filled(reference.get(field)) {
                        return Err(AuthenticationError::CertificateRefField {
                            params: params.to_owned(),
                            field,
                        });
                    }
                }
                token_endpoint(auth, params)?;
            }
            "TLS_CERT" => return Err(AuthenticationError::TlsCert),
            other => return Err(AuthenticationError::UnknownAuthType(other.to_owned())),
        }
    }
    Ok(())
}

fn is_filled(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|s| !s.is_empty())
}

fn require_params(
    auth: &Value,
    auth_type: &str,
    params: &str,
    fields: &[&str],
) -> Result<(), AuthenticationError> {
    let Some(object) = auth.get(params).filter(|p| p.is_object()) else {
        return Err(AuthenticationError::MissingParams {
            params: params.to_owned(),
            auth_type: auth_type.to_owned(),
        });
    };
    for field in fields {
        if !is_filled(object.get(*field)) {
            return Err(AuthenticationError::MissingParam {
                params: params.to_owned(),
                field: (*field).to_owned(),
                auth_type: auth_type.to_owned(),
            });
        }
    }
    Ok(())
}

/// Encrypts the secrets of a SubscriptionAuthentication object in place with the
/// subscription's keys (`vault.create(&subscription_id)`), before it is stored. A secret
/// that is not a string is encrypted as its JSON text: nothing is ever stored in clear.
pub fn encrypt_authentication(auth: &mut Value, keys: &VimKeys) {
    for (params, field) in SECRETS {
        if let Some(secret) = auth.get_mut(*params).and_then(|p| p.get_mut(*field)) {
            let plain = match &*secret {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            *secret = Value::String(keys.encrypt(&plain));
        }
    }
}

/// Decrypts the secrets that [`encrypt_authentication`] encrypted, in place.
pub fn decrypt_authentication(auth: &mut Value, keys: &VimKeys) -> Result<(), VaultError> {
    for (params, field) in SECRETS {
        if let Some(secret) = auth.get_mut(*params).and_then(|p| p.get_mut(*field)) {
            if let Value::String(token) = secret {
                *secret = Value::String(keys.decrypt(token)?);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(auth: Value) -> String {
        validate_authentication(&auth).unwrap_err().to_string()
    }

    #[test]
    fn missing_parameters_are_named() {
        assert_eq!(err(json!([])), "authentication must be an object");
        assert_eq!(err(json!({})), "authentication.authType is required");
        assert_eq!(
            err(json!({"authType": []})),
            "authentication.authType must be a non-empty list"
        );
        assert_eq!(
            err(json!({"authType": ["BASIC"]})),
            "paramsBasic is required for authType BASIC"
        );
        assert!(
            err(json!({"authType": ["BASIC"], "paramsBasic": {"userName": "u"}}))
                .starts_with("paramsBasic.password is required for authType BASIC")
        );
        assert!(err(json!({"authType": ["OAUTH2_CLIENT_CREDENTIALS"],
            "paramsOauth2ClientCredentials": {"clientId": "c", "clientPassword": "p"}}))
        .starts_with("paramsOauth2ClientCredentials.tokenEndpoint is required"));
        assert_eq!(
            err(json!({"authType": ["OAUTH2_CLIENT_CREDENTIALS"],
                "paramsOauth2ClientCredentials": {"clientId": "c", "clientPassword": "p", "tokenEndpoint": "/token"}})),
            "paramsOauth2ClientCredentials.tokenEndpoint must be an absolute URI"
        );
        assert_eq!(
            err(json!({"authType": ["OAUTH2_CLIENT_CERT"],
                "paramsOauth2ClientCert": {"clientId": "c", "tokenEndpoint": "https://idp/token"}})),
            "paramsOauth2ClientCert.certificateRef is required for authType OAUTH2_CLIENT_CERT"
        );
        assert!(err(json!({"authType": ["OAUTH2_CLIENT_CERT"],
            "paramsOauth2ClientCert": {"clientId": "c", "tokenEndpoint": "http://idp/token",
                "certificateRef": {"type": "x5t#S256", "value": "abc"}}}))
        .contains("must be an https URI"));
        assert_eq!(
            err(json!({"authType": ["TLS_CERT"]})),
            "authType TLS_CERT is not supported"
        );
        assert!(err(json!({"authType": ["DIGEST"]})).starts_with("unknown authType \"DIGEST\""));
    }

    #[test]
    fn basic_comes_first_as_in_tacker() {
        let auth = json!({
            "authType": ["OAUTH2_CLIENT_CREDENTIALS", "BASIC"],
            "paramsBasic": {"userName": "u", "password": "p"},
            "paramsOauth2ClientCredentials": {"clientId": "c", "clientPassword": "s",
                "tokenEndpoint": "https://idp.example/token"},
        });
        assert_eq!(
            SubscriptionAuth::parse(&auth).unwrap(),
            SubscriptionAuth::Basic {
                user_name: "u".into(),
                password: "p".into()
            }
        );
        let auth = json!({"authType": ["OAUTH2_CLIENT_CERT"], "paramsOauth2ClientCert": {"clientId": "c",
            "certificateRef": {"type": "x5t#S256", "value": "v"}, "tokenEndpoint": "https://idp.example/token"}});
        assert!(matches!(
            SubscriptionAuth::parse(&auth).unwrap(),
            SubscriptionAuth::ClientCert { client_id, .. } if client_id == "c"
        ));
    }

    #[test]
    fn secrets_round_trip_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let vault = tacker_crypto::KeyVault::new(dir.path(), None);
        vault.ensure_dir().unwrap();
        let keys = vault.create("sub-1").unwrap();
        let original = json!({
            "authType": ["BASIC", "OAUTH2_CLIENT_CREDENTIALS"],
            "paramsBasic": {"userName": "user", "password": "basic-secret"},
            "paramsOauth2ClientCredentials": {"clientId": "c", "clientPassword": "client-secret",
                "tokenEndpoint": "https://idp.example/token"},
        });
        let mut stored = original.clone();
        encrypt_authentication(&mut stored, &keys);
        let text = StoredJson::from_value(&stored);
        let text = text.as_str();
        assert!(
            !text.contains("basic-secret") && !text.contains("client-secret"),
            "{text}"
        );
        assert_eq!(stored["paramsBasic"]["userName"], "user");
        assert!(stored["paramsBasic"]["password"]
            .as_str()
            .unwrap()
            .starts_with("gAAAAA"));

        let auth = SubscriptionAuth::from_stored(&StoredJson::from_value(&stored), &keys).unwrap();
        assert!(!format!("{auth:?}").contains("basic-secret"));
        let mut back = stored.clone();
        decrypt_authentication(&mut back, &keys).unwrap();
        assert_eq!(back, original);

        let other = vault.create("sub-2").unwrap();
        assert!(SubscriptionAuth::from_stored(&StoredJson::from_value(&stored), &other).is_err());
    }

    #[test]
    fn non_string_secrets_are_not_stored_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let vault = tacker_crypto::KeyVault::new(dir.path(), None);
        vault.ensure_dir().unwrap();
        let keys = vault.create("sub-1").unwrap();
        let mut auth = json!({"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": 12345}});
        encrypt_authentication(&mut auth, &keys);
        assert!(!auth.to_string().contains("12345"));
        decrypt_authentication(&mut auth, &keys).unwrap();
        assert_eq!(auth["paramsBasic"]["password"], "12345");
    }
}
