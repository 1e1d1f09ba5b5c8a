DROP TABLE products;
DROP FUNCTION set_updated_at();
