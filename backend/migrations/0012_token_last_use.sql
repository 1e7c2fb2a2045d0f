-- When an ingestion token last authenticated a request, RFC 3339 UTC like every timestamp here;
-- NULL for a token never used. It is written at most once a minute per token (see
-- `src/http/ingest_auth.rs`), so ingestion does not turn every request into a write: it is a
-- last use to the minute. The demo's traffic simulator reads it to revoke the tokens of an
-- instance that stopped without revoking its own (a crash): see `src/demo_traffic.rs`.
ALTER TABLE ingest_tokens ADD COLUMN last_used_at TEXT;
