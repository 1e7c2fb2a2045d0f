-- A service token holds a set of scopes (ingest, evaluate, ci) instead of one. They are stored
-- as one text of space-separated names, as OAuth writes a scope list (RFC 6749 §3.3): a token
-- has at most three, is always read whole and never searched by scope, so a table of its own
-- would buy nothing. Existing tokens keep the scope they had (`ingest`, the only one so far),
-- and a row written the old way (without `scopes`) reads as `ingest` through the default.
-- The old `scope` column stays and is still written (`ingest` when the token holds it, else
-- another of its scopes): a server of the previous release, still running beside a new one on
-- the same PostgreSQL during an upgrade, reads it to decide ingestion.
ALTER TABLE ingest_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'ingest';
UPDATE ingest_tokens SET scopes = scope;
