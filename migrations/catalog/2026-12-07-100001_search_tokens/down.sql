DROP TRIGGER IF EXISTS products_search_words_update ON products;
DROP TRIGGER IF EXISTS products_search_words_insert ON products;
DROP FUNCTION IF EXISTS search_words_rows();
DROP FUNCTION IF EXISTS search_words_row();
DROP TABLE IF EXISTS search_words;
DROP INDEX IF EXISTS products_search_tokens_idx;
ALTER TABLE products DROP COLUMN IF EXISTS search_tokens;
DROP FUNCTION IF EXISTS search_tokens(text, text);
