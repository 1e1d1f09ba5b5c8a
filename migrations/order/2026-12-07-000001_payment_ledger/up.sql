-- The order's money as Stripe holds it (ADR 0071): a ledger of movements keyed by the Stripe
-- object they come from, and a queue of orders whose payment must be read again from Stripe.

-- One row per (kind, Stripe object): the amount as Stripe says it now. `captured` and
-- `refunded` are keyed by the charge (cumulative), `disputed` / `reversed` by the dispute.
CREATE TABLE payment_ledger (
    order_id          bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind              text        NOT NULL CHECK (kind IN ('captured', 'refunded', 'disputed', 'reversed')),
    stripe_object_id  text        NOT NULL,
    payment_intent_id text        NOT NULL,
    amount_cents      bigint      NOT NULL CHECK (amount_cents >= 0),
    currency          char(3)     NOT NULL,
    status            text,                              -- the dispute's Stripe status
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, kind, stripe_object_id)
);

-- Orders to settle from Stripe's objects: written by the payment-event consumer (a hint), the
-- sweeper and `order reconcile`; taken by the syncer with a lease. `requested_at` moves when
-- another hint arrives while a sync runs, so the row is kept for one more pass.
CREATE TABLE payment_syncs (
    order_id     bigint      PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    due_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer     NOT NULL DEFAULT 0,
    reason       text        NOT NULL,
    last_error   text
);
CREATE INDEX payment_syncs_due_idx ON payment_syncs (due_at);

-- When the order was last compared with Stripe (the sweeper's rolling reconciliation).
ALTER TABLE orders ADD COLUMN payment_synced_at timestamptz;
CREATE INDEX orders_reconcile_idx ON orders (payment_synced_at NULLS FIRST, id)
    WHERE payment_intent_id IS NOT NULL;
CREATE INDEX orders_attention_idx ON orders (id DESC) WHERE needs_attention;

-- Repairs made by reconciliation, one row each (what drifted, from what to what).
CREATE TABLE payment_repairs (
    id           bigserial   PRIMARY KEY,
    order_id     bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    origin       text        NOT NULL,                -- 'event', 'reconcile', 'sweeper', 'admin'
    field        text        NOT NULL,
    before_value text        NOT NULL,
    after_value  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_repairs_order_idx ON payment_repairs (order_id, id);
