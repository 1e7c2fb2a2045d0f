-- The history of every rollout: who moved it, when, from where to where, and why.
--
-- Append-only. No ON DELETE CASCADE on purpose: a change with history cannot be deleted by
-- accident and take its audit trail with it.
CREATE TABLE transitions (
    id         TEXT PRIMARY KEY,
    change_id  TEXT NOT NULL REFERENCES changes (id),
    action     TEXT NOT NULL CHECK (action IN ('advance', 'skip', 'roll_back')),
    from_state TEXT NOT NULL,
    from_step  BIGINT NULL CHECK (from_step >= 0),
    to_state   TEXT NOT NULL,
    to_step    BIGINT NULL CHECK (to_step >= 0),
    actor      TEXT NOT NULL CHECK (length(actor) > 0),
    -- Justification of a skip, reason of a rollback, optional note on an advance.
    reason     TEXT NULL,
    at         TEXT NOT NULL
);

-- A change's history is read oldest first; ids (UUIDv7) break ties within a microsecond.
CREATE INDEX transitions_by_change ON transitions (change_id, at, id);
