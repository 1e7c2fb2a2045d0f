-- A flag carries a chain of versions: once a change is finished (reviewed, or rolled back),
-- the next change on the same flag key starts from what the flag serves (the finished change's
-- candidate if it shipped, its baseline if it was rolled back), and the old version is
-- retired. `flag_version` numbers a key's changes in the order they took it (1, 2, …); the
-- highest is the flag's current version, the one OFREP serves. A key is unique only among
-- unfinished changes (both databases take partial indexes); rows from before this migration
-- each had a key of their own, so all are version 1.
ALTER TABLE changes ADD COLUMN flag_version BIGINT NOT NULL DEFAULT 1;
DROP INDEX changes_by_flag_key;
CREATE UNIQUE INDEX changes_by_open_flag_key ON changes (flag_key)
    WHERE state NOT IN ('reviewed', 'rolled_back');
CREATE UNIQUE INDEX changes_by_flag_version ON changes (flag_key, flag_version);
