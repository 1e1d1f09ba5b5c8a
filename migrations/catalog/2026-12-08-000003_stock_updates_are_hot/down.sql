ALTER TABLE products RESET (fillfactor);

CREATE INDEX IF NOT EXISTS products_in_stock_idx ON products (created_at DESC, id)
    WHERE status = 'active' AND deleted_at IS NULL AND stock_quantity > reserved_quantity;
