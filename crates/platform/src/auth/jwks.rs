//! Keys from an identity provider's JWKS (`JWT_JWKS_URL`: Keycloak, Auth0, ...): fetched on
//! first use, kept, fetched again when they are older than [`MAX_AGE`] or a token names a `kid`
//! the set does not have (key rotation) — at most once per [`REFETCH_GAP`], so tokens with
//! invented `kid`s cannot make the service hammer the provider. A key removed from the set
//! (revoked) is refused after the next fetch.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::http::ApiError;

/// Keys older than this are fetched again on the next verification.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// The shortest time between two fetches caused by an unknown `kid`.
pub const REFETCH_GAP: Duration = Duration::from_secs(10);
/// Most keys taken from one set (the rest are ignored).
pub const MAX_KEYS: usize = 32;
/// Largest JWKS document read, in bytes.
const MAX_BYTES: usize = 256 * 1024;

/// One usable key.
#[derive(Clone)]
pub struct Key {
    /// The verification key.
    pub key: DecodingKey,
    /// The one algorithm it verifies.
    pub algorithm: Algorithm,
}

#[derive(Default)]
struct Cached {
    by_kid: HashMap<String, Key>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// The cache of one JWKS URL.
pub struct Jwks {
    url: String,
    max_age: Duration,
    refetch_gap: Duration,
    client: reqwest::Client,
    cached: RwLock<Cached>,
    fetching: tokio::sync::Mutex<()>,
}

/// The RS256 / ES256 keys of a set, by `kid` (keys without one, of another kind or for
/// encryption are skipped).
pub fn keys_of(set: &JwkSet) -> HashMap<String, Key> {
    let mut out = HashMap::new();
    for jwk in &set.keys {
        if out.len() >= MAX_KEYS {
            break;
        }
        let Some(kid) = jwk.common.key_id.clone() else { continue };
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
        {
            continue;
        }
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
            _ => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            out.insert(kid, Key { key, algorithm });
        }
    }
    out
}

impl Jwks {
    /// A cache for `url` (nothing is fetched yet).
    pub fn new(url: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self {
            url: url.to_owned(),
            max_age: MAX_AGE,
            refetch_gap: REFETCH_GAP,
            client,
            cached: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Other ages than [`MAX_AGE`] and [`REFETCH_GAP`] (tests).
    #[must_use]
    pub fn with_timing(mut self, max_age: Duration, refetch_gap: Duration) -> Self {
        self.max_age = max_age;
        self.refetch_gap = refetch_gap;
        self
    }

    fn lookup(&self, kid: &str) -> (Option<Key>, bool, bool) {
        let Ok(c) = self.cached.read() else { return (None, true, true) };
        let stale = c.fetched_at.is_none_or(|t| t.elapsed() >= self.max_age);
        let may_refetch = c.last_attempt.is_none_or(|t| t.elapsed() >= self.refetch_gap);
        (c.by_kid.get(kid).cloned(), stale, may_refetch)
    }

    /// The key for `kid`: 401 when the provider does not list it, 503 when the provider cannot
    /// be reached and no key was ever fetched.
    pub async fn key(&self, kid: &str) -> Result<Key, ApiError> {
        let (found, stale, may_refetch) = self.lookup(kid);
        if let Some(key) = &found
            && !stale
        {
            return Ok(key.clone());
        }
        if may_refetch {
            let _one = self.fetching.lock().await;
            // Another request may have fetched while this one waited.
            let (_, stale_now, may_now) = self.lookup(kid);
            if may_now && (stale_now || found.is_none()) {
                self.fetch().await;
            }
        }
        match self.lookup(kid) {
            (Some(key), _, _) => Ok(key),
            _ if self.cached.read().is_ok_and(|c| c.fetched_at.is_none()) => Err(ApiError::Unavailable(
                "The identity provider's keys cannot be read; retry shortly".to_owned(),
            )),
            _ => Err(ApiError::Unauthorized("The access token is invalid or expired".to_owned())),
        }
    }

    async fn fetch(&self) {
        let result = async {
            let res = self.client.get(&self.url).send().await?.error_for_status()?;
            if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
                anyhow::bail!("the JWKS is larger than {MAX_BYTES} bytes");
            }
            let bytes = res.bytes().await?;
            if bytes.len() > MAX_BYTES {
                anyhow::bail!("the JWKS is larger than {MAX_BYTES} bytes");
            }
            Ok(keys_of(&serde_json::from_slice::<JwkSet>(&bytes)?))
        }
        .await;
        let Ok(mut c) = self.cached.write() else { return };
        c.last_attempt = Some(Instant::now());
        match result {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), url = %self.url, "JWKS fetched");
                c.by_kid = keys;
                c.fetched_at = Some(Instant::now());
            }
            // Keep what we had: a provider blip must not sign everyone out.
            Err(e) => {
                tracing::warn!(error = %e, url = %self.url, "JWKS fetch failed; keeping the keys we have");
            }
        }
    }
}
