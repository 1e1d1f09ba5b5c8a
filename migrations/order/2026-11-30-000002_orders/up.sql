-- Orders, their lines, payments (one PaymentIntent per order, with a status history), refunds,
-- disputes and checkout idempotency keys. Money is integer minor units (cents).

CREATE TABLE orders (
    id                    bigserial   PRIMARY KEY,
    order_number          varchar(20) NOT NULL UNIQUE,
    -- sha256 of the order access token (the token itself is only in the checkout answer).
    access_token_hash     bytea       NOT NULL,
    customer_id           text,                         -- JWT subject; NULL for guests
    customer_email        text        NOT NULL,
    customer_name         text        NOT NULL,
    shipping_address      jsonb       NOT NULL,
    billing_address       jsonb       NOT NULL,
    cart_id               uuid,
    currency              char(3)     NOT NULL,
    subtotal_cents        bigint      NOT NULL CHECK (subtotal_cents >= 0),
    tax_cents             bigint      NOT NULL CHECK (tax_cents >= 0),
    shipping_cents        bigint      NOT NULL CHECK (shipping_cents >= 0),
    discount_cents        bigint      NOT NULL CHECK (discount_cents >= 0),
    total_cents           bigint      NOT NULL CHECK (total_cents >= 0),
    -- pending_payment -> paid | canceled | expired (the order's life; payment_status is the money's).
    status                text        NOT NULL DEFAULT 'pending_payment'
        CHECK (status IN ('pending_payment', 'paid', 'canceled', 'expired')),
    payment_status        text        NOT NULL DEFAULT 'pending'
        CHECK (payment_status IN ('pending', 'processing', 'completed', 'failed', 'refunded', 'partially_refunded')),
    fulfillment_status    text        NOT NULL DEFAULT 'unfulfilled'
        CHECK (fulfillment_status IN ('unfulfilled', 'partially_fulfilled', 'fulfilled', 'shipped', 'delivered')),
    payment_intent_id     text        UNIQUE,
    amount_paid_cents     bigint      NOT NULL DEFAULT 0 CHECK (amount_paid_cents >= 0),
    amount_refunded_cents bigint      NOT NULL DEFAULT 0 CHECK (amount_refunded_cents >= 0),
    disputed              boolean     NOT NULL DEFAULT false,
    needs_attention       boolean     NOT NULL DEFAULT false,
    attention_reason      text,
    -- traceparent of the checkout that made the order: it goes into the PaymentIntent's
    -- metadata, identical on every retry (Stripe refuses one idempotency key with other params).
    traceparent           text,
    expires_at            timestamptz NOT NULL,         -- end of the checkout session
    paid_at               timestamptz,
    closed_at             timestamptz,                  -- canceled or expired
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, id DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX orders_email_idx ON orders (lower(customer_email), id DESC);
-- The sweeper's two scans.
CREATE INDEX orders_unpaid_expiry_idx ON orders (expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_processing_idx ON orders (updated_at) WHERE payment_status = 'processing';

CREATE TABLE order_items (
    id                  bigserial   PRIMARY KEY,
    order_id            bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id          bigint      NOT NULL,
    sku                 varchar(100) NOT NULL,
    name                text        NOT NULL,
    quantity            integer     NOT NULL CHECK (quantity > 0),
    unit_price_cents    bigint      NOT NULL CHECK (unit_price_cents >= 0),
    line_total_cents    bigint      NOT NULL CHECK (line_total_cents >= 0),
    selected_attributes jsonb       NOT NULL DEFAULT '{}',
    reservation_id      uuid
);
CREATE INDEX order_items_order_idx ON order_items (order_id);

-- The PaymentIntent of an order and where Stripe says it is.
CREATE TABLE payments (
    id                bigserial   PRIMARY KEY,
    order_id          bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    payment_intent_id text        NOT NULL UNIQUE,
    amount_cents      bigint      NOT NULL,
    currency          char(3)     NOT NULL,
    status            text        NOT NULL,             -- last payment.* seen, e.g. succeeded
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id);

-- Every payment event applied to (or ignored by) an order, in arrival order.
CREATE TABLE payment_status_history (
    id                bigserial   PRIMARY KEY,
    order_id          bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    payment_intent_id text        NOT NULL,
    event_type        text        NOT NULL,
    stripe_event_id   text,
    from_status       text        NOT NULL,
    to_status         text        NOT NULL,
    note              text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_status_history_order_idx ON payment_status_history (order_id, id);

-- Fulfilment details (the status itself is orders.fulfillment_status).
CREATE TABLE shipments (
    order_id        bigint      PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    carrier         text,
    tracking_number text,
    fulfilled_at    timestamptz,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
    id               bigserial   PRIMARY KEY,
    order_id         bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount_cents     bigint      NOT NULL CHECK (amount_cents > 0),
    -- pending (row written, Stripe not yet answered) -> succeeded | failed
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason           text,
    stripe_refund_id text        UNIQUE,
    idempotency_key  text        NOT NULL,
    requested_by     text        NOT NULL,             -- admin subject or 'system'
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, idempotency_key)
);

CREATE TABLE disputes (
    id                bigserial   PRIMARY KEY,
    order_id          bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    dispute_id        text        NOT NULL UNIQUE,
    payment_intent_id text        NOT NULL,
    amount_cents      bigint      NOT NULL,
    currency          char(3)     NOT NULL,
    status            text        NOT NULL,
    opened_at         timestamptz,
    closed_at         timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Checkout idempotency: (scope, key) -> one order and one stored answer.
CREATE TABLE idempotency_keys (
    scope           text        NOT NULL,              -- 'customer:<sub>' or 'guest'
    key             text        NOT NULL,
    request_hash    bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
    order_id        bigint,                            -- allocated before any side effect that names it
    -- The order's access token, drawn with the key so that a resumed checkout answers the same
    -- one (orders keep only its hash). Rows are purged after a day.
    access_token    text        NOT NULL,
    response_status integer,
    response_body   jsonb,
    locked_until    timestamptz NOT NULL,              -- an in-progress holder's lease
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
