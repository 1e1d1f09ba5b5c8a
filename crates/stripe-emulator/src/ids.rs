//! Object ids shaped like Stripe's: a type prefix and 24 random alphanumerics.

/// A fresh id such as `pi_3f9c...`.
pub fn new(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 25);
    id.push_str(prefix);
    id.push('_');
    // 24 hex digits of a v4 UUID: random enough for an emulator, no extra dependency.
    id.push_str(&uuid::Uuid::new_v4().simple().to_string()[..24]);
    id
}

/// A PaymentIntent's client secret, `{id}_secret_{random}` as Stripe shapes it.
pub fn client_secret(payment_intent: &str) -> String {
    format!("{payment_intent}_secret_{}", &uuid::Uuid::new_v4().simple().to_string()[..25])
}

/// A webhook signing secret, `whsec_...`.
pub fn webhook_secret() -> String {
    format!("whsec_{}", uuid::Uuid::new_v4().simple())
}
