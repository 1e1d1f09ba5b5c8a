//! Guest cart tokens: 244 random bits from the OS (two v4 UUIDs), sent back as `X-Cart-Token`.
//! Only their SHA-256 is stored, so a Redis dump does not hand out carts.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The request and response header carrying a guest's cart token.
pub const HEADER: &str = "x-cart-token";

/// A fresh token (64 hex characters).
pub fn generate() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Whether `token` hashes to `stored`, compared in constant time.
pub fn matches(token: &str, stored: &str) -> bool {
    bool::from(hash(token).as_bytes().ct_eq(stored.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_checked_by_hash() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert_ne!(a, generate());
        let h = hash(&a);
        assert!(matches(&a, &h));
        assert!(!matches(&generate(), &h));
        assert_ne!(h, a);
    }
}
