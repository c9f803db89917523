//! A mini OIDC issuer in Rust for the rules the real IdP cannot be made to break: ES256
//! keys (rcgen) that can be rotated, any claims, and an issuer that starts late.

use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    PKCS_ECDSA_P256_SHA256,
};
use serde_json::{json, Value};

pub struct SigningKey {
    pub kid: String,
    pem: String,
    jwk: Value,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let raw = key.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        SigningKey {
            kid: kid.to_string(),
            pem: key.serialize_pem(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                        "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_pem(self.pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }
}

/// A running issuer; the published key set can be changed.
pub struct Issuer {
    pub url: String,
    pub ca_pem: String,
    published: Arc<Mutex<Vec<Value>>>,
    handle: axum_server::Handle<std::net::SocketAddr>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// A CA (PEM) and a serving config for 127.0.0.1 signed by it.
pub fn tls() -> (String, Arc<rustls::ServerConfig>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mini issuer CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
    (ca.pem(), Arc::new(config))
}

impl Issuer {
    /// Starts on `listener` with `tls` (from [`tls`]), publishing `keys`; the discovery
    /// document names `issuer_claim` (default: its own URL) as its issuer.
    pub fn start_on(
        listener: std::net::TcpListener,
        tls: (String, Arc<rustls::ServerConfig>),
        keys: &[&SigningKey],
        issuer_claim: Option<&str>,
    ) -> Issuer {
        let addr = listener.local_addr().unwrap();
        let url = format!("https://{addr}");
        let (ca_pem, config) = tls;
        let published = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()));
        let discovery = json!({
            "issuer": issuer_claim.unwrap_or(&url), "jwks_uri": format!("{url}/jwks"),
            "token_endpoint": format!("{url}/token"), "id_token_signing_alg_values_supported": ["ES256"],
        });
        let jwks = published.clone();
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/jwks",
                get(move || {
                    let keys = jwks.lock().unwrap().clone();
                    async move { Json(json!({"keys": keys})) }
                }),
            );
        listener.set_nonblocking(true).unwrap();
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))
            .unwrap()
            .handle(handle.clone())
            .serve(app.into_make_service());
        tokio::spawn(server);
        Issuer {
            url,
            ca_pem,
            published,
            handle,
        }
    }

    pub fn start(keys: &[&SigningKey]) -> Issuer {
        Issuer::start_on(
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            tls(),
            keys,
            None,
        )
    }

    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.published.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    /// Standard claims for `aud`, valid for a minute, plus `extra`.
    pub fn claims(&self, aud: &str, extra: Value) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({"iss": self.url, "aud": aud, "sub": "user-1", "iat": now, "exp": now + 60});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    }
}
