-- Stock reservations (ARCHITECTURE §3): a cart line or an order holds units of a product until
-- it is committed (paid), released, or expires. products.reserved_quantity is the sum of the
-- quantities of a product's active reservations (plus whatever a bulk load set on insert), and
-- every change to it happens in the same transaction as the reservation row's change.
CREATE TABLE reservations (
    id          uuid        PRIMARY KEY,                 -- UUID v7, made by catalog
    product_id  bigint      NOT NULL REFERENCES products (id),
    quantity    integer     NOT NULL CHECK (quantity > 0),
    cart_id     uuid,                                    -- owner: a cart ...
    order_id    bigint,                                  -- ... and/or an order (set on extend at checkout)
    status      varchar(16) NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'committed', 'released', 'expired')),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,                             -- when it stopped being active
    CHECK (cart_id IS NOT NULL OR order_id IS NOT NULL),
    CHECK ((status = 'active') = (closed_at IS NULL))
);

-- The sweeper: active reservations by expiry, nothing else (closed ones never come back).
CREATE INDEX reservations_expiry_idx ON reservations (expires_at) WHERE status = 'active';
-- order.paid / order.canceled / payment.failed find an order's reservations.
CREATE INDEX reservations_order_idx ON reservations (order_id) WHERE order_id IS NOT NULL;
-- A cart's reservations (cart service look-ups, support queries).
CREATE INDEX reservations_cart_idx ON reservations (cart_id) WHERE cart_id IS NOT NULL;
-- The foreign key: product deletes and per-product audits.
CREATE INDEX reservations_product_idx ON reservations (product_id);

CREATE TRIGGER reservations_set_updated_at BEFORE UPDATE ON reservations
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION set_updated_at();
