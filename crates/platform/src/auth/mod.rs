//! Authentication: JWT bearer tokens for customers and admins, and the internal service token.
//! Tokens are checked against a shared secret (HS256), a public key (RS256/ES256), or an
//! identity provider's JWKS by `kid` ([`jwks`]); `iss` and `aud` when configured.

pub mod jwks;

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::{ExposeSecret, SecretString};
use crate::http::ApiError;

/// The longest `sub` a token may carry, in bytes.
pub const MAX_SUBJECT_LEN: usize = 255;

/// Clock skew allowed on `exp` and `nbf`, in seconds: a token is accepted from `nbf − 30 s`
/// until `exp + 30 s`.
pub const CLOCK_LEEWAY_SECS: u64 = 30;

/// The role that may use `/api/v1/admin/...`.
pub const ADMIN_ROLE: &str = "admin";

/// Where verification keys come from.
#[derive(Clone)]
enum Keys {
    /// One key (secret or PEM).
    Static(DecodingKey),
    /// An identity provider's key set, by `kid`.
    Jwks(Arc<jwks::Jwks>),
}

/// How tokens are verified; put in app data as `web::Data<Auth>`.
#[derive(Clone)]
pub struct Auth {
    keys: Keys,
    validation: Validation,
    internal_token: SecretString,
}

/// Errors building [`Auth`].
#[derive(Debug, thiserror::Error)]
#[error("invalid JWT key: {0}")]
pub struct AuthConfigError(String);

impl Auth {
    /// HS256 with a shared secret (`JWT_SECRET`).
    pub fn with_secret(secret: &SecretString, internal_token: SecretString) -> Self {
        Self::build(
            DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            vec![Algorithm::HS256],
            internal_token,
        )
    }

    /// RS256 or ES256 with a public key (`JWT_PUBLIC_KEY_PEM`).
    pub fn with_public_key_pem(pem: &str, internal_token: SecretString) -> Result<Self, AuthConfigError> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            return Ok(Self::build(key, vec![Algorithm::RS256], internal_token));
        }
        DecodingKey::from_ec_pem(pem.as_bytes())
            .map(|key| Self::build(key, vec![Algorithm::ES256], internal_token))
            .map_err(|e| AuthConfigError(e.to_string()))
    }

    /// RS256 / ES256 keys of an identity provider's JWKS (`JWT_JWKS_URL`), chosen by the
    /// token's `kid`.
    pub fn with_jwks_url(url: &str, internal_token: SecretString) -> Result<Self, AuthConfigError> {
        let set = jwks::Jwks::new(url).map_err(|e| AuthConfigError(e.to_string()))?;
        Ok(Self::with_jwks(set, internal_token))
    }

    /// The same with a key set built by the caller (its own timing).
    pub fn with_jwks(set: jwks::Jwks, internal_token: SecretString) -> Self {
        let mut auth = Self::build(
            DecodingKey::from_secret(&[]),
            vec![Algorithm::RS256, Algorithm::ES256],
            internal_token,
        );
        auth.keys = Keys::Jwks(Arc::new(set));
        auth
    }

    /// Also requires `iss` to be `issuer` (`JWT_ISSUER`).
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<&str>) -> Self {
        if let Some(iss) = issuer {
            self.validation.set_issuer(&[iss]);
        }
        self
    }

    /// Also requires `aud` to hold `audience` (`JWT_AUDIENCE`).
    #[must_use]
    pub fn with_audience(mut self, audience: Option<&str>) -> Self {
        if let Some(aud) = audience {
            self.validation.set_audience(&[aud]);
            self.validation.validate_aud = true;
        }
        self
    }

    fn build(key: DecodingKey, algorithms: Vec<Algorithm>, internal_token: SecretString) -> Self {
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms;
        validation.leeway = CLOCK_LEEWAY_SECS;
        // jsonwebtoken checks `nbf` only when asked: a token valid from tomorrow is not valid now.
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Self { keys: Keys::Static(key), validation, internal_token }
    }

    /// Verifies a bearer token (a subject over [`MAX_SUBJECT_LEN`] bytes or with control
    /// characters is refused).
    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let invalid = || ApiError::Unauthorized("The access token is invalid or expired".to_owned());
        let data = match &self.keys {
            Keys::Static(key) => {
                jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|_| invalid())?
            }
            Keys::Jwks(set) => {
                let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
                let kid = header.kid.filter(|k| !k.is_empty() && k.len() <= 256).ok_or_else(invalid)?;
                let found = set.key(&kid).await?;
                if header.alg != found.algorithm {
                    return Err(invalid());
                }
                let mut validation = self.validation.clone();
                validation.algorithms = vec![found.algorithm];
                jsonwebtoken::decode::<Claims>(token, &found.key, &validation).map_err(|_| invalid())?
            }
        };
        let mut roles = data.claims.roles;
        if let Some(role) = data.claims.role {
            roles.push(role);
        }
        if data.claims.sub.is_empty() {
            return Err(ApiError::Unauthorized("The access token has no subject".to_owned()));
        }
        // The subject is stored and compared in PostgreSQL: a NUL cannot be, and no issuer
        // needs more than 255 characters (Auth0 and Keycloak ids are well under 100).
        if data.claims.sub.len() > MAX_SUBJECT_LEN || data.claims.sub.chars().any(char::is_control) {
            return Err(ApiError::Unauthorized("The access token's subject is not a valid id".to_owned()));
        }
        Ok(Principal { subject: data.claims.sub, roles })
    }

    /// Constant-time comparison with the internal service token.
    pub fn is_internal_token(&self, token: &str) -> bool {
        let expected = self.internal_token.expose_secret().as_bytes();
        !expected.is_empty() && bool::from(expected.ct_eq(token.as_bytes()))
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    role: Option<String>,
}

/// A signed-in customer or admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The JWT subject (customer id).
    pub subject: String,
    /// Roles from `roles` (array) and/or `role` (string).
    pub roles: Vec<String>,
}

impl Principal {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

fn auth_of(req: &HttpRequest) -> Result<&Auth, ApiError> {
    req.app_data::<web::Data<Auth>>()
        .map(web::Data::get_ref)
        .ok_or_else(|| ApiError::internal("Auth is not configured for this route"))
}

/// The boxed future of an extractor that may have to fetch keys.
type Verifying<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn principal(req: &HttpRequest) -> Verifying<Principal> {
    let auth = req.app_data::<web::Data<Auth>>().cloned();
    let token = bearer(req).map(str::to_owned);
    Box::pin(async move {
        let auth = auth.ok_or_else(|| ApiError::internal("Auth is not configured for this route"))?;
        let token = token.ok_or_else(|| ApiError::Unauthorized("A bearer token is required".to_owned()))?;
        auth.verify(&token).await
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Verifying<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        principal(req)
    }
}

/// An optional principal: `None` for guests, 401 for a present but invalid token.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = Verifying<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if bearer(req).is_none() {
            return Box::pin(ready(Ok(Self(None))));
        }
        let verifying = principal(req);
        Box::pin(async move { verifying.await.map(|p| Self(Some(p))) })
    }
}

/// An admin: 401 without a valid token, 403 without the `admin` role.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Verifying<Self>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifying = principal(req);
        Box::pin(async move {
            let p = verifying.await?;
            if p.is_admin() {
                Ok(Admin(p))
            } else {
                Err(ApiError::Forbidden("The admin role is required".to_owned()))
            }
        })
    }
}

/// A sibling service calling `/internal/v1/...` with the shared service token.
#[derive(Debug, Clone, Copy)]
pub struct InternalCaller;

impl FromRequest for InternalCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(auth_of(req).and_then(|auth| match bearer(req) {
            Some(token) if auth.is_internal_token(token) => Ok(InternalCaller),
            Some(_) => Err(ApiError::Forbidden("The service token is not valid".to_owned())),
            None => Err(ApiError::Unauthorized("A service token is required".to_owned())),
        }))
    }
}
