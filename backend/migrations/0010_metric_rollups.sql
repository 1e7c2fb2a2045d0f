-- Running aggregates of the stored metric windows, so that the summary and the series read a
-- number of rows that depends on the cells and points asked for, not on how many windows a
-- change has stored (a 14-day canary with 30 metrics × 12 segments is 8 064 windows per arm).
--
-- One row sums the windows of one change, variant and segment that start in one bucket:
-- `width` 3600 (an hour) or 86400 (a day) with `bucket` the bucket's start, or `width` 0 and
-- `bucket` 0 for the whole history. `metrics` has the shape of `metric_windows.metrics` (metric
-- key → merged value: sufficient statistics add up exactly), and the times are those of the
-- windows summed, which the summary and series report.
--
-- Ingestion rewrites the rows its windows touch in the same transaction, from the windows
-- (hours), the hours (days) and the days (whole history), so a replaced window is accounted
-- for exactly like a new one. Rows for windows stored before this migration are built at
-- start-up (`db::rollups::backfill`).
CREATE TABLE metric_rollups (
    change_id   TEXT NOT NULL REFERENCES changes (id),
    width       BIGINT NOT NULL CHECK (width IN (0, 3600, 86400)),
    bucket      BIGINT NOT NULL,
    variant     TEXT NOT NULL CHECK (variant IN ('control', 'candidate')),
    segment     TEXT NOT NULL,
    windows     BIGINT NOT NULL CHECK (windows >= 1),
    first_start BIGINT NOT NULL,
    last_start  BIGINT NOT NULL,
    last_end    BIGINT NOT NULL,
    shortest    BIGINT NOT NULL,
    requests    BIGINT NOT NULL,
    metrics     TEXT NOT NULL,
    PRIMARY KEY (change_id, width, bucket, variant, segment)
);

-- Raised by every ingestion and catalogue edit of the change, in their transaction: an
-- instance keeps the aggregates it answered for one version and answers polls from memory
-- while the version stands (`http::etag::Answers`).
ALTER TABLE changes ADD COLUMN metrics_version BIGINT NOT NULL DEFAULT 0;
