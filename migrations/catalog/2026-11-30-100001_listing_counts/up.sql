-- Maintained listing counts (docs/adr/0013-listing-totals.md): how many storefront-visible
-- products (active, not deleted) each (category, in stock) pair has, exact in every snapshot.
-- The default, category and in_stock listings read their `total` here instead of counting rows.
-- category '' stands for "no category" (the listing never filters on an empty category).
--
-- Writers never update a shared counter row: triggers append signed deltas to
-- listing_count_deltas (no row locks, so no waits and no deadlocks between concurrent buyers,
-- whatever order their transactions touch products in), and the catalog's compactor folds them
-- into listing_counts every few seconds. A count is sum(listing_counts) + sum(deltas), read in one
-- statement (one snapshot).
CREATE TABLE listing_counts (
    category  text    NOT NULL,
    in_stock  boolean NOT NULL,
    -- No CHECK (n >= 0): PostgreSQL checks the row an upsert proposes, and a negative delta for
    -- an existing pair is proposed before it becomes an update.
    n         bigint  NOT NULL,
    PRIMARY KEY (category, in_stock)
);

CREATE TABLE listing_count_deltas (
    category  text    NOT NULL,
    in_stock  boolean NOT NULL,
    n         bigint  NOT NULL
);

-- Every function keeps the search_path it was created with (the service's schema), so a session
-- with another search_path (an operator in psql) still finds the tables.

-- Inserts and deletes: one statement-level trigger each, over the transition table, so a bulk
-- load of a million rows appends a handful of deltas, not a million.
CREATE FUNCTION listing_counts_rows() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO listing_count_deltas (category, in_stock, n)
        SELECT coalesce(attributes ->> 'category', ''), stock_quantity > reserved_quantity, count(*)
        FROM new_rows WHERE status = 'active' AND deleted_at IS NULL GROUP BY 1, 2;
    ELSE
        INSERT INTO listing_count_deltas (category, in_stock, n)
        SELECT coalesce(attributes ->> 'category', ''), stock_quantity > reserved_quantity, -count(*)
        FROM old_rows WHERE status = 'active' AND deleted_at IS NULL GROUP BY 1, 2;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_listing_counts_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION listing_counts_rows();
CREATE TRIGGER products_listing_counts_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION listing_counts_rows();

-- Updates: a row trigger whose WHEN clause (evaluated without calling the function) passes only
-- when a row moves between pairs. Reservations change reserved_quantity all the time but flip
-- "in stock" rarely, so the hot path pays a comparison, not an insert.
CREATE FUNCTION listing_counts_move() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF OLD.status = 'active' AND OLD.deleted_at IS NULL THEN
        INSERT INTO listing_count_deltas (category, in_stock, n) VALUES
            (coalesce(OLD.attributes ->> 'category', ''), OLD.stock_quantity > OLD.reserved_quantity, -1);
    END IF;
    IF NEW.status = 'active' AND NEW.deleted_at IS NULL THEN
        INSERT INTO listing_count_deltas (category, in_stock, n) VALUES
            (coalesce(NEW.attributes ->> 'category', ''), NEW.stock_quantity > NEW.reserved_quantity, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_listing_counts_update AFTER UPDATE ON products FOR EACH ROW
    WHEN ((OLD.status = 'active' AND OLD.deleted_at IS NULL)
              IS DISTINCT FROM (NEW.status = 'active' AND NEW.deleted_at IS NULL)
          OR (NEW.status = 'active' AND NEW.deleted_at IS NULL
              AND (coalesce(OLD.attributes ->> 'category', '') <> coalesce(NEW.attributes ->> 'category', '')
                   OR (OLD.stock_quantity > OLD.reserved_quantity)
                      <> (NEW.stock_quantity > NEW.reserved_quantity))))
    EXECUTE FUNCTION listing_counts_move();

CREATE FUNCTION listing_counts_truncate() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM listing_count_deltas;
    DELETE FROM listing_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER products_listing_counts_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION listing_counts_truncate();

-- Folds the deltas into listing_counts in one statement (one transaction); returns how many
-- delta rows it folded. Two compactors at once are safe: a delta row is deleted, and so
-- counted, by one of them only.
CREATE FUNCTION listing_counts_compact() RETURNS bigint LANGUAGE sql SET search_path FROM CURRENT AS $$
    WITH moved AS (DELETE FROM listing_count_deltas RETURNING category, in_stock, n),
    summed AS (
        INSERT INTO listing_counts (category, in_stock, n)
        SELECT category, in_stock, sum(n) FROM moved GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (category, in_stock) DO UPDATE SET n = listing_counts.n + EXCLUDED.n
        RETURNING 1
    )
    SELECT count(*) FROM moved
$$;

-- What is there already.
INSERT INTO listing_counts (category, in_stock, n)
SELECT coalesce(attributes ->> 'category', ''), stock_quantity > reserved_quantity, count(*)
FROM products WHERE status = 'active' AND deleted_at IS NULL GROUP BY 1, 2;
