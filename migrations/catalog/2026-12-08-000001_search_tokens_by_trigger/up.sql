-- The purchase path (issue 21): products.search_tokens was a stored generated column, and
-- PostgreSQL 15 recomputes every stored generated column on every UPDATE of the row, whatever
-- the UPDATE sets. Each reservation, resize, release and stock commit changes
-- reserved_quantity, so each one re-split the name and description (a SQL function with an
-- aggregate, planned per statement). The runs are now kept by a trigger that fires only when
-- an INSERT writes the row or an UPDATE sets name or description; the column's values are
-- unchanged (DROP EXPRESSION keeps them and rewrites nothing).
ALTER TABLE products ALTER COLUMN search_tokens DROP EXPRESSION;

CREATE FUNCTION products_search_tokens() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.search_tokens := search_tokens(NEW.name, NEW.description);
    RETURN NEW;
END $$;
CREATE TRIGGER products_search_tokens_insert BEFORE INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION products_search_tokens();
CREATE TRIGGER products_search_tokens_update BEFORE UPDATE OF name, description ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION products_search_tokens();
