-- The product area a change touches ("billing assistant", "search"), for the support feed's
-- filter. NULL until someone says.
ALTER TABLE changes ADD COLUMN product_area TEXT NULL;
