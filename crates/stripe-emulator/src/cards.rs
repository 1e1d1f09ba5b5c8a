//! Stripe's test payment methods and what they do in test mode
//! (https://docs.stripe.com/testing): the ids the platform and its tests use.

/// What confirming with a payment method leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// The charge succeeds.
    Succeeds,
    /// The charge is declined with this decline code (`generic_decline`, `insufficient_funds`...).
    Declined {
        /// Stripe's `decline_code`.
        decline_code: &'static str,
        /// The message Stripe gives the customer.
        message: &'static str,
    },
    /// 3-D Secure is required: `requires_action` until the customer completes or fails it.
    RequiresAuthentication,
    /// The charge succeeds, then the customer disputes it.
    SucceedsThenDisputed,
    /// An asynchronous method (ACH debit): `processing` until it settles.
    Processing {
        /// Whether settling succeeds (`pm_usBankAccount_success`) or fails.
        settles: bool,
    },
}

/// A known test payment method: its behaviour and card details for the charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestMethod {
    /// What happens on confirm.
    pub behaviour: Behaviour,
    /// `card` or `us_bank_account`.
    pub kind: &'static str,
    /// Card brand, for `payment_method_details`.
    pub brand: &'static str,
    /// Last four digits.
    pub last4: &'static str,
}

const DECLINED: &str = "Your card was declined.";

/// Looks up a test payment method id (`pm_card_visa`, ...).
pub fn lookup(id: &str) -> Option<TestMethod> {
    let card = |behaviour, brand, last4| Some(TestMethod { behaviour, kind: "card", brand, last4 });
    match id {
        "pm_card_visa" => card(Behaviour::Succeeds, "visa", "4242"),
        "pm_card_visa_debit" => card(Behaviour::Succeeds, "visa", "5556"),
        "pm_card_mastercard" => card(Behaviour::Succeeds, "mastercard", "4444"),
        "pm_card_amex" => card(Behaviour::Succeeds, "amex", "8431"),
        "pm_card_chargeDeclined" => {
            card(Behaviour::Declined { decline_code: "generic_decline", message: DECLINED }, "visa", "0002")
        }
        "pm_card_chargeDeclinedInsufficientFunds" | "pm_card_visa_chargeDeclinedInsufficientFunds" => card(
            Behaviour::Declined {
                decline_code: "insufficient_funds",
                message: "Your card has insufficient funds.",
            },
            "visa",
            "9995",
        ),
        "pm_card_chargeDeclinedExpiredCard" => card(
            Behaviour::Declined { decline_code: "expired_card", message: "Your card has expired." },
            "visa",
            "0069",
        ),
        "pm_card_threeDSecure2Required" | "pm_card_authenticationRequired" => {
            card(Behaviour::RequiresAuthentication, "visa", "3220")
        }
        "pm_card_createDispute" => card(Behaviour::SucceedsThenDisputed, "visa", "0259"),
        "pm_usBankAccount_success" => Some(TestMethod {
            behaviour: Behaviour::Processing { settles: true },
            kind: "us_bank_account",
            brand: "",
            last4: "6789",
        }),
        "pm_usBankAccount_insufficientFunds" => Some(TestMethod {
            behaviour: Behaviour::Processing { settles: false },
            kind: "us_bank_account",
            brand: "",
            last4: "1116",
        }),
        _ => None,
    }
}

/// The test payment method a test card number stands for (https://docs.stripe.com/testing):
/// what Stripe.js sends as `payment_method_data[card][number]`. Digits only.
pub fn method_for_number(number: &str) -> Option<&'static str> {
    Some(match number {
        "4242424242424242" => "pm_card_visa",
        "4000056655665556" => "pm_card_visa_debit",
        "5555555555554444" => "pm_card_mastercard",
        "378282246310005" => "pm_card_amex",
        "4000000000000002" => "pm_card_chargeDeclined",
        "4000000000009995" => "pm_card_chargeDeclinedInsufficientFunds",
        "4000000000000069" => "pm_card_chargeDeclinedExpiredCard",
        "4000000000003220" => "pm_card_threeDSecure2Required",
        "4000002760003184" => "pm_card_authenticationRequired",
        "4000000000000259" => "pm_card_createDispute",
        _ => return None,
    })
}

/// Stripe's minimum charge amount per currency, in the currency's minor unit
/// (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts); `None` for a
/// currency the emulator does not accept.
pub fn minimum_amount(currency: &str) -> Option<i64> {
    Some(match currency {
        "usd" | "eur" | "cad" | "aud" | "nzd" | "sgd" | "chf" | "brl" | "inr" | "jpy" => 50,
        "gbp" => 30,
        "dkk" => 250,
        "nok" | "sek" => 300,
        "hkd" => 400,
        "pln" => 200,
        "mxn" => 1000,
        _ => return None,
    })
}

/// Stripe's largest amount for a charge: eight digits in the minor unit.
pub const MAXIMUM_AMOUNT: i64 = 99_999_999;

/// Currencies without a minor unit: their amounts are whole units.
pub fn zero_decimal(currency: &str) -> bool {
    matches!(currency, "jpy" | "krw" | "vnd" | "clp")
}
