DROP TRIGGER IF EXISTS products_search_tokens_update ON products;
DROP TRIGGER IF EXISTS products_search_tokens_insert ON products;
DROP FUNCTION IF EXISTS products_search_tokens();
-- A column cannot become generated again in place: drop it (with its index and the two triggers
-- whose WHEN reads it) and add it back, which rewrites products.
ALTER TABLE products DROP COLUMN search_tokens CASCADE;
ALTER TABLE products ADD COLUMN search_tokens text[]
    GENERATED ALWAYS AS (search_tokens(name, description)) STORED;
CREATE INDEX products_search_tokens_idx ON products USING GIN (search_tokens)
    WHERE status = 'active' AND deleted_at IS NULL;
CREATE TRIGGER products_search_words_update AFTER UPDATE ON products FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens)
    EXECUTE FUNCTION search_words_row();
CREATE TRIGGER products_search_word_counts_update AFTER UPDATE ON products FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens
          OR (OLD.status = 'active' AND OLD.deleted_at IS NULL)
             IS DISTINCT FROM (NEW.status = 'active' AND NEW.deleted_at IS NULL))
    EXECUTE FUNCTION search_word_counts_move();
