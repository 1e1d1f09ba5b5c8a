-- The transactional outbox of schema `payments`: each normalised payment.* event is written
-- here in the transaction that records its Stripe event; the relay publishes it afterwards
-- (crates/platform/src/events/relay.rs). Same shape as every service's outbox.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,            -- the envelope id (UUID v7)
    event_type   text        NOT NULL,               -- routing key
    payload      jsonb       NOT NULL,               -- the whole envelope
    headers      jsonb       NOT NULL DEFAULT '{}',  -- traceparent / tracestate
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
