-- The transactional outbox: events written in the same transaction as the state change,
-- published afterwards by the relay (crates/platform/src/events/relay.rs).
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
-- The relay only ever scans unpublished rows, oldest first.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Idempotent consumers: the handler's effect and this row commit together.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
