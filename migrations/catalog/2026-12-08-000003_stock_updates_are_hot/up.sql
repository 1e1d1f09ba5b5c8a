-- The purchase path (issue 21, docs/adr/0075-hot-stock-updates.md): every reservation, resize,
-- release and stock commit updates products.reserved_quantity or stock_quantity. While an index
-- named one of them (products_in_stock_idx's predicate), no such update could be a HOT update:
-- each one wrote a new entry into every index of products, the four GIN indexes (trigram name
-- and description, attributes, search runs) and the full-text index included, and their WAL.
-- The listing's in-stock totals are maintained counts now (listing_counts), and an in-stock page
-- walks the default order's index and skips the few sold-out rows, so the index has no reader
-- left. Without it, a stock update changes no indexed column and stays on its page.
DROP INDEX IF EXISTS products_in_stock_idx;

-- Room on each page for the new row versions of stock updates (pages written from now on;
-- VACUUM FULL or CLUSTER would apply it to existing pages, which this does not do).
ALTER TABLE products SET (fillfactor = 90);
