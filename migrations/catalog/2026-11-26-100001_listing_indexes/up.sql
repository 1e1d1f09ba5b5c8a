-- Indexes for every shape of GET /api/v1/products at scale (docs/adr/0010-listing-at-scale.md).
-- All are partial on what the storefront can show (active, not deleted), like the foundation's.

-- `search` keeps its meaning (case-insensitive substring of name OR description, `%` and `_`
-- literal) and is served by trigram indexes: ILIKE '%term%' on each column is a bitmap index scan,
-- and the OR of the two is a BitmapOr, not a sequential scan.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX products_name_trgm_idx ON products USING GIN (name gin_trgm_ops)
    WHERE status = 'active' AND deleted_at IS NULL;
CREATE INDEX products_description_trgm_idx ON products USING GIN (description gin_trgm_ops)
    WHERE status = 'active' AND deleted_at IS NULL;

-- category with the other two sorts (the foundation's products_category_idx serves created_at),
-- each with the id tie-break the listing orders by.
CREATE INDEX products_category_price_idx ON products ((attributes ->> 'category'), price_cents, id)
    WHERE status = 'active' AND deleted_at IS NULL;
CREATE INDEX products_category_name_idx ON products ((attributes ->> 'category'), name, id)
    WHERE status = 'active' AND deleted_at IS NULL;

-- in_stock (stock beyond reservations) in the default order: the predicate is the listing's own
-- filter, so the planner matches it, and `count(*)` with in_stock is an index-only scan instead
-- of a sequential scan of the heap. The price (docs/adr/0010): stock and reservation updates
-- touch an indexed column, so they are not HOT updates.
CREATE INDEX products_in_stock_idx ON products (created_at DESC, id)
    WHERE status = 'active' AND deleted_at IS NULL AND stock_quantity > reserved_quantity;
