-- Customer emails of the order worker. One row per (order, kind): the unique key is what makes
-- an email at most once (docs/adr/0070-checkout.md, "Email exactly once").
CREATE TABLE email_notifications (
    id              bigserial   PRIMARY KEY,
    dedupe_key      text        NOT NULL UNIQUE,       -- e.g. 'order.paid:42'
    order_id        bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind            text        NOT NULL,              -- order.paid, order.refunded, ...
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    -- pending -> sending -> sent; sending is left only by the sender that set it; a sending row
    -- whose sender vanished becomes 'unknown' (never resent automatically); failed = permanent.
    status          text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sending_since   timestamptz,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_notifications_due_idx ON email_notifications (next_attempt_at) WHERE status = 'pending';
