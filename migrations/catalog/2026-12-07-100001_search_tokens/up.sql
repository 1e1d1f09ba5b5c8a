-- Search at a million products (docs/adr/0073-search-at-scale.md). The listing's `search` keeps
-- its meaning (a case-insensitive substring of name or description); these make it cheap:
--
-- * products.search_tokens: the distinct space-separated runs of lower(name) and
--   lower(description), stored, with a GIN index. A term without a space is a substring of the
--   text exactly when it is a substring of one of these runs, so "tokens && {the vocabulary's
--   runs that contain the term}" is the substring test itself: exact, no heap recheck. Runs over
--   64 characters are stored as E'\x01' (a GIN key has a size limit): such products are always
--   re-tested with ILIKE, and E'\x01' never matches a search term (control characters are refused).
-- * search_words: every run any product has had (a superset: never pruned, stale words match no
--   product), with a trigram index: the term's runs are looked up here first.
--
-- Adding a stored column rewrites products (about a minute per million rows, blocking writes).
CREATE FUNCTION search_tokens(name text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT CASE WHEN length(t) > 64 THEN E'\x01' ELSE t END), '{}')
    FROM unnest(string_to_array(lower(name || ' ' || coalesce(description, '')), ' ')) AS t
    WHERE t <> ''
$$;

ALTER TABLE products ADD COLUMN search_tokens text[]
    GENERATED ALWAYS AS (search_tokens(name, description)) STORED;
CREATE INDEX products_search_tokens_idx ON products USING GIN (search_tokens)
    WHERE status = 'active' AND deleted_at IS NULL;

CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING GIN (word gin_trgm_ops);

-- New runs join the vocabulary in the writing transaction, in sorted order (two writers adding
-- the same new words wait for each other instead of deadlocking).
CREATE FUNCTION search_words_rows() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT t FROM new_rows, unnest(new_rows.search_tokens) AS t
    WHERE t <> E'\x01' ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER products_search_words_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_rows();
-- Updates: only rows whose runs changed (the WHEN clause costs reservations one comparison).
CREATE FUNCTION search_words_row() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT t FROM unnest(NEW.search_tokens) AS t WHERE t <> E'\x01' ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER products_search_words_update AFTER UPDATE ON products FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens)
    EXECUTE FUNCTION search_words_row();

INSERT INTO search_words (word)
SELECT DISTINCT t FROM products, unnest(search_tokens) AS t WHERE t <> E'\x01';
