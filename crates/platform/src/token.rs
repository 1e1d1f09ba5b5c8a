//! Unguessable bearer tokens (a guest's cart token, an order's access token): made from the
//! OS's randomness, stored only as their SHA-256 (a database or Redis dump hands out nothing),
//! checked in constant time.

use domain::hex;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh token: 64 hex characters, 244 random bits (two v4 UUIDs).
pub fn generate() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The stored form of `token`: its SHA-256 (for a `bytea` column).
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The stored form of `token` as 64 lower-case hex characters (for a text store).
pub fn hash_hex(token: &str) -> String {
    hex::encode(&hash(token))
}

/// Whether `token` hashes to `stored` ([`hash`]), compared in constant time.
pub fn verify(token: &str, stored: &[u8]) -> bool {
    bool::from(hash(token).ct_eq(stored))
}

/// Whether `token` hashes to `stored` ([`hash_hex`]), compared in constant time.
pub fn verify_hex(token: &str, stored: &str) -> bool {
    bool::from(hash_hex(token).as_bytes().ct_eq(stored.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_checked_by_hash() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert_ne!(a, generate());
        assert!(verify(&a, &hash(&a)));
        assert!(!verify(&generate(), &hash(&a)));
        let h = hash_hex(&a);
        assert_eq!(h.len(), 64);
        assert!(verify_hex(&a, &h));
        assert!(!verify_hex(&generate(), &h));
        assert_ne!(h, a);
    }
}
