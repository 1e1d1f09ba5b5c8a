//! Order totals from authoritative unit prices: subtotal, discount, tax, shipping, in integer
//! cents (rules from the environment; see docs/orders.md).

use domain::money::{Currency, Money};
use domain::order::{OrderTotals, TotalsError};

/// The configurable rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PricingRules {
    /// `TAX_RATE_BPS`: tax in basis points (825 = 8.25 %) of the discounted subtotal.
    pub tax_rate_bps: u32,
    /// `SHIPPING_FLAT_CENTS`: shipping per order.
    pub shipping_flat_cents: i64,
    /// `FREE_SHIPPING_THRESHOLD_CENTS`: no shipping from this subtotal up (0 = never free).
    pub free_shipping_threshold_cents: i64,
    /// `DISCOUNT_BPS`: discount in basis points of the subtotal.
    pub discount_bps: u32,
    /// `DISCOUNT_MIN_SUBTOTAL_CENTS`: the discount applies from this subtotal up.
    pub discount_min_subtotal_cents: i64,
}

/// `amount × bps / 10 000`, rounded half up, without overflow.
fn basis_points(amount: i64, bps: u32) -> Result<i64, TotalsError> {
    let product = i128::from(amount) * i128::from(bps);
    i64::try_from((product + 5_000) / 10_000).map_err(|_| TotalsError::Overflow)
}

impl PricingRules {
    /// The totals of lines given as `(unit price cents, quantity)`.
    pub fn totals(&self, currency: Currency, lines: &[(i64, i64)]) -> Result<OrderTotals, TotalsError> {
        let mut subtotal: i64 = 0;
        for &(unit, qty) in lines {
            if unit < 0 || qty <= 0 {
                return Err(TotalsError::Negative("line"));
            }
            let line = unit.checked_mul(qty).ok_or(TotalsError::Overflow)?;
            subtotal = subtotal.checked_add(line).ok_or(TotalsError::Overflow)?;
        }
        let discount = if self.discount_bps > 0 && subtotal >= self.discount_min_subtotal_cents {
            basis_points(subtotal, self.discount_bps)?
        } else {
            0
        };
        let tax = basis_points(subtotal - discount, self.tax_rate_bps)?;
        let free = self.free_shipping_threshold_cents > 0 && subtotal >= self.free_shipping_threshold_cents;
        let shipping = if free || lines.is_empty() { 0 } else { self.shipping_flat_cents };
        let m = |c| Money::new(c, currency);
        OrderTotals::new(m(subtotal), m(tax), m(shipping), m(discount))
    }

    /// The line total of `quantity` units at `unit` cents.
    pub fn line_total(unit: i64, quantity: i64) -> Result<i64, TotalsError> {
        unit.checked_mul(quantity).ok_or(TotalsError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rules_means_the_subtotal() {
        let t = PricingRules::default().totals(Currency::Usd, &[(1999, 2), (500, 1)]).unwrap();
        assert_eq!((t.subtotal().cents(), t.total().cents()), (4498, 4498));
    }

    #[test]
    fn tax_discount_and_shipping() {
        let rules = PricingRules {
            tax_rate_bps: 825,
            shipping_flat_cents: 599,
            free_shipping_threshold_cents: 10_000,
            discount_bps: 1000,
            discount_min_subtotal_cents: 5_000,
        };
        // 4 000: no discount, shipping, tax 8.25 % of 4 000 = 330.
        let t = rules.totals(Currency::Usd, &[(2000, 2)]).unwrap();
        assert_eq!(
            (t.discount().cents(), t.tax().cents(), t.shipping().cents(), t.total().cents()),
            (0, 330, 599, 4929)
        );
        // 12 000: 10 % off = 1 200, tax on 10 800 = 891, free shipping.
        let t = rules.totals(Currency::Usd, &[(6000, 2)]).unwrap();
        assert_eq!(
            (t.discount().cents(), t.tax().cents(), t.shipping().cents(), t.total().cents()),
            (1200, 891, 0, 11_691)
        );
        // Half-up rounding: 8.25 % of 1 cent is 0.0825 → 0; of 7 is 0.5775 → 1.
        assert_eq!(rules.totals(Currency::Usd, &[(7, 1)]).unwrap().tax().cents(), 1);
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(PricingRules::default().totals(Currency::Usd, &[(i64::MAX, 2)]).is_err());
        assert!(PricingRules::default().totals(Currency::Usd, &[(1, 0)]).is_err());
    }
}
