-- How many storefront-visible products (active, not deleted) have each run of the vocabulary
-- (docs/adr/0073-search-at-scale.md): a search for one word that many products have is then known
-- to reach the count cap without reading products. Kept exact like listing_counts
-- (docs/adr/0013-listing-totals.md): triggers append signed deltas (no shared row is locked), the
-- catalog's compactor folds them, and a count is n + the unfolded deltas, read in one statement.
ALTER TABLE search_words ADD COLUMN n bigint NOT NULL DEFAULT 0;
CREATE TABLE search_word_deltas (
    word text   NOT NULL,
    n    bigint NOT NULL
);
CREATE INDEX search_word_deltas_word_idx ON search_word_deltas (word);

CREATE FUNCTION search_word_counts_rows() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_word_deltas (word, n)
        SELECT t, count(*) FROM new_rows, unnest(new_rows.search_tokens) AS t
        WHERE status = 'active' AND deleted_at IS NULL AND t <> E'\x01' GROUP BY t;
    ELSE
        INSERT INTO search_word_deltas (word, n)
        SELECT t, -count(*) FROM old_rows, unnest(old_rows.search_tokens) AS t
        WHERE status = 'active' AND deleted_at IS NULL AND t <> E'\x01' GROUP BY t;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER products_search_word_counts_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_word_counts_rows();
CREATE TRIGGER products_search_word_counts_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_word_counts_rows();

-- Updates: only rows whose runs or visibility change (reservations pay the WHEN comparison).
CREATE FUNCTION search_word_counts_move() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF OLD.status = 'active' AND OLD.deleted_at IS NULL THEN
        INSERT INTO search_word_deltas (word, n)
        SELECT t, -1 FROM unnest(OLD.search_tokens) AS t WHERE t <> E'\x01';
    END IF;
    IF NEW.status = 'active' AND NEW.deleted_at IS NULL THEN
        INSERT INTO search_word_deltas (word, n)
        SELECT t, 1 FROM unnest(NEW.search_tokens) AS t WHERE t <> E'\x01';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER products_search_word_counts_update AFTER UPDATE ON products FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens
          OR (OLD.status = 'active' AND OLD.deleted_at IS NULL)
             IS DISTINCT FROM (NEW.status = 'active' AND NEW.deleted_at IS NULL))
    EXECUTE FUNCTION search_word_counts_move();

CREATE FUNCTION search_word_counts_truncate() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM search_word_deltas;
    UPDATE search_words SET n = 0 WHERE n <> 0;
    RETURN NULL;
END $$;
CREATE TRIGGER products_search_word_counts_truncate AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION search_word_counts_truncate();

-- Folds the deltas in one statement; returns how many delta rows it folded (each is deleted, so
-- folded, by one compactor only).
CREATE FUNCTION search_words_compact() RETURNS bigint LANGUAGE sql SET search_path FROM CURRENT AS $$
    WITH moved AS (DELETE FROM search_word_deltas RETURNING word, n),
    summed AS (
        INSERT INTO search_words (word, n)
        SELECT word, sum(n) FROM moved GROUP BY 1 ORDER BY 1
        ON CONFLICT (word) DO UPDATE SET n = search_words.n + EXCLUDED.n
        RETURNING 1
    )
    SELECT count(*) FROM moved
$$;

-- What is there already.
UPDATE search_words AS s SET n = c.n
FROM (SELECT t AS word, count(*) AS n FROM products, unnest(search_tokens) AS t
      WHERE status = 'active' AND deleted_at IS NULL AND t <> E'\x01' GROUP BY t) AS c
WHERE s.word = c.word;
