//! Guest cart tokens (`platform::token`), sent back as `X-Cart-Token`; only their SHA-256 (hex)
//! is stored, so a Redis dump does not hand out carts.

/// The request and response header carrying a guest's cart token.
pub const HEADER: &str = "x-cart-token";
