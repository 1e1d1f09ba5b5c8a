//! Money: integer minor units plus a currency (ARCHITECTURE §5). Never a float for arithmetic.

mod currency;
mod format;
mod parse;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use currency::{Currency, UnknownCurrency};
pub use parse::{ParseMoneyError, parse_decimal_cents};

/// An amount of money in minor units (cents) of one currency.
///
/// JSON form: `{"amount_cents": 1999, "currency": "USD"}`. No `Ord`: comparing amounts in
/// different currencies is meaningless, so compare `cents()` after checking the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    #[serde(rename = "amount_cents")]
    cents: i64,
    currency: Currency,
}

/// Why a money computation has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// The operands were in different currencies.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in 64-bit minor units.
    #[error("amount overflow")]
    Overflow,
}

impl Money {
    /// An amount of `cents` minor units of `currency`.
    pub const fn new(cents: i64, currency: Currency) -> Self {
        Money { cents, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Money::new(0, currency)
    }

    /// Parses a non-negative decimal such as `"19.99"` exactly (see [`parse_decimal_cents`]).
    pub fn parse(s: &str, currency: Currency) -> Result<Self, ParseMoneyError> {
        parse_decimal_cents(s).map(|cents| Money::new(cents, currency))
    }

    /// The amount in minor units.
    pub const fn cents(self) -> i64 {
        self.cents
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.cents < 0
    }

    /// Whether the amount is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.cents == 0
    }

    /// `self + other`; fails on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        let cents = self.cents.checked_add(other.cents).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(cents, currency))
    }

    /// `self - other`; fails on a currency mismatch or overflow. The result may be negative.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        let cents = self.cents.checked_sub(other.cents).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(cents, currency))
    }

    /// `self × qty` (a unit price times a quantity); fails on overflow.
    pub fn checked_mul(self, qty: i64) -> Result<Money, MoneyError> {
        let cents = self.cents.checked_mul(qty).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(cents, self.currency))
    }

    /// The sum of `amounts`, starting from zero in `currency`; every amount must be in `currency`.
    pub fn checked_sum<I>(currency: Currency, amounts: I) -> Result<Money, MoneyError>
    where
        I: IntoIterator<Item = Money>,
    {
        amounts.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }

    /// The common currency of `self` and `other`, or the mismatch.
    fn same_currency(self, other: Money) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn usd(cents: i64) -> Money {
        Money::new(cents, Currency::Usd)
    }

    #[test]
    fn accessors_and_predicates() {
        let m = usd(-5);
        assert_eq!((m.cents(), m.currency()), (-5, Currency::Usd));
        assert!(m.is_negative() && !m.is_zero());
        assert!(Money::zero(Currency::Eur).is_zero());
        assert!(!Money::zero(Currency::Eur).is_negative());
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(usd(150).checked_add(usd(50)), Ok(usd(200)));
        assert_eq!(usd(150).checked_sub(usd(200)), Ok(usd(-50)));
        assert_eq!(usd(1999).checked_mul(3), Ok(usd(5997)));
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
        assert_eq!(usd(i64::MIN).checked_sub(usd(1)), Err(MoneyError::Overflow));
        assert_eq!(usd(i64::MAX / 2 + 1).checked_mul(2), Err(MoneyError::Overflow));
        let eur = Money::new(1, Currency::Eur);
        let mismatch = MoneyError::CurrencyMismatch { left: Currency::Usd, right: Currency::Eur };
        assert_eq!(usd(1).checked_add(eur), Err(mismatch));
        assert_eq!(usd(1).checked_sub(eur), Err(mismatch));
        assert_eq!(mismatch.to_string(), "currency mismatch: USD and EUR");
    }

    #[test]
    fn checked_sum() {
        assert_eq!(Money::checked_sum(Currency::Usd, []), Ok(usd(0)));
        assert_eq!(Money::checked_sum(Currency::Usd, [usd(1), usd(2)]), Ok(usd(3)));
        assert!(Money::checked_sum(Currency::Eur, [usd(1)]).is_err());
    }

    #[test]
    fn parse_builds_on_parse_decimal_cents() {
        assert_eq!(Money::parse("19.99", Currency::Gbp), Ok(Money::new(1999, Currency::Gbp)));
        assert_eq!(Money::parse("1.999", Currency::Gbp), Err(ParseMoneyError::TooPrecise));
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_value(usd(1999)).unwrap();
        assert_eq!(json, serde_json::json!({"amount_cents": 1999, "currency": "USD"}));
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), usd(1999));
        let bad = serde_json::json!({"amount_cents": 1.5, "currency": "USD"});
        assert!(serde_json::from_value::<Money>(bad).is_err());
    }
}
