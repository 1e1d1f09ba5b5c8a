-- Full-text words of name and description (docs/adr/0013-listing-totals.md, "Search"): a search
-- of three or more words narrows by its inner words here (whole words, one posting list each)
-- before the substring test, which a long pattern makes slow on the trigram indexes (one posting
-- list per trigram). The listing's WHERE repeats this exact expression, so the planner matches it.
-- Building it blocks writes to products (about 15 s per million rows); on a live catalog, build it
-- first with CREATE INDEX CONCURRENTLY and the same definition, and this does nothing.
CREATE INDEX IF NOT EXISTS products_words_idx ON products
    USING GIN (to_tsvector('simple', name || ' ' || coalesce(description, '')))
    WHERE status = 'active' AND deleted_at IS NULL;
