//! PaymentIntents (https://docs.stripe.com/payments/paymentintents/lifecycle), by concern:
//! [`lifecycle`] creates, retrieves, updates and cancels them; [`confirm`] confirms and
//! captures, with the transitions the test payment methods cause; [`charges`] makes the charge
//! an attempt produces (authorised or declined); [`test_controls`] plays the customer and the
//! bank (3-D Secure, settling a `processing` payment); [`checks`] holds the validation they share.

mod charges;
mod checks;
mod confirm;
mod lifecycle;
mod test_controls;
