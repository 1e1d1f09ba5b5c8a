//! The checkout body, parsed once into a [`ValidCheckout`]: a handler past parsing never sees a
//! defaulted id or an unchecked address.

use domain::ids::CartId;
use platform::http::{ApiError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The address fields a checkout must give.
const ADDRESS_FIELDS: [&str; 4] = ["line1", "city", "postal_code", "country"];
/// The largest address object, serialized.
const MAX_ADDRESS_BYTES: usize = 2048;

/// The checkout request as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The cart to buy.
    pub cart_id: String,
    /// Where the confirmation goes.
    pub customer_email: String,
    /// The buyer's name.
    pub customer_name: String,
    /// A JSON object (line1, city, postal_code, country, ...).
    #[schema(value_type = Object)]
    pub shipping_address: serde_json::Value,
    /// A JSON object.
    #[schema(value_type = Object)]
    pub billing_address: serde_json::Value,
}

/// A checkout whose every field was checked.
#[derive(Debug, Clone)]
pub struct ValidCheckout {
    /// The cart.
    pub cart_id: CartId,
    /// One deliverable mailbox, trimmed.
    pub customer_email: String,
    /// 1 to 200 characters, trimmed.
    pub customer_name: String,
    /// An object with the address fields.
    pub shipping_address: serde_json::Value,
    /// An object with the address fields.
    pub billing_address: serde_json::Value,
}

impl CheckoutRequest {
    /// Checks every field, naming each bad one (422).
    pub fn parse(&self) -> Result<ValidCheckout, ApiError> {
        let mut errors = ValidationErrors::new();
        let cart_id = self.cart_id.parse::<CartId>().ok();
        if cart_id.is_none() {
            errors.add("cart_id", "The cart id must be a UUID.");
        }
        // lettre's parser (the one the worker sends with) follows RFC 5321/5322: one mailbox, so
        // `a@example.com,b@example.com` — which could never be delivered — is refused here.
        let email = self.customer_email.trim();
        if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
            errors.add("customer_email", "The customer email must be a valid email address.");
        }
        let name = self.customer_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.add("customer_name", "The customer name must be 1 to 200 characters.");
        }
        for (field, address) in
            [("shipping_address", &self.shipping_address), ("billing_address", &self.billing_address)]
        {
            if !is_address(address) {
                errors.add(field, "The address must be an object with line1, city, postal_code and country.");
            }
        }
        errors.into_result()?;
        let cart_id = cart_id.ok_or_else(|| ApiError::internal("cart id checked above"))?;
        Ok(ValidCheckout {
            cart_id,
            customer_email: email.to_owned(),
            customer_name: name.to_owned(),
            shipping_address: self.shipping_address.clone(),
            billing_address: self.billing_address.clone(),
        })
    }

    /// The request's fingerprint for its idempotency key: the body and the cart token, so a
    /// replay needs both.
    pub fn fingerprint(&self, cart_token: Option<&str>) -> Result<Vec<u8>, ApiError> {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(self).map_err(ApiError::internal)?);
        h.update([0]);
        h.update(cart_token.unwrap_or("").as_bytes());
        Ok(h.finalize().to_vec())
    }
}

fn is_address(address: &serde_json::Value) -> bool {
    address.as_object().is_some_and(|o| {
        ADDRESS_FIELDS
            .iter()
            .all(|k| o.get(*k).and_then(serde_json::Value::as_str).is_some_and(|s| !s.trim().is_empty()))
    }) && address.to_string().len() <= MAX_ADDRESS_BYTES
}
