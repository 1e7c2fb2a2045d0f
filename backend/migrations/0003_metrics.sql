-- Canary-vs-control metrics: each change's catalogue, the windows production apps send, and
-- the ingestion tokens they send them with.

-- The change's own metric catalogue as a JSON array of `MetricDef`; NULL means the default
-- catalogue (`shared::metrics::default_catalogue()`), so changes made before this migration
-- and changes nobody customised follow the default as it evolves.
ALTER TABLE changes ADD COLUMN metric_catalogue TEXT NULL;

-- One row per window: what one variant served in one segment over one time span.
--
-- * The metric values are one JSON object (metric key → tagged `MetricValue`): a window is
--   always written and read whole, so one row with a document is much faster than a row per
--   metric (10 000 windows × 30 metrics would be 300 000 rows per request).
-- * Times are BIGINT Unix seconds: compact, portable, and range queries compare integers.
-- * The key (change, start, end, variant, segment) is unique: re-sending a window replaces
--   it (`INSERT … ON CONFLICT … DO UPDATE`), so a retrying or re-counting app never counts
--   twice. Its column order puts `window_start` second so that the same index serves the
--   summary's and the series' time-range scans of one change; a second index on
--   (change_id, window_start) would only slow down ingestion.
-- * `sends` counts how often the window was sent (1 = never replaced); ingestion reads it back
--   with RETURNING to report how many windows it replaced.
CREATE TABLE metric_windows (
    change_id    TEXT NOT NULL REFERENCES changes (id),
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    variant      TEXT NOT NULL CHECK (variant IN ('control', 'candidate')),
    segment      TEXT NOT NULL CHECK (length(segment) > 0),
    requests     BIGINT NOT NULL CHECK (requests >= 0),
    metrics      TEXT NOT NULL,
    sends        BIGINT NOT NULL DEFAULT 1 CHECK (sends >= 1),
    received_at  TEXT NOT NULL,
    CHECK (window_end > window_start),
    PRIMARY KEY (change_id, window_start, window_end, variant, segment)
);

-- Which metrics a change has stored windows of, with their kind and, for latency, the
-- histogram's bucket bounds (JSON array). Written by ingestion, read by it (windows of one
-- metric must share bounds so they can be added) and by catalogue edits (a metric with stored
-- windows cannot be removed or change kind). Scanning every window for this would grow with
-- the data; this table grows with the catalogue. A row stays when its windows are replaced by
-- windows without the metric: the rule errs on the side of keeping data readable.
CREATE TABLE metric_keys (
    change_id  TEXT NOT NULL REFERENCES changes (id),
    metric     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('rate', 'mean', 'latency', 'categories')),
    latency_le TEXT NULL,
    PRIMARY KEY (change_id, metric)
);

-- Bearer tokens of production apps. Only the SHA-256 of the secret is stored (see
-- `src/db/tokens.rs` for why a fast hash is right here); `prefix` is the secret's first
-- characters, enough to recognise a token in a list. Revoked tokens stay, for the record.
CREATE TABLE ingest_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(name) > 0),
    -- The one change the token may write to; NULL for every change.
    change_id     TEXT NULL REFERENCES changes (id),
    prefix        TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT NULL,
    revoked_by    TEXT NULL
);

CREATE INDEX ingest_tokens_by_change ON ingest_tokens (change_id, created_at);
