//! Stripe webhook signatures, as Stripe documents them: the `Stripe-Signature` header
//! `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, where each `v1` is HMAC-SHA256 over
//! `"{t}.{raw body}"` keyed with an endpoint secret.
//!
//! The payment-webhook service verifies with [`verify`] (every `v1` candidate against every
//! configured secret, so secrets can be rotated); the Stripe emulator signs with
//! [`header_value`]. Pure computation: the caller supplies the current time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest header accepted; Stripe's are well under 1 KiB even during rotation.
pub const MAX_HEADER_LEN: usize = 4096;
/// Most `v1` candidates checked, to bound the work a forged header can cause.
pub const MAX_CANDIDATES: usize = 8;
/// Stripe's default tolerance between the signed time stamp and now.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused. The messages name no secret and no payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is empty, too long, or not a list of `key=value` pairs.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// No `t=` element, more than one, or one that is not an integer.
    #[error("Stripe-Signature header has no valid timestamp")]
    MissingTimestamp,
    /// No well-formed `v1=` element.
    #[error("Stripe-Signature header has no v1 signature")]
    NoSignature,
    /// The time stamp is older than the tolerance allows.
    #[error("Stripe-Signature timestamp is outside the tolerance (too old)")]
    Stale,
    /// The time stamp is further in the future than the tolerance allows.
    #[error("Stripe-Signature timestamp is outside the tolerance (in the future)")]
    Future,
    /// No candidate matches any configured secret.
    #[error("no signature matches the payload")]
    Mismatch,
}

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The signed Unix time stamp (`t=`).
    pub timestamp: i64,
    /// The decoded `v1` HMACs, at most [`MAX_CANDIDATES`]; other schemes (`v0`) are ignored.
    pub v1: Vec<[u8; 32]>,
}

/// A signature that passed: which time stamp was signed and which secret matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The signed Unix time stamp.
    pub timestamp: i64,
    /// Index into the secrets given to [`verify`] of the one that matched.
    pub secret_index: usize,
}

/// Parses a `Stripe-Signature` header. `v1` values that are not 64 hex digits are skipped, as
/// Stripe's own libraries skip what they cannot use.
pub fn parse_header(header: &str) -> Result<SignatureHeader, SignatureError> {
    let header = header.trim();
    if header.is_empty() || header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for element in header.split(',') {
        let (key, value) = element.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::MissingTimestamp);
                }
                let t = value.parse::<i64>().map_err(|_| SignatureError::MissingTimestamp)?;
                timestamp = Some(t);
            }
            "v1" => {
                if v1.len() < MAX_CANDIDATES
                    && let Some(mac) = crate::hex::decode32(value)
                {
                    v1.push(mac);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if v1.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    Ok(SignatureHeader { timestamp, v1 })
}

/// Checks `header` against `payload` with each of `secrets`, at time `now` (Unix seconds),
/// allowing `tolerance_secs` of clock difference either way. Comparisons are constant-time.
pub fn verify<S: AsRef<str>>(
    header: &str,
    payload: &[u8],
    secrets: &[S],
    now: i64,
    tolerance_secs: i64,
) -> Result<Verified, SignatureError> {
    let parsed = parse_header(header)?;
    let age = now.saturating_sub(parsed.timestamp);
    if age > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    if age < tolerance_secs.saturating_neg() {
        return Err(SignatureError::Future);
    }
    for (secret_index, secret) in secrets.iter().enumerate() {
        let expected = keyed(secret.as_ref(), parsed.timestamp, payload);
        for candidate in &parsed.v1 {
            // `verify_slice` compares in constant time.
            if expected.clone().verify_slice(candidate).is_ok() {
                return Ok(Verified { timestamp: parsed.timestamp, secret_index });
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// The HMAC-SHA256 of `"{timestamp}.{payload}"` under `secret`.
pub fn compute(secret: &str, timestamp: i64, payload: &[u8]) -> [u8; 32] {
    keyed(secret, timestamp, payload).finalize().into_bytes().into()
}

/// A complete header value, `t=<timestamp>,v1=<hex>`, as Stripe sends it.
pub fn header_value(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", crate::hex::encode(&compute(secret, timestamp, payload)))
}

fn keyed(secret: &str, timestamp: i64, payload: &[u8]) -> HmacSha256 {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn a_signed_header_verifies() {
        let header = header_value(SECRET, 1_700_000_000, BODY);
        let ok = verify(&header, BODY, &[SECRET], 1_700_000_010, 300).unwrap();
        assert_eq!(ok, Verified { timestamp: 1_700_000_000, secret_index: 0 });
    }

    #[test]
    fn known_vector_matches_an_independent_hmac() {
        // Python: hmac.new(b"key", b"1.x", hashlib.sha256).hexdigest()
        assert_eq!(
            crate::hex::encode(&compute("key", 1, b"x")),
            "fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
    }

    #[test]
    fn wrong_secret_tampered_body_and_bad_times_are_refused() {
        let header = header_value(SECRET, 1000, BODY);
        assert_eq!(verify(&header, BODY, &["other"], 1000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header, b"{}", &[SECRET], 1000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header, BODY, &[SECRET], 1301, 300), Err(SignatureError::Stale));
        assert_eq!(verify(&header, BODY, &[SECRET], 699, 300), Err(SignatureError::Future));
        assert!(verify(&header, BODY, &[SECRET], 1300, 300).is_ok());
    }

    #[test]
    fn any_candidate_against_any_secret_passes() {
        let good = header_value("new_secret", 50, BODY);
        let mac = good.split_once("v1=").unwrap().1;
        let header = format!("t=50,v1={},v0=abc,v1={mac}", "0".repeat(64));
        let ok = verify(&header, BODY, &["old_secret", "new_secret"], 50, 300).unwrap();
        assert_eq!(ok.secret_index, 1);
    }

    #[test]
    fn malformed_headers_have_their_own_errors() {
        assert_eq!(parse_header(""), Err(SignatureError::Malformed));
        assert_eq!(parse_header("garbage"), Err(SignatureError::Malformed));
        assert_eq!(parse_header("v1=00"), Err(SignatureError::MissingTimestamp));
        assert_eq!(parse_header("t=abc,v1=00"), Err(SignatureError::MissingTimestamp));
        assert_eq!(parse_header("t=1,t=2,v1=00"), Err(SignatureError::MissingTimestamp));
        assert_eq!(parse_header("t=1,v1=zz"), Err(SignatureError::NoSignature));
        assert_eq!(parse_header("t=1"), Err(SignatureError::NoSignature));
        assert_eq!(parse_header(&"t=1,".repeat(2000)), Err(SignatureError::Malformed));
    }
}
