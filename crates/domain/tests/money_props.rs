//! Property tests for money parsing and formatting.

#![allow(clippy::unwrap_used)] // a panic is the failure report

use domain::money::{Currency, Money, ParseMoneyError, parse_decimal_cents};
use proptest::prelude::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(Currency::ALL.to_vec())
}

/// Undoes `formatted()`: drops the sign, symbol or code and the commas, keeps the sign.
fn unformat(s: &str, currency: Currency) -> (bool, String) {
    let (negative, rest) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let rest = match currency.symbol() {
        Some(symbol) => rest.strip_prefix(symbol).unwrap(),
        None => rest.strip_prefix(&format!("{} ", currency.code())).unwrap(),
    };
    (negative, rest.replace(',', ""))
}

proptest! {
    #[test]
    fn decimal_string_round_trips(cents in 0..=i64::MAX, cur in currency()) {
        let m = Money::new(cents, cur);
        prop_assert_eq!(parse_decimal_cents(&m.decimal_string()), Ok(cents));
        prop_assert_eq!(Money::parse(&m.decimal_string(), cur), Ok(m));
    }

    #[test]
    fn formatted_reads_back_as_the_same_cents(cents in any::<i64>(), cur in currency()) {
        let s = Money::new(cents, cur).formatted();
        let (negative, plain) = unformat(&s, cur);
        prop_assert_eq!(negative, cents < 0);
        let decimal = Money::new(cents, cur).decimal_string();
        prop_assert_eq!(plain.as_str(), decimal.trim_start_matches('-'));
        // The number part has exactly two decimals and commas every three digits.
        let number = unformat(&s, cur).1;
        prop_assert_eq!(number.split('.').nth(1).map(str::len), Some(2));
        let (_, grouped) = s.split_at(s.find(|c: char| c.is_ascii_digit()).unwrap());
        let whole = grouped.split('.').next().unwrap();
        for (i, group) in whole.split(',').enumerate() {
            let ok = if i == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 };
            prop_assert!(ok, "bad grouping in {}", s);
        }
        if cents >= 0 {
            prop_assert_eq!(parse_decimal_cents(&number), Ok(cents));
        }
    }

    #[test]
    fn amount_f64_prints_as_the_exact_decimal(cents in 0..1_000_000_000_000_000_i64) {
        let m = Money::new(cents, Currency::Usd);
        let printed = serde_json::to_string(&m.amount_f64()).unwrap();
        let expected = m.decimal_string();
        let expected = expected.trim_end_matches('0');
        let expected = if expected.ends_with('.') { format!("{expected}0") } else { expected.to_owned() };
        prop_assert_eq!(printed, expected);
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = parse_decimal_cents(&s);
    }

    #[test]
    fn parse_never_panics_on_number_like_input(s in "[-+0-9.eE ,]{0,30}") {
        let _ = parse_decimal_cents(&s);
    }

    #[test]
    fn exponents_and_signs_are_rejected(
        left in "[0-9.]{0,10}",
        right in "[0-9.]{0,10}",
        marker in prop::sample::select(vec!['e', 'E', '-']),
    ) {
        let s = format!("{left}{marker}{right}");
        prop_assert!(parse_decimal_cents(&s).is_err(), "{} was accepted", s);
    }

    #[test]
    fn three_significant_decimals_are_rejected(
        whole in 0..1_000_000_i64,
        two in "[0-9]{2}",
        zeros in "0{0,5}",
        nonzero in 1..=9_u8,
        tail in "[0-9]{0,5}",
    ) {
        let s = format!("{whole}.{two}{zeros}{nonzero}{tail}");
        prop_assert_eq!(parse_decimal_cents(&s), Err(ParseMoneyError::TooPrecise), "{}", s);
    }

    #[test]
    fn trailing_zeros_are_exact(whole in 0..1_000_000_i64, frac in 0..100_i64, zeros in "0{0,10}") {
        let s = format!("{whole}.{frac:02}{zeros}");
        prop_assert_eq!(parse_decimal_cents(&s), Ok(whole * 100 + frac));
    }

    #[test]
    fn checked_add_matches_i128(a in any::<i64>(), b in any::<i64>()) {
        let exact = i128::from(a) + i128::from(b);
        let sum = Money::new(a, Currency::Usd).checked_add(Money::new(b, Currency::Usd));
        match i64::try_from(exact) {
            Ok(v) => prop_assert_eq!(sum, Ok(Money::new(v, Currency::Usd))),
            Err(_) => prop_assert!(sum.is_err()),
        }
    }
}
