//! The customer-facing order number, e.g. `ORD-7K3M9Q2XD4HA`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::ParseIdError;

/// Crockford's base-32 alphabet: no I, L, O or U, so a number read aloud is not misheard.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// An order number: `ORD-` and 12 Crockford base-32 characters (60 random bits).
///
/// It is not a secret (the order access token is); it only has to be unique, which the
/// database's unique index enforces: on the rare clash, draw new bytes and retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^ORD-[0-9A-HJKMNP-TV-Z]{12}$")]
pub struct OrderNumber(String);

impl OrderNumber {
    /// The fixed prefix.
    pub const PREFIX: &'static str = "ORD-";
    /// The number of characters after the prefix.
    pub const CODE_LEN: usize = 12;

    /// Builds a number from 8 random bytes supplied by the caller (this crate has no RNG).
    ///
    /// Deterministic: the low 60 bits of the big-endian value, five bits per character.
    pub fn from_random_bytes(bytes: [u8; 8]) -> Self {
        let mut value = u64::from_be_bytes(bytes);
        let mut code = [0_u8; Self::CODE_LEN];
        for slot in code.iter_mut().rev() {
            // `value & 31` is below 32, so the index is always in range.
            *slot = ALPHABET[(value & 31) as usize];
            value >>= 5;
        }
        let code: String = code.iter().map(|&b| char::from(b)).collect();
        OrderNumber(format!("{}{code}", Self::PREFIX))
    }

    /// Validates `s` as an order number (exact: upper case, prefix included).
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |reason| ParseIdError { kind: "order number", reason };
        let code = s.strip_prefix(Self::PREFIX).ok_or(err("must start with ORD-"))?;
        if code.len() != Self::CODE_LEN {
            return Err(err("must have 12 characters after ORD-"));
        }
        if !code.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(err("may contain only 0-9 and upper-case letters other than I, L, O, U"));
        }
        Ok(OrderNumber(s.to_owned()))
    }

    /// The order number text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrderNumber {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderNumber::parse(s)
    }
}

impl TryFrom<String> for OrderNumber {
    type Error = ParseIdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderNumber::parse(&s)
    }
}

impl From<OrderNumber> for String {
    fn from(n: OrderNumber) -> String {
        n.0
    }
}

impl AsRef<str> for OrderNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_random_bytes_is_deterministic_and_valid() {
        let zero = OrderNumber::from_random_bytes([0; 8]);
        assert_eq!(zero.as_str(), "ORD-000000000000");
        let max = OrderNumber::from_random_bytes([0xFF; 8]);
        assert_eq!(max.as_str(), "ORD-ZZZZZZZZZZZZ");
        let n = OrderNumber::from_random_bytes([0, 0, 0, 0, 0, 0, 0, 33]);
        assert_eq!(n.as_str(), "ORD-000000000011");
        for bytes in [[1, 2, 3, 4, 5, 6, 7, 8], [0xAB; 8]] {
            let n = OrderNumber::from_random_bytes(bytes);
            assert_eq!(n, OrderNumber::from_random_bytes(bytes));
            assert_eq!(OrderNumber::parse(n.as_str()), Ok(n.clone()));
            assert!(n.as_str().len() <= 20, "fits the seed's varchar(20)");
        }
    }

    #[test]
    fn parse_rules() {
        assert!(OrderNumber::parse("ORD-7K3M9Q2XD4HA").is_ok());
        for bad in [
            "",
            "ORD-",
            "ord-7K3M9Q2XD4HA",
            "ORD-7k3M9Q2XD4HA",
            "ORD-7K3M9Q2XD4H",
            "ORD-7K3M9Q2XD4HAB",
            "ORD-7K3M9Q2XD4HI",
            "ORD-7K3M9Q2XD4HO",
            "XYZ-7K3M9Q2XD4HA",
            " ORD-7K3M9Q2XD4HA",
        ] {
            assert!(OrderNumber::parse(bad).is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&OrderNumber::parse("ORD-7K3M9Q2XD4HA").unwrap()).unwrap();
        assert_eq!(json, "\"ORD-7K3M9Q2XD4HA\"");
        assert!(serde_json::from_str::<OrderNumber>("\"ORD-1\"").is_err());
    }
}
