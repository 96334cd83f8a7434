-- owner: @catalog-team
-- expect: lookups by sku use items_sku_idx
-- rollback: DROP INDEX IF EXISTS items_sku_idx;
CREATE INDEX items_sku_idx ON items (sku);
