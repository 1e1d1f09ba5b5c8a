DROP INDEX IF EXISTS products_in_stock_idx;
DROP INDEX IF EXISTS products_category_name_idx;
DROP INDEX IF EXISTS products_category_price_idx;
DROP INDEX IF EXISTS products_description_trgm_idx;
DROP INDEX IF EXISTS products_name_trgm_idx;
-- pg_trgm stays: other schemas in the same database may use it.
