-- Every Stripe event whose signature verified, keyed by Stripe's own event id: the primary
-- key is the deduplication (INSERT ... ON CONFLICT DO NOTHING), so a redelivered event is
-- acknowledged and does nothing more.
CREATE TABLE stripe_events (
    id                text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),  -- evt_...
    type              text        NOT NULL,         -- e.g. payment_intent.succeeded
    created           timestamptz NOT NULL,         -- Stripe's `created`
    api_version       text,
    livemode          boolean     NOT NULL,
    payload           jsonb       NOT NULL,         -- the event as received
    order_id          bigint,                       -- resolved order, when there is one
    payment_intent_id text,                         -- pi_..., when the object names one
    published_type    text,                         -- the payment.* event written to the outbox
    -- Why an event was stored but not published: unhandled_type, missing_order_id, invalid_object.
    flags             text[]      NOT NULL DEFAULT '{}',
    received_at       timestamptz NOT NULL DEFAULT now()
);

-- Disputes (and charges without metadata) find their order through an earlier event of the
-- same PaymentIntent.
CREATE INDEX stripe_events_payment_intent_idx ON stripe_events (payment_intent_id, created DESC)
    WHERE payment_intent_id IS NOT NULL AND order_id IS NOT NULL;
CREATE INDEX stripe_events_order_idx ON stripe_events (order_id) WHERE order_id IS NOT NULL;
-- Operators look at what was stored but not published.
CREATE INDEX stripe_events_flagged_idx ON stripe_events (received_at) WHERE flags <> '{}';
