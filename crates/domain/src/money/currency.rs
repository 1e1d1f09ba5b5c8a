//! ISO 4217 currencies the shop sells in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A currency the shop accepts; every one of them has two decimal places (cents, pence).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Canadian dollar.
    Cad,
}

impl Currency {
    /// Every supported currency, in a stable order.
    pub const ALL: [Currency; 4] = [Currency::Usd, Currency::Eur, Currency::Gbp, Currency::Cad];

    /// The ISO 4217 code, e.g. `"USD"`.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Cad => "CAD",
        }
    }

    /// The smallest and largest amounts, in cents, a card payment may take in this currency
    /// (Stripe's documented limits: 50 cents, 30 pence; at most 99,999,999 units). A checkout
    /// outside them could never be paid.
    pub const fn charge_limits(self) -> (i64, i64) {
        match self {
            Currency::Gbp => (30, 99_999_999),
            Currency::Usd | Currency::Eur | Currency::Cad => (50, 99_999_999),
        }
    }

    /// The symbol the storefront prints before an amount, if the seed gave this currency one.
    pub const fn symbol(self) -> Option<&'static str> {
        match self {
            Currency::Usd => Some("$"),
            Currency::Eur => Some("€"),
            Currency::Gbp => Some("£"),
            Currency::Cad => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A currency code that is not one of [`Currency::ALL`] (codes are upper case).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown currency {0:?}: expected one of USD, EUR, GBP, CAD")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Case-sensitive on purpose: the same rule as the JSON form, so "usd" is rejected everywhere.
        Currency::ALL.into_iter().find(|c| c.code() == s).ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_from_str_display_and_serde() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
            assert_eq!(c.to_string(), c.code());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.code()));
            assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), c);
        }
    }

    #[test]
    fn parsing_is_case_sensitive_and_explains_itself() {
        let err = "usd".parse::<Currency>().unwrap_err();
        assert_eq!(err, UnknownCurrency("usd".into()));
        assert!(err.to_string().contains("expected one of USD, EUR, GBP, CAD"));
        assert!("JPY".parse::<Currency>().is_err());
        assert!("".parse::<Currency>().is_err());
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }

    #[test]
    fn symbols_match_the_seed() {
        assert_eq!(Currency::Usd.symbol(), Some("$"));
        assert_eq!(Currency::Eur.symbol(), Some("€"));
        assert_eq!(Currency::Gbp.symbol(), Some("£"));
        assert_eq!(Currency::Cad.symbol(), None);
    }
}
