DROP TABLE idempotency_keys;
DROP TABLE disputes;
DROP TABLE refunds;
DROP TABLE shipments;
DROP TABLE payment_status_history;
DROP TABLE payments;
DROP TABLE order_items;
DROP TABLE orders;
