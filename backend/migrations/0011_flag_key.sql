-- A change is a feature flag for OpenFeature clients (OFREP): `flag_key` is the name they
-- evaluate it by. Unique across changes. New changes take a slug of their title (with a
-- suffix of the id when that slug is taken); rows from before this migration take their id,
-- a lower-case UUID, which is already a valid key and unique. The empty default only exists
-- because SQLite cannot add a NOT NULL column without one; every insert names the key.
ALTER TABLE changes ADD COLUMN flag_key TEXT NOT NULL DEFAULT '';
UPDATE changes SET flag_key = lower(id);
CREATE UNIQUE INDEX changes_by_flag_key ON changes (flag_key);
