//! Exact decimal → minor-unit parsing, for inputs such as `min_price=19.99`.
//!
//! Floats are never involved: `19.99_f64 * 100.0` is `1998.999…`, which is how prices drift.

use thiserror::Error;

/// Why a decimal amount was rejected; each variant maps to a message a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParseMoneyError {
    /// The input was the empty string.
    #[error("amount is empty")]
    Empty,
    /// The input had a leading minus sign.
    #[error("amount must not be negative")]
    Negative,
    /// The input used scientific notation such as `1e3`.
    #[error("amount must be a plain decimal number, without an exponent")]
    Exponent,
    /// The input had a non-zero digit after the second decimal place.
    #[error("amount must have at most 2 decimal places")]
    TooPrecise,
    /// The input was not a plain decimal number such as `19.99`.
    #[error("amount must be a decimal number such as 19.99")]
    Invalid,
    /// The amount does not fit in 64-bit minor units.
    #[error("amount is too large")]
    Overflow,
}

/// Parses a non-negative decimal amount in currency units into minor units, exactly.
///
/// Grammar: `digits ["." digits]`, where either side of the dot may be empty but not both
/// (`"19."`, `".5"`). Trailing zeros past two decimals are exact and accepted (`"19.990"`).
/// No signs, spaces, separators or exponents.
pub fn parse_decimal_cents(s: &str) -> Result<i64, ParseMoneyError> {
    if s.is_empty() {
        return Err(ParseMoneyError::Empty);
    }
    if let Some(rest) = s.strip_prefix('-') {
        // Call it "negative" only when what follows looks like a number; "-abc" and "--1" are
        // just invalid. Refusing a second '-' here also bounds the recursion depth.
        return Err(if !rest.starts_with('-') && looks_numeric(rest) {
            ParseMoneyError::Negative
        } else {
            ParseMoneyError::Invalid
        });
    }
    if let Some(at) = s.find(['e', 'E']) {
        let (mantissa, exponent) = (&s[..at], &s[at + 1..]);
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let exponent_ok = !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit());
        return Err(if exponent_ok && looks_numeric(mantissa) {
            ParseMoneyError::Exponent
        } else {
            ParseMoneyError::Invalid
        });
    }
    plain_decimal(s)
}

/// Whether `s` is a decimal that failed only for its size or precision (or succeeded).
fn looks_numeric(s: &str) -> bool {
    matches!(
        parse_decimal_cents(s),
        Ok(_) | Err(ParseMoneyError::TooPrecise | ParseMoneyError::Overflow | ParseMoneyError::Exponent)
    )
}

/// Parses `digits ["." digits]` with no sign or exponent.
fn plain_decimal(s: &str) -> Result<i64, ParseMoneyError> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    // A second '.' stays in `fraction` and fails the digit check.
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(ParseMoneyError::Invalid);
    }
    let (kept, extra) = fraction.split_at(fraction.len().min(2));
    if extra.bytes().any(|b| b != b'0') {
        return Err(ParseMoneyError::TooPrecise);
    }
    let units = digits_value(whole)?;
    // "5" after the dot means 50 cents, so pad the kept fraction to two digits.
    let cents = digits_value(kept)? * if kept.len() == 1 { 10 } else { 1 };
    units.checked_mul(100).and_then(|u| u.checked_add(cents)).ok_or(ParseMoneyError::Overflow)
}

/// The value of a run of ASCII digits (empty is zero), failing on overflow.
fn digits_value(digits: &str) -> Result<i64, ParseMoneyError> {
    digits.bytes().try_fold(0_i64, |acc, b| {
        acc.checked_mul(10).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or(ParseMoneyError::Overflow)
    })
}

#[cfg(test)]
mod tests {
    use super::ParseMoneyError::{Empty, Exponent, Invalid, Negative, Overflow, TooPrecise};
    use super::*;

    #[test]
    fn accepts_exact_decimals() {
        for (input, cents) in [
            ("19.99", 1999),
            ("19.9", 1990),
            ("19", 1900),
            ("0.5", 50),
            (".5", 50),
            ("19.", 1900),
            ("19.990", 1999),
            ("19.99000000", 1999),
            ("0", 0),
            ("0.00", 0),
            ("007.05", 705),
            ("92233720368547758.07", i64::MAX),
        ] {
            assert_eq!(parse_decimal_cents(input), Ok(cents), "{input:?}");
        }
    }

    #[test]
    fn rejects_with_a_specific_reason() {
        for (input, err) in [
            ("", Empty),
            ("-1", Negative),
            ("-0.5", Negative),
            ("-1.999", Negative),
            ("-", Invalid),
            ("-abc", Invalid),
            ("--1", Invalid),
            ("1e3", Exponent),
            ("1E3", Exponent),
            ("1.5e-2", Exponent),
            ("1e+2", Exponent),
            ("e3", Invalid),
            ("1e", Invalid),
            ("abe", Invalid),
            ("1.999", TooPrecise),
            ("0.001", TooPrecise),
            (" 1", Invalid),
            ("1 ", Invalid),
            ("+1", Invalid),
            ("1,000", Invalid),
            ("abc", Invalid),
            ("1.2.3", Invalid),
            (".", Invalid),
            ("١", Invalid),
            ("NaN", Invalid),
            ("inf", Invalid),
            ("92233720368547758.08", Overflow),
            ("99999999999999999999", Overflow),
        ] {
            assert_eq!(parse_decimal_cents(input), Err(err), "{input:?}");
        }
    }

    #[test]
    fn huge_inputs_are_linear_not_recursive() {
        assert_eq!(parse_decimal_cents(&"-".repeat(1_000_000)), Err(Invalid));
        assert_eq!(parse_decimal_cents(&"e".repeat(1_000_000)), Err(Invalid));
        assert_eq!(parse_decimal_cents(&format!("1.00{}", "0".repeat(1_000_000))), Ok(100));
        assert_eq!(parse_decimal_cents(&"9".repeat(1_000_000)), Err(Overflow));
    }

    #[test]
    fn errors_have_readable_messages() {
        assert_eq!(TooPrecise.to_string(), "amount must have at most 2 decimal places");
        assert_eq!(Negative.to_string(), "amount must not be negative");
    }
}
