//! The integration-event envelope and payloads, through `serde_json`.

#![allow(clippy::unwrap_used)] // a panic is the failure report

use std::collections::BTreeSet;

use domain::events::{
    CartCheckedOut, DecodeError, EXCHANGE, Envelope, EventPayload, InventoryChanged, OrderCanceled,
    OrderClosed, OrderCreated, OrderDisputed, OrderExpired, OrderItemRef, OrderPaid, OrderRefunded,
    PaymentCanceled, PaymentDisputeClosed, PaymentDisputed, PaymentFacts, PaymentFailed, PaymentProcessing,
    PaymentRefunded, PaymentRequiresAction, PaymentSucceeded, ProductChanged, ProductCreated, ProductDeleted,
    ProductUpdated, routing,
};
use domain::{
    CartId, Currency, Money, OrderId, OrderNumber, PaymentEvent, PaymentStatus, ProductId, ProductStatus,
    Sku, Slug,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn order_number() -> OrderNumber {
    OrderNumber::parse("ORD-7K3M9Q2XD4HA").unwrap()
}

fn facts() -> PaymentFacts {
    PaymentFacts {
        order_id: Some(OrderId(42)),
        payment_intent_id: "pi_123".into(),
        amount_cents: 5_000,
        currency: Currency::Usd,
        stripe_event_id: "evt_1".into(),
        stripe_created: 1_700_000_000,
    }
}

fn paid() -> OrderPaid {
    OrderPaid {
        order_id: OrderId(42),
        order_number: order_number(),
        payment_intent_id: "pi_123".into(),
        amount_cents: 5_000,
        currency: Currency::Usd,
        reservation_ids: vec![Uuid::nil()],
        cart_id: Some(CartId(Uuid::nil())),
    }
}

#[test]
fn envelope_json_shape_and_round_trip() {
    let env = Envelope::new("order", &paid(), Some("corr-1".into())).unwrap();
    assert_eq!(env.event_type, "order.paid");
    assert_eq!(env.version, 1);
    assert_eq!(env.id.as_uuid().get_version_num(), 7);

    let json = serde_json::to_value(&env).unwrap();
    let mut names = keys(&json);
    names.sort_unstable();
    assert_eq!(names, ["correlation_id", "data", "id", "occurred_at", "source", "type", "version"]);
    assert_eq!(json["type"], "order.paid");
    assert_eq!(json["source"], "order");
    assert_eq!(json["id"], env.id.to_string());
    // RFC 3339 in UTC, as chrono parses it back.
    let at = json["occurred_at"].as_str().unwrap();
    assert!(at.ends_with('Z'), "{at}");
    assert_eq!(chrono::DateTime::parse_from_rfc3339(at).unwrap(), env.occurred_at);

    let text = serde_json::to_string(&env).unwrap();
    let back: Envelope = serde_json::from_str(&text).unwrap();
    assert_eq!(back, env);
    assert_eq!(back.decode::<OrderPaid>().unwrap(), paid());
    assert!(back.is::<OrderPaid>());
    assert!(!back.is::<OrderCreated>());
}

#[test]
fn missing_correlation_id_is_none_and_serializes_as_null() {
    let env = Envelope::new("cart", &paid(), None).unwrap();
    let mut json = serde_json::to_value(&env).unwrap();
    assert_eq!(json["correlation_id"], Value::Null);
    json.as_object_mut().unwrap().remove("correlation_id");
    assert_eq!(serde_json::from_value::<Envelope>(json).unwrap().correlation_id, None);
}

#[test]
fn decode_checks_type_version_and_schema() {
    let env = Envelope::new("order", &paid(), None).unwrap();
    let err = env.decode::<OrderCreated>().unwrap_err();
    assert!(
        matches!(err, DecodeError::WrongType { expected: "order.created", ref actual } if actual == "order.paid")
    );
    assert_eq!(err.to_string(), "expected a order.created event, got order.paid");

    for version in [0, 2] {
        let mut newer = env.clone();
        newer.version = version;
        assert!(matches!(
            newer.decode::<OrderPaid>(),
            Err(DecodeError::UnsupportedVersion { actual, supported: 1, .. }) if actual == version
        ));
    }

    let mut broken = env;
    broken.data["amount_cents"] = json!("lots");
    assert!(matches!(broken.decode::<OrderPaid>(), Err(DecodeError::Data { event_type: "order.paid", .. })));
}

/// Encodes `payload`, checks its JSON keys, decodes it back and checks equality.
fn check<P: EventPayload + PartialEq + std::fmt::Debug>(payload: &P, expected_keys: &[&str]) {
    let env = Envelope::new("test", payload, None).unwrap();
    assert_eq!(env.event_type, P::TYPE);
    let mut got = keys(&env.data);
    got.sort_unstable();
    let mut want = expected_keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{}", P::TYPE);
    let wire: Envelope = serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
    assert_eq!(&wire.decode::<P>().unwrap(), payload, "{}", P::TYPE);
}

#[test]
fn catalog_payloads() {
    let changed = ProductChanged {
        product_id: ProductId(1),
        sku: Sku::parse("TSHIRT-BLK-M").unwrap(),
        name: "Premium Cotton T-Shirt - Black".into(),
        slug: Slug::parse("premium-cotton-tshirt-black").unwrap(),
        price_cents: 2_999,
        currency: Currency::Usd,
        status: ProductStatus::Active,
        stock_quantity: 150,
        reserved_quantity: 5,
    };
    assert_eq!(changed.price(), Money::new(2_999, Currency::Usd));
    let product_keys = [
        "product_id",
        "sku",
        "name",
        "slug",
        "price_cents",
        "currency",
        "status",
        "stock_quantity",
        "reserved_quantity",
    ];
    check(&ProductCreated(changed.clone()), &product_keys);
    check(&ProductUpdated(changed.clone()), &product_keys);
    let data = serde_json::to_value(ProductCreated(changed)).unwrap();
    assert_eq!((data["currency"].as_str(), data["status"].as_str()), (Some("USD"), Some("active")));

    check(
        &ProductDeleted { product_id: ProductId(1), sku: Sku::parse("X").unwrap() },
        &["product_id", "sku"],
    );
    let inv = InventoryChanged::new(ProductId(1), Sku::parse("X").unwrap(), 3, 5);
    assert_eq!(inv.available, 0);
    check(&inv, &["product_id", "sku", "stock_quantity", "reserved_quantity", "available"]);
}

#[test]
fn cart_and_order_created_payloads() {
    check(
        &CartCheckedOut { cart_id: CartId::new(), order_id: OrderId(42), order_number: order_number() },
        &["cart_id", "order_id", "order_number"],
    );
    let created = OrderCreated {
        order_id: OrderId(42),
        order_number: order_number(),
        customer_email: "a@example.com".into(),
        items: vec![OrderItemRef {
            product_id: ProductId(1),
            sku: Sku::parse("X").unwrap(),
            quantity: 2,
            unit_price_cents: 2_500,
            reservation_id: Some(Uuid::nil()),
        }],
        total_cents: 5_000,
        currency: Currency::Gbp,
        cart_id: None,
    };
    assert_eq!(created.total(), Money::new(5_000, Currency::Gbp));
    check(
        &created,
        &["order_id", "order_number", "customer_email", "items", "total_cents", "currency", "cart_id"],
    );
    let item = &serde_json::to_value(&created).unwrap()["items"][0];
    let mut item_keys = keys(item);
    item_keys.sort_unstable();
    assert_eq!(item_keys, ["product_id", "quantity", "reservation_id", "sku", "unit_price_cents"]);
}

#[test]
fn later_order_payloads() {
    assert_eq!(paid().amount(), Money::new(5_000, Currency::Usd));
    check(
        &paid(),
        &[
            "order_id",
            "order_number",
            "payment_intent_id",
            "amount_cents",
            "currency",
            "reservation_ids",
            "cart_id",
        ],
    );
    let closed = OrderClosed {
        order_id: OrderId(42),
        order_number: order_number(),
        reason: "timeout".into(),
        reservation_ids: vec![],
        cart_id: None,
    };
    let closed_keys = ["order_id", "order_number", "reason", "reservation_ids", "cart_id"];
    check(&OrderCanceled(closed.clone()), &closed_keys);
    check(&OrderExpired(closed), &closed_keys);
    check(
        &OrderRefunded {
            order_id: OrderId(42),
            order_number: order_number(),
            amount_cents: 100,
            currency: Currency::Eur,
            fully: false,
        },
        &["order_id", "order_number", "amount_cents", "currency", "fully"],
    );
    check(
        &OrderDisputed {
            order_id: OrderId(42),
            order_number: order_number(),
            dispute_id: "dp_1".into(),
            amount_cents: 100,
            currency: Currency::Eur,
        },
        &["order_id", "order_number", "dispute_id", "amount_cents", "currency"],
    );
}

#[test]
fn payment_payloads_flatten_the_common_fields() {
    let common =
        ["order_id", "payment_intent_id", "amount_cents", "currency", "stripe_event_id", "stripe_created"];
    let with =
        |extra: &[&'static str]| -> Vec<&'static str> { common.iter().chain(extra).copied().collect() };

    check(&PaymentSucceeded { payment: facts() }, &common);
    check(&PaymentCanceled { payment: facts() }, &common);
    check(&PaymentProcessing { payment: facts() }, &common);
    check(&PaymentRequiresAction { payment: facts() }, &common);
    check(
        &PaymentFailed {
            payment: facts(),
            failure_code: Some("card_declined".into()),
            failure_message: None,
        },
        &with(&["failure_code", "failure_message"]),
    );
    check(&PaymentRefunded { payment: facts(), amount_refunded_cents: 1 }, &with(&["amount_refunded_cents"]));
    let dispute = with(&["dispute_id", "dispute_status"]);
    check(
        &PaymentDisputed {
            payment: facts(),
            dispute_id: "dp_1".into(),
            dispute_status: "needs_response".into(),
        },
        &dispute,
    );
    check(
        &PaymentDisputeClosed { payment: facts(), dispute_id: "dp_1".into(), dispute_status: "won".into() },
        &dispute,
    );

    // Optional failure details may be absent from the JSON altogether.
    let mut data = serde_json::to_value(PaymentSucceeded { payment: facts() }).unwrap();
    let failed: PaymentFailed = serde_json::from_value(data.clone()).unwrap();
    assert_eq!((failed.failure_code, failed.failure_message), (None, None));
    data.as_object_mut().unwrap().remove("stripe_event_id");
    assert!(serde_json::from_value::<PaymentSucceeded>(data).is_err());

    // A dispute names its PaymentIntent but may not know the order: `order_id` is left out.
    let anonymous = PaymentFacts { order_id: None, ..facts() };
    let data = serde_json::to_value(PaymentDisputed {
        payment: anonymous.clone(),
        dispute_id: "dp_2".into(),
        dispute_status: "needs_response".into(),
    })
    .unwrap();
    assert!(data.get("order_id").is_none());
    let back: PaymentDisputed = serde_json::from_value(data).unwrap();
    assert_eq!(back.payment, anonymous);
}

#[test]
fn payment_payloads_map_to_state_machine_events() {
    let mut state = PaymentStatus::Pending;
    state = state.apply(PaymentProcessing { payment: facts() }.payment_event()).unwrap();
    state = state.apply(PaymentSucceeded { payment: facts() }.payment_event()).unwrap();
    assert_eq!(state, PaymentStatus::Completed);
    let partial = PaymentRefunded { payment: facts(), amount_refunded_cents: 1_000 };
    assert_eq!(partial.payment_event(), PaymentEvent::Refunded { fully: false });
    let full = PaymentRefunded { payment: facts(), amount_refunded_cents: 5_000 };
    assert_eq!(full.payment_event(), PaymentEvent::Refunded { fully: true });
    assert_eq!(
        PaymentFailed { payment: facts(), failure_code: None, failure_message: None }.payment_event(),
        PaymentEvent::Failed
    );
    assert_eq!(PaymentCanceled { payment: facts() }.payment_event(), PaymentEvent::Canceled);
}

#[test]
fn routing_keys_are_the_payload_types() {
    let types = [
        ProductCreated::TYPE,
        ProductUpdated::TYPE,
        ProductDeleted::TYPE,
        InventoryChanged::TYPE,
        CartCheckedOut::TYPE,
        OrderCreated::TYPE,
        OrderPaid::TYPE,
        OrderCanceled::TYPE,
        OrderExpired::TYPE,
        OrderRefunded::TYPE,
        OrderDisputed::TYPE,
        PaymentSucceeded::TYPE,
        PaymentFailed::TYPE,
        PaymentCanceled::TYPE,
        PaymentProcessing::TYPE,
        PaymentRequiresAction::TYPE,
        PaymentRefunded::TYPE,
        PaymentDisputed::TYPE,
        PaymentDisputeClosed::TYPE,
    ];
    assert_eq!(types.as_slice(), routing::ALL);
    assert_eq!(routing::ALL.iter().collect::<BTreeSet<_>>().len(), routing::ALL.len());
    assert_eq!(OrderPaid::VERSION, 1);
    assert_eq!(EXCHANGE, "commerce.events");
}
