-- A key the caller chooses (cart: per line; order: per re-held line) makes a reserve request
-- idempotent while the reservation is active: a retry after a time-out finds the reservation the
-- first attempt made instead of holding the stock twice (issue 17, item 5). Once released or
-- expired, the key may hold stock again.
ALTER TABLE reservations ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX reservations_active_key_idx ON reservations (idempotency_key)
    WHERE status = 'active' AND idempotency_key IS NOT NULL;
