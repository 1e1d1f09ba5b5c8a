//! The customer emails: subject and plain-text body from an order and its lines.

use std::fmt::Write;

use domain::money::{Currency, Money};

use crate::orders::repo::{ItemRow, OrderRow};

/// An email ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

fn money(cents: i64, currency: Currency) -> String {
    Money::new(cents, currency).to_string()
}

/// The lines and totals block, e.g. `2 x Black T-Shirt (TSHIRT-BLK-M) @ $19.99 = $39.98`.
pub fn summary(order: &OrderRow, items: &[ItemRow], currency: Currency) -> String {
    let mut out = String::new();
    for i in items {
        let _ = writeln!(
            out,
            "  {} x {} ({}) @ {} = {}",
            i.quantity,
            i.name,
            i.sku,
            money(i.unit_price_cents, currency),
            money(i.line_total_cents, currency)
        );
    }
    out.push('\n');
    let _ = writeln!(out, "  Subtotal: {}", money(order.subtotal_cents, currency));
    if order.discount_cents > 0 {
        let _ = writeln!(out, "  Discount: -{}", money(order.discount_cents, currency));
    }
    let _ = writeln!(out, "  Tax:      {}", money(order.tax_cents, currency));
    let _ = writeln!(out, "  Shipping: {}", money(order.shipping_cents, currency));
    let _ = writeln!(out, "  Total:    {}", money(order.total_cents, currency));
    out
}

/// "Thank you for your order".
pub fn paid(order: &OrderRow, items: &[ItemRow], currency: Currency) -> Email {
    Email {
        subject: format!("Order {} confirmed", order.order_number),
        body: format!(
            "Hello {},\n\nThank you for your order {}. We received your payment.\n\n{}\nWe will let you know when it ships.\n",
            order.customer_name,
            order.order_number,
            summary(order, items, currency)
        ),
    }
}

/// A refund (partial or full).
pub fn refunded(order: &OrderRow, amount_cents: i64, fully: bool, currency: Currency) -> Email {
    let what = if fully { "fully refunded" } else { "partially refunded" };
    let extra = if order.needs_attention {
        "\nWe are sorry: the items sold out before your payment arrived, so we could not fulfil the order.\n"
    } else {
        ""
    };
    Email {
        subject: format!("Order {}: refund of {}", order.order_number, money(amount_cents, currency)),
        body: format!(
            "Hello {},\n\nWe refunded {} on order {}; the order is now {}.\n{}\nIt can take 5 to 10 days to show on your statement.\n",
            order.customer_name,
            money(amount_cents, currency),
            order.order_number,
            what,
            extra
        ),
    }
}

/// Canceled or expired before payment.
pub fn closed(order: &OrderRow, expired: bool) -> Email {
    let why = if expired { "was not paid in time and has expired" } else { "was canceled" };
    Email {
        subject: format!("Order {} {}", order.order_number, if expired { "expired" } else { "canceled" }),
        body: format!(
            "Hello {},\n\nYour order {} {}. No payment was taken. Your cart is still there if you want to try again.\n",
            order.customer_name, order.order_number, why
        ),
    }
}
