//! An order's money breakdown, consistent by construction.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::{Currency, Money, MoneyError};

/// An order's totals; `total = subtotal + tax + shipping − discount`, one currency, nothing
/// negative. Only the checked constructors (and deserialization, which uses them) build one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTotals")]
pub struct OrderTotals {
    subtotal: Money,
    tax: Money,
    shipping: Money,
    discount: Money,
    total: Money,
}

/// Why a set of totals is not consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TotalsError {
    /// The components are in different currencies.
    #[error("order totals mix {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    /// A component (named) is negative, or the discount exceeds everything else.
    #[error("order {0} must not be negative")]
    Negative(&'static str),
    /// The sum does not fit in 64-bit minor units.
    #[error("order totals overflow")]
    Overflow,
    /// A stored total disagrees with its components.
    #[error("order total is {actual} but its components add up to {expected}")]
    Inconsistent {
        /// What the components add up to.
        expected: Money,
        /// The total that was given.
        actual: Money,
    },
}

impl From<MoneyError> for TotalsError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch { left, right } => TotalsError::CurrencyMismatch(left, right),
            MoneyError::Overflow => TotalsError::Overflow,
        }
    }
}

impl OrderTotals {
    /// Totals from their components, computing the total.
    pub fn new(subtotal: Money, tax: Money, shipping: Money, discount: Money) -> Result<Self, TotalsError> {
        for (name, part) in
            [("subtotal", subtotal), ("tax", tax), ("shipping", shipping), ("discount", discount)]
        {
            if part.is_negative() {
                return Err(TotalsError::Negative(name));
            }
        }
        let total = subtotal.checked_add(tax)?.checked_add(shipping)?.checked_sub(discount)?;
        if total.is_negative() {
            return Err(TotalsError::Negative("total"));
        }
        Ok(OrderTotals { subtotal, tax, shipping, discount, total })
    }

    /// Totals read back from storage: as [`OrderTotals::new`], and `total` must agree.
    pub fn from_parts(
        subtotal: Money,
        tax: Money,
        shipping: Money,
        discount: Money,
        total: Money,
    ) -> Result<Self, TotalsError> {
        let totals = OrderTotals::new(subtotal, tax, shipping, discount)?;
        if totals.total != total {
            return Err(TotalsError::Inconsistent { expected: totals.total, actual: total });
        }
        Ok(totals)
    }

    /// The sum of the lines.
    pub const fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// The tax charged.
    pub const fn tax(&self) -> Money {
        self.tax
    }

    /// The shipping charged.
    pub const fn shipping(&self) -> Money {
        self.shipping
    }

    /// The discount given (a positive amount that is subtracted).
    pub const fn discount(&self) -> Money {
        self.discount
    }

    /// What the customer pays.
    pub const fn total(&self) -> Money {
        self.total
    }

    /// The one currency of every component.
    pub const fn currency(&self) -> Currency {
        self.total.currency()
    }
}

/// The unchecked JSON shape, validated into [`OrderTotals`] on deserialization.
#[derive(Deserialize)]
struct RawTotals {
    subtotal: Money,
    tax: Money,
    shipping: Money,
    discount: Money,
    total: Money,
}

impl TryFrom<RawTotals> for OrderTotals {
    type Error = TotalsError;

    fn try_from(r: RawTotals) -> Result<Self, Self::Error> {
        OrderTotals::from_parts(r.subtotal, r.tax, r.shipping, r.discount, r.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn usd(cents: i64) -> Money {
        Money::new(cents, Currency::Usd)
    }

    #[test]
    fn computes_the_total() {
        let t = OrderTotals::new(usd(10_000), usd(800), usd(500), usd(1_000)).unwrap();
        assert_eq!(t.total(), usd(10_300));
        assert_eq!(
            (t.subtotal(), t.tax(), t.shipping(), t.discount()),
            (usd(10_000), usd(800), usd(500), usd(1_000))
        );
        assert_eq!(t.currency(), Currency::Usd);
        let free = OrderTotals::new(usd(500), usd(0), usd(0), usd(500)).unwrap();
        assert!(free.total().is_zero());
    }

    #[test]
    fn rejects_inconsistent_totals() {
        let eur = Money::new(1, Currency::Eur);
        assert_eq!(
            OrderTotals::new(usd(1), eur, usd(0), usd(0)),
            Err(TotalsError::CurrencyMismatch(Currency::Usd, Currency::Eur))
        );
        assert_eq!(OrderTotals::new(usd(1), usd(-1), usd(0), usd(0)), Err(TotalsError::Negative("tax")));
        assert_eq!(OrderTotals::new(usd(1), usd(0), usd(0), usd(2)), Err(TotalsError::Negative("total")));
        assert_eq!(OrderTotals::new(usd(i64::MAX), usd(1), usd(0), usd(0)), Err(TotalsError::Overflow));
        let err = OrderTotals::from_parts(usd(100), usd(0), usd(0), usd(0), usd(99)).unwrap_err();
        assert_eq!(err, TotalsError::Inconsistent { expected: usd(100), actual: usd(99) });
        assert_eq!(err.to_string(), "order total is $0.99 but its components add up to $1.00");
    }

    #[test]
    fn serde_validates() {
        let t = OrderTotals::new(usd(100), usd(8), usd(5), usd(0)).unwrap();
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json["total"], serde_json::json!({"amount_cents": 113, "currency": "USD"}));
        assert_eq!(serde_json::from_value::<OrderTotals>(json.clone()).unwrap(), t);
        let mut bad = json;
        bad["total"]["amount_cents"] = 1.into();
        assert!(serde_json::from_value::<OrderTotals>(bad).is_err());
    }
}
