//! OAuth2 client authentication at the authorization server, the five methods of
//! keystonemiddleware: client_secret_basic, client_secret_post, tls_client_auth,
//! private_key_jwt and client_secret_jwt (RFC 6749, RFC 7523, RFC 8705).

use std::path::PathBuf;
use std::str::FromStr;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use tacker_common::ExtOAuth2Options;

use super::OAuth2ConfigError;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How this service proves its identity to the authorization server.
#[derive(Clone)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(id:secret)`.
    SecretBasic { client_id: String, secret: String },
    /// `client_id` and `client_secret` in the form body.
    SecretPost { client_id: String, secret: String },
    /// `client_id` in the body; the TLS client certificate authenticates.
    TlsClientAuth { client_id: String },
    /// A JWT signed with the private key in `key_file` (re-read per call, so it can be rotated).
    PrivateKeyJwt {
        client_id: String,
        key_file: PathBuf,
        jwt: JwtSettings,
    },
    /// A JWT signed with the client secret as HMAC key.
    SecretJwt {
        client_id: String,
        secret: String,
        jwt: JwtSettings,
    },
}

impl std::fmt::Debug for ClientAuth {
    // Secrets stay out of logs: only the method and the client id are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientAuth({}, client_id={})", self.method(), self.client_id())
    }
}

/// What a client assertion is made of.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub algorithm: Algorithm,
    /// Seconds from `iat` to `exp`.
    pub lifetime: u64,
    /// The `aud` claim.
    pub audience: String,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    jti: String,
    iat: u64,
    exp: u64,
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
}

/// A client assertion could not be built (bad key file, key of the wrong kind).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the client assertion: {0}")]
pub struct ClientAuthError(String);

impl ClientAuth {
    /// Builds the method from the options, checking at start-up what keystonemiddleware
    /// checks: client_id always, the secret or key and JWT settings per method.
    /// `audience` is the `aud` of client assertions.
    pub fn from_options(o: &ExtOAuth2Options, audience: &str) -> Result<Self, OAuth2ConfigError> {
        let client_id = o
            .client_id
            .clone()
            .ok_or_else(|| OAuth2ConfigError::new("client_id", "is required"))?;
        let secret = || {
            o.client_secret.clone().ok_or_else(|| {
                OAuth2ConfigError::new("client_secret", format!("is required for {}", o.auth_method))
            })
        };
        let jwt = || -> Result<JwtSettings, OAuth2ConfigError> {
            let name = o.jwt_algorithm.as_deref().ok_or_else(|| {
                OAuth2ConfigError::new("jwt_algorithm", format!("is required for {}", o.auth_method))
            })?;
            let algorithm = Algorithm::from_str(name).map_err(|_| {
                OAuth2ConfigError::new("jwt_algorithm", format!("unknown JWS algorithm {name:?}"))
            })?;
            if o.jwt_bearer_time_out == 0 {
                return Err(OAuth2ConfigError::new("jwt_bearer_time_out", "must be positive"));
            }
            Ok(JwtSettings {
                algorithm,
                lifetime: o.jwt_bearer_time_out,
                audience: audience.to_string(),
            })
        };
        let hmac = |a: Algorithm| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
        Ok(match o.auth_method.as_str() {
            "client_secret_basic" => ClientAuth::SecretBasic {
                client_id,
                secret: secret()?,
            },
            "client_secret_post" => ClientAuth::SecretPost {
                client_id,
                secret: secret()?,
            },
            "tls_client_auth" => {
                if o.certfile.is_none() || o.keyfile.is_none() {
                    return Err(OAuth2ConfigError::new(
                        "certfile",
                        "certfile and keyfile are required for tls_client_auth",
                    ));
                }
                ClientAuth::TlsClientAuth { client_id }
            }
            "client_secret_jwt" => {
                let jwt = jwt()?;
                if !hmac(jwt.algorithm) {
                    return Err(OAuth2ConfigError::new(
                        "jwt_algorithm",
                        "client_secret_jwt needs an HMAC algorithm (HS256, HS384, HS512)",
                    ));
                }
                ClientAuth::SecretJwt {
                    client_id,
                    secret: secret()?,
                    jwt,
                }
            }
            "private_key_jwt" => {
                let jwt = jwt()?;
                if hmac(jwt.algorithm) {
                    return Err(OAuth2ConfigError::new(
                        "jwt_algorithm",
                        "private_key_jwt needs an asymmetric algorithm (RS256, PS256, ES256, EdDSA, ...)",
                    ));
                }
                let key_file = o.jwt_key_file.clone().ok_or_else(|| {
                    OAuth2ConfigError::new("jwt_key_file", "is required for private_key_jwt")
                })?;
                let auth = ClientAuth::PrivateKeyJwt {
                    client_id,
                    key_file,
                    jwt,
                };
                // Fail at start-up, not at the first request, when the key is unusable.
                auth.assertion()
                    .map_err(|e| OAuth2ConfigError::new("jwt_key_file", e.0))?;
                auth
            }
            other => {
                return Err(OAuth2ConfigError::new(
                    "auth_method",
                    format!("unknown method {other:?}"),
                ))
            }
        })
    }

    /// The method's name as configured.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::SecretBasic { .. } => "client_secret_basic",
            ClientAuth::SecretPost { .. } => "client_secret_post",
            ClientAuth::TlsClientAuth { .. } => "tls_client_auth",
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
            ClientAuth::SecretJwt { .. } => "client_secret_jwt",
        }
    }

    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::SecretBasic { client_id, .. }
            | ClientAuth::SecretPost { client_id, .. }
            | ClientAuth::TlsClientAuth { client_id }
            | ClientAuth::PrivateKeyJwt { client_id, .. }
            | ClientAuth::SecretJwt { client_id, .. } => client_id,
        }
    }

    /// A form POST with the client's authentication and then `params`, in the field order
    /// keystonemiddleware sends.
    pub fn form_post(
        &self,
        request: reqwest::RequestBuilder,
        params: &[(&str, &str)],
    ) -> Result<reqwest::RequestBuilder, ClientAuthError> {
        let mut form: Vec<(&str, String)> = Vec::new();
        let mut request = request;
        match self {
            ClientAuth::SecretBasic { client_id, secret } => {
                // Not form-encoded first, as keystonemiddleware sends it.
                let pair = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
                request = request.header(reqwest::header::AUTHORIZATION, format!("Basic {pair}"));
            }
            ClientAuth::SecretPost { client_id, secret } => {
                form.push(("client_id", client_id.clone()));
                form.push(("client_secret", secret.clone()));
            }
            ClientAuth::TlsClientAuth { client_id } => form.push(("client_id", client_id.clone())),
            ClientAuth::PrivateKeyJwt { client_id, .. } | ClientAuth::SecretJwt { client_id, .. } => {
                form.push(("client_id", client_id.clone()));
                form.push(("client_assertion_type", ASSERTION_TYPE.into()));
                form.push(("client_assertion", self.assertion()?));
            }
        }
        form.extend(params.iter().map(|(k, v)| (*k, (*v).to_string())));
        Ok(request.form(&form))
    }

    /// A fresh client assertion JWT (RFC 7523): new `jti`, `iat` now, numeric times.
    fn assertion(&self) -> Result<String, ClientAuthError> {
        let (client_id, jwt, key) = match self {
            ClientAuth::SecretJwt {
                client_id,
                secret,
                jwt,
            } => (client_id, jwt, EncodingKey::from_secret(secret.as_bytes())),
            ClientAuth::PrivateKeyJwt {
                client_id,
                key_file,
                jwt,
            } => {
                let pem = std::fs::read(key_file)
                    .map_err(|e| ClientAuthError(format!("cannot read {}: {e}", key_file.display())))?;
                (client_id, jwt, private_key(jwt.algorithm, &pem)?)
            }
            _ => return Err(ClientAuthError("this method uses no assertion".into())),
        };
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims = AssertionClaims {
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            exp: iat + jwt.lifetime,
            iss: client_id,
            sub: client_id,
            aud: &jwt.audience,
        };
        let mut header = Header::new(jwt.algorithm);
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &key).map_err(|e| ClientAuthError(e.to_string()))
    }
}

fn private_key(algorithm: Algorithm, pem: &[u8]) -> Result<EncodingKey, ClientAuthError> {
    let key = match algorithm {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => EncodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => {
            return Err(ClientAuthError(format!(
                "{algorithm:?} is not a private-key algorithm"
            )))
        }
    };
    key.map_err(|e| {
        ClientAuthError(format!(
            "the key file does not hold a {algorithm:?} private key: {e}"
        ))
    })
}
