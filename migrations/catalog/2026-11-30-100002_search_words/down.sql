DROP INDEX IF EXISTS products_words_idx;
