DROP INDEX IF EXISTS search_words_triples_trgm_idx;
DROP INDEX IF EXISTS search_words_pairs_trgm_idx;
DROP INDEX IF EXISTS search_words_trgm_idx;
-- Pairs and triples stay in the vocabulary as stale entries (no product has them any more).
ALTER TABLE search_words DROP COLUMN arity;
CREATE INDEX search_words_trgm_idx ON search_words USING GIN (word gin_trgm_ops);
CREATE OR REPLACE FUNCTION search_tokens(name text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT CASE WHEN length(t) > 64 THEN E'\x01' ELSE t END), '{}')
    FROM unnest(string_to_array(lower(name || ' ' || coalesce(description, '')), ' ')) AS t
    WHERE t <> ''
$$;
ALTER TABLE products DISABLE TRIGGER products_set_updated_at;
UPDATE products SET search_tokens = search_tokens(name, description)
WHERE search_tokens IS DISTINCT FROM search_tokens(name, description);
ALTER TABLE products ENABLE TRIGGER products_set_updated_at;
