//! Identifier newtypes: a product id cannot be passed where an order id is expected, and a
//! `Sku` or `Slug` that exists has already been validated ("parse, don't validate").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// Why a string is not a valid identifier of some kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("invalid {kind}: {reason}")]
pub struct ParseIdError {
    /// What was being parsed, e.g. `"SKU"`.
    pub kind: &'static str,
    /// The rule that was broken.
    pub reason: &'static str,
}

/// Declares an `i64` database-id newtype with `Display`, `FromStr` and transparent serde.
macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw database value.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name).map_err(|_| ParseIdError { kind: $kind, reason: "not an integer" })
            }
        }
    };
}

/// Declares a UUID newtype with `Display`, `FromStr` and transparent serde.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub const fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name).map_err(|_| ParseIdError { kind: $kind, reason: "not a UUID" })
            }
        }
    };
}

/// Implements the string conversions shared by the validated text ids.
macro_rules! text_id_conversions {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseIdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

mod slug;

pub use slug::Slug;

int_id!(
    /// A catalog product's id.
    ProductId,
    "product id"
);
int_id!(
    /// An order's database id (customers see the [`crate::order::OrderNumber`] instead).
    OrderId,
    "order id"
);
uuid_id!(
    /// A cart's id.
    CartId,
    "cart id"
);
uuid_id!(
    /// An integration event's id (UUID v7, so ids sort by creation time).
    EventId,
    "event id"
);

impl CartId {
    /// A fresh random (v4) cart id: it says nothing about when the cart was made.
    pub fn new() -> Self {
        CartId(Uuid::new_v4())
    }
}

impl Default for CartId {
    /// Same as [`CartId::new`].
    fn default() -> Self {
        CartId::new()
    }
}

impl EventId {
    /// A fresh time-ordered (v7) event id: outbox rows and logs sort by it.
    pub fn new() -> Self {
        EventId(Uuid::now_v7())
    }
}

impl Default for EventId {
    /// Same as [`EventId::new`].
    fn default() -> Self {
        EventId::new()
    }
}

/// A stock-keeping unit: 1 to 100 ASCII letters, digits, `-` or `_`, starting with a letter
/// or digit (`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`). Case is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
pub struct Sku(String);

impl Sku {
    /// The longest SKU accepted (the column is `varchar(100)`).
    pub const MAX_LEN: usize = 100;

    /// Validates `s` as a SKU.
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let err = |reason| ParseIdError { kind: "SKU", reason };
        let mut bytes = s.bytes();
        match bytes.next() {
            None => return Err(err("must not be empty")),
            Some(b) if !b.is_ascii_alphanumeric() => {
                return Err(err("must start with a letter or digit"));
            }
            Some(_) => {}
        }
        if s.len() > Self::MAX_LEN {
            return Err(err("must be at most 100 characters"));
        }
        if !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(err("may contain only letters, digits, '-' and '_'"));
        }
        Ok(Sku(s.to_owned()))
    }

    /// The SKU text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_id_conversions!(Sku);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids() {
        assert_eq!("42".parse::<ProductId>(), Ok(ProductId(42)));
        assert_eq!(OrderId(7).to_string(), "7");
        assert_eq!(OrderId(7).get(), 7);
        let err = "x".parse::<OrderId>().unwrap_err();
        assert_eq!(err.to_string(), "invalid order id: not an integer");
        assert_eq!(serde_json::to_string(&ProductId(3)).unwrap(), "3");
        assert_eq!(serde_json::from_str::<ProductId>("3").unwrap(), ProductId(3));
    }

    #[test]
    fn uuid_ids() {
        let e = EventId::new();
        assert_eq!(e.as_uuid().get_version_num(), 7);
        assert_eq!(CartId::new().as_uuid().get_version_num(), 4);
        assert_eq!(e.to_string().parse::<EventId>(), Ok(e));
        assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        assert!("nope".parse::<CartId>().is_err());
        // v7 ids made later sort later (same millisecond ones are still ordered by the counter).
        let later = EventId::new();
        assert!(later > e);
    }

    #[test]
    fn sku_rules() {
        for ok in ["TSHIRT-BLK-M", "a", "0_x", "abc-DEF_123", &"A".repeat(100)] {
            assert_eq!(Sku::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "-A", "_A", "A B", "A.B", "Ä", " A", "A ", &"A".repeat(101)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Sku>("\"bad sku\"").is_err());
        let sku: Sku = serde_json::from_str("\"TSHIRT-BLK-M\"").unwrap();
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"TSHIRT-BLK-M\"");
        assert_eq!(Sku::parse("").unwrap_err().to_string(), "invalid SKU: must not be empty");
    }
}
