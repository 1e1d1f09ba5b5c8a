DROP TABLE payment_repairs;
DROP INDEX orders_attention_idx;
DROP INDEX orders_reconcile_idx;
ALTER TABLE orders DROP COLUMN payment_synced_at;
DROP TABLE payment_syncs;
DROP TABLE payment_ledger;
