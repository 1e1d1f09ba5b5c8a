-- Search terms with spaces at a million products (issue 20, docs/adr/0073-search-at-scale.md):
-- the stored runs now also hold each pair and triple of consecutive runs of the name and of the
-- description ("cork water", "cork water bottle"). A term of two or three runs is a substring of
-- a text exactly when a pair (a triple) of the text's runs contains it (the term's spaces must
-- fall on the text's), so such a term is matched, and counted from the vocabulary, like one word:
-- no product row is read to decide a match, and `search_words.n` is a lower bound of the matches.
-- Windows with an empty run (double spaces) or a run over 64 characters are not stored: such
-- products carry chr(1) (or match through the runs' path, which re-tests with ILIKE).
CREATE OR REPLACE FUNCTION search_tokens(name text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT t), '{}') FROM (
        SELECT CASE WHEN length(r) > 64 THEN E'\x01' ELSE r END AS t
        FROM unnest(string_to_array(lower(name || ' ' || coalesce(description, '')), ' ')) AS r
        WHERE r <> ''
        UNION ALL
        SELECT array_to_string(s.a[i:i + k - 1], ' ')
        FROM unnest(ARRAY[lower(name), lower(description)]) AS f(txt),
             LATERAL (SELECT string_to_array(f.txt, ' ') AS a) AS s,
             generate_series(1, cardinality(s.a) - 1) AS i,
             (VALUES (2), (3)) AS n(k)
        WHERE f.txt IS NOT NULL AND i + k - 1 <= cardinality(s.a)
          AND NOT EXISTS (SELECT FROM unnest(s.a[i:i + k - 1]) AS w WHERE w = '' OR length(w) > 64)
    ) AS tokens
$$;

-- How many runs a vocabulary entry spans: each kind is looked up on its own trigram index.
ALTER TABLE search_words ADD COLUMN arity smallint
    GENERATED ALWAYS AS ((1 + length(word) - length(replace(word, ' ', '')))::smallint) STORED;
DROP INDEX search_words_trgm_idx;
CREATE INDEX search_words_trgm_idx ON search_words USING GIN (word gin_trgm_ops) WHERE arity = 1;
CREATE INDEX search_words_pairs_trgm_idx ON search_words USING GIN (word gin_trgm_ops) WHERE arity = 2;
CREATE INDEX search_words_triples_trgm_idx ON search_words USING GIN (word gin_trgm_ops) WHERE arity = 3;

-- Existing products get their pairs and triples (the vocabulary and count triggers follow);
-- updated_at stays: the products did not change.
ALTER TABLE products DISABLE TRIGGER products_set_updated_at;
UPDATE products SET search_tokens = search_tokens(name, description)
WHERE search_tokens IS DISTINCT FROM search_tokens(name, description);
ALTER TABLE products ENABLE TRIGGER products_set_updated_at;
