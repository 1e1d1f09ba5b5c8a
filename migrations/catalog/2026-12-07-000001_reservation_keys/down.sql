DROP INDEX reservations_active_key_idx;
ALTER TABLE reservations DROP COLUMN idempotency_key;
