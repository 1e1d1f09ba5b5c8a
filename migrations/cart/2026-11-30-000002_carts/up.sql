-- Persistent carts: customers' carts only (docs/adr/0060-cart-stores.md). A guest cart lives in
-- Redis alone, for its TTL; a customer's cart is written here first (the source of truth) and
-- then to Redis, so it survives a Redis flush and follows the customer across devices.
CREATE TABLE carts (
    id               uuid        PRIMARY KEY,
    customer_id      text        NOT NULL UNIQUE CHECK (length(customer_id) BETWEEN 1 AND 255),  -- JWT sub: one cart per customer
    currency         char(3)     NOT NULL,
    -- The checkout lock (ARCHITECTURE §3): while held and not expired, public changes get 409.
    locked_by        text        CHECK (length(locked_by) <= 100),
    lock_expires_at  timestamptz,
    -- The order the current lock is for, once checkout names it (cart.checked_out was written).
    checkout_order_id bigint,
    -- Bumped on every change: an order.paid for an older version still deletes (the order took the cart).
    version          bigint      NOT NULL DEFAULT 0,
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((locked_by IS NULL) = (lock_expires_at IS NULL))
);

CREATE TABLE cart_items (
    id                  uuid        PRIMARY KEY,
    cart_id             uuid        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id          bigint      NOT NULL CHECK (product_id > 0),
    sku                 text        NOT NULL,
    quantity            integer     NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    selected_attributes jsonb       NOT NULL DEFAULT '{}',
    -- The catalog reservation holding the units, and when it lapses (NULL: none held now).
    reservation_id      uuid        UNIQUE,
    reserved_until      timestamptz,
    position            integer     NOT NULL,  -- lines keep the order they were added in
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- One line per product + options (jsonb equality ignores key order).
    UNIQUE (cart_id, product_id, selected_attributes)
);
CREATE INDEX cart_items_cart_idx ON cart_items (cart_id, position);
