-- AI changes and where their rollout stands.
--
-- One schema for SQLite and PostgreSQL alike, so only portable types:
-- * ids are TEXT: UUIDv7 strings made in Rust, which sort by creation time;
-- * JSON documents (baseline, candidate, plan) are TEXT, read and written by serde;
-- * timestamps are TEXT in RFC 3339 UTC with fixed width (microseconds, `Z`), so text order
--   is time order on both databases;
-- * integers are BIGINT (SQLite's INTEGER, PostgreSQL's int8), floats DOUBLE PRECISION.
CREATE TABLE changes (
    id               TEXT PRIMARY KEY,
    title            TEXT NOT NULL CHECK (length(title) > 0),
    kind             TEXT NOT NULL
                     CHECK (kind IN ('prompt', 'model', 'tool', 'routing', 'architecture')),
    risk             TEXT NOT NULL CHECK (risk IN ('low', 'standard', 'high')),
    baseline         TEXT NOT NULL,
    candidate        TEXT NOT NULL,
    expected_changes TEXT NOT NULL,
    owner            TEXT NOT NULL CHECK (length(owner) > 0),
    plan             TEXT NOT NULL,
    state            TEXT NOT NULL
                     CHECK (state IN ('draft', 'eval', 'canary', 'ramp', 'full', 'reviewed',
                                      'rolled_back')),
    -- 0-based index into the plan's ramp; set exactly when the state is `ramp`.
    ramp_step        BIGINT NULL CHECK (ramp_step >= 0),
    -- Share of traffic on the candidate, derived from state and plan at each transition and
    -- stored so that whatever routes traffic can read it without knowing the plan format.
    traffic_percent  DOUBLE PRECISION NOT NULL
                     CHECK (traffic_percent >= 0 AND traffic_percent <= 100),
    -- Optimistic concurrency: every write bumps it and guards on the value it read.
    revision         BIGINT NOT NULL CHECK (revision >= 1),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CHECK ((state = 'ramp' AND ramp_step IS NOT NULL)
        OR (state <> 'ramp' AND ramp_step IS NULL))
);

-- The list is newest first, optionally filtered by state or kind.
CREATE INDEX changes_by_created ON changes (created_at, id);
CREATE INDEX changes_by_state ON changes (state, created_at);
CREATE INDEX changes_by_kind ON changes (kind, created_at);
