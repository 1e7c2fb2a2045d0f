-- An approval given while the change's health was Breach (`shared::health`) carries the
-- signer's explicit "I have seen the breach"; the API refuses such an approval without it.
-- 0 for every earlier approval: none was asked for the confirmation. A 0/1 integer, as
-- `users.disabled`, reads the same on SQLite and PostgreSQL through sqlx's Any driver.
ALTER TABLE approvals ADD COLUMN seen_breach BIGINT NOT NULL DEFAULT 0 CHECK (seen_breach IN (0, 1));
