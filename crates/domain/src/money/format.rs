//! Display forms of [`Money`]: the seed's `formatted` string, a plain decimal, and a JSON number.

use std::fmt;

use super::Money;

impl Money {
    /// The storefront string, as the seed printed it: `"$1,234.56"`, `"€29.99"`, `"£29.99"`,
    /// `"CAD 12.34"`.
    ///
    /// The number is PHP's `number_format($x, 2)`: comma thousands separators, two decimals.
    /// A negative amount puts the sign first (`"-$5.00"`, `"-CAD 5.00"`), where PHP would
    /// have printed `"$-5.00"`; prices are never negative, so only refunds or adjustments show it.
    pub fn formatted(self) -> String {
        let sign = if self.is_negative() { "-" } else { "" };
        let (units, cents) = self.units_and_cents();
        let units = group_thousands(units);
        match self.currency().symbol() {
            Some(symbol) => format!("{sign}{symbol}{units}.{cents:02}"),
            None => format!("{sign}{} {units}.{cents:02}", self.currency().code()),
        }
    }

    /// The amount as a plain decimal with two places and no separators: `"29.99"`, `"-5.00"`.
    ///
    /// For non-negative amounts this round-trips through [`super::parse_decimal_cents`].
    pub fn decimal_string(self) -> String {
        let sign = if self.is_negative() { "-" } else { "" };
        let (units, cents) = self.units_and_cents();
        format!("{sign}{units}.{cents:02}")
    }

    /// The amount in currency units as a float, for the seed's JSON `"amount": 29.99` field only.
    ///
    /// Exact for display while `|cents| < 10^15`: such a `cents` is an exact `f64`, IEEE
    /// division by 100 is correctly rounded to the double nearest `cents/100`, and serializers
    /// (`serde_json`/ryu, Rust's `Display`) print the shortest decimal that reads back as that
    /// double; at 15 significant digits or fewer no other decimal maps to it, so the output is
    /// exactly `decimal_string()` without trailing zeros. Never compute with the result.
    #[allow(clippy::cast_precision_loss)] // exact below 2^53; see above
    pub fn amount_f64(self) -> f64 {
        self.cents() as f64 / 100.0
    }

    /// The absolute amount split into whole units and the two-digit remainder.
    fn units_and_cents(self) -> (u64, u64) {
        // unsigned_abs: i64::MIN has no positive i64 counterpart.
        let abs = self.cents().unsigned_abs();
        (abs / 100, abs % 100)
    }
}

/// Formats `n` with a comma between every group of three digits, like PHP's `number_format`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Money {
    /// Same as [`Money::formatted`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Currency, parse_decimal_cents};
    use super::*;

    #[test]
    fn formatted_matches_the_seed() {
        for (cents, currency, expected) in [
            (2999, Currency::Usd, "$29.99"),
            (2999, Currency::Eur, "€29.99"),
            (2999, Currency::Gbp, "£29.99"),
            (1234, Currency::Cad, "CAD 12.34"),
            (0, Currency::Usd, "$0.00"),
            (5, Currency::Usd, "$0.05"),
            (99_999, Currency::Usd, "$999.99"),
            (123_456, Currency::Usd, "$1,234.56"),
            (123_456_700, Currency::Usd, "$1,234,567.00"),
            (100_000_000, Currency::Gbp, "£1,000,000.00"),
            (-500, Currency::Usd, "-$5.00"),
            (-500, Currency::Cad, "-CAD 5.00"),
            (i64::MAX, Currency::Usd, "$92,233,720,368,547,758.07"),
            (i64::MIN, Currency::Usd, "-$92,233,720,368,547,758.08"),
        ] {
            assert_eq!(Money::new(cents, currency).formatted(), expected);
        }
        assert_eq!(Money::new(2999, Currency::Usd).to_string(), "$29.99");
    }

    #[test]
    fn decimal_string() {
        for (cents, expected) in [(2999, "29.99"), (5, "0.05"), (-500, "-5.00"), (123_456, "1234.56")] {
            let m = Money::new(cents, Currency::Usd);
            assert_eq!(m.decimal_string(), expected);
            if cents >= 0 {
                assert_eq!(parse_decimal_cents(&m.decimal_string()), Ok(cents));
            }
        }
    }

    #[test]
    fn amount_f64_prints_like_the_decimal() {
        let m = Money::new(2999, Currency::Usd);
        assert_eq!(serde_json::to_string(&m.amount_f64()).unwrap(), "29.99");
        assert_eq!(Money::new(10, Currency::Usd).amount_f64().to_string(), "0.1");
    }

    #[test]
    fn group_thousands_boundaries() {
        for (n, expected) in
            [(0, "0"), (999, "999"), (1000, "1,000"), (100_000, "100,000"), (1_000_000, "1,000,000")]
        {
            assert_eq!(group_thousands(n), expected);
        }
    }
}
