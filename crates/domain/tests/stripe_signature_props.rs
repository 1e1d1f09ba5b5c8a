//! Property tests of the Stripe-Signature header parser and verifier.
#![allow(clippy::unwrap_used)]

use domain::stripe_signature::{SignatureError, header_value, parse_header, verify};
use proptest::prelude::*;

proptest! {
    /// Any string, however hostile, yields a parse result or an error, never a panic.
    #[test]
    fn parser_never_panics(header in ".{0,300}") {
        let _ = parse_header(&header);
    }

    /// Headers built from arbitrary elements never panic and never verify without the secret.
    #[test]
    fn arbitrary_elements_never_verify(
        elements in proptest::collection::vec(("[tv0-9]{1,2}", "[0-9a-fA-F=,]{0,70}"), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let header = elements.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        prop_assert!(verify(&header, &body, &["whsec_x"], 0, 300).is_err());
    }

    /// What we sign, we verify; one flipped body byte breaks it.
    #[test]
    fn sign_then_verify_round_trips(
        secret in "[a-zA-Z0-9_]{1,40}",
        t in 0i64..4_000_000_000,
        body in proptest::collection::vec(any::<u8>(), 1..256),
        flip in any::<prop::sample::Index>(),
    ) {
        let header = header_value(&secret, t, &body);
        prop_assert!(verify(&header, &body, &[&secret], t, 300).is_ok());
        let mut tampered = body.clone();
        let i = flip.index(tampered.len());
        tampered[i] ^= 0x01;
        prop_assert_eq!(verify(&header, &tampered, &[&secret], t, 300), Err(SignatureError::Mismatch));
    }
}
