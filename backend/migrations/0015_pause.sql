-- A rollout can be paused (held): its stage and traffic stay as they are, advancing is refused
-- until someone resumes, rolling back stays open. The hold is a mark on the change, not a
-- state of its own, so that everything keyed on the stage (traffic, gates, evaluation) keeps
-- reading the stage. All three are NULL when the change is not paused; `paused_at` and
-- `paused_by` are RFC 3339 UTC and an e-mail (or `guardian`).
ALTER TABLE changes ADD COLUMN paused_at TEXT NULL;
ALTER TABLE changes ADD COLUMN paused_by TEXT NULL;
ALTER TABLE changes ADD COLUMN paused_reason TEXT NULL;

-- The history takes the two new actions. SQLite cannot alter a CHECK constraint and
-- PostgreSQL names it implicitly, so the table is rebuilt the one way both understand: copy,
-- drop, rename. Nothing references `transitions`, so the drop cascades nowhere.
CREATE TABLE transitions_new (
    id         TEXT PRIMARY KEY,
    change_id  TEXT NOT NULL REFERENCES changes (id),
    action     TEXT NOT NULL
               CHECK (action IN ('advance', 'skip', 'roll_back', 'pause', 'resume')),
    from_state TEXT NOT NULL,
    from_step  BIGINT NULL CHECK (from_step >= 0),
    to_state   TEXT NOT NULL,
    to_step    BIGINT NULL CHECK (to_step >= 0),
    actor      TEXT NOT NULL CHECK (length(actor) > 0),
    actor_id   TEXT NULL REFERENCES users (id),
    -- Justification of a skip, reason of a rollback or a pause, optional note on an advance
    -- or a resume.
    reason     TEXT NULL,
    at         TEXT NOT NULL
);
INSERT INTO transitions_new (id, change_id, action, from_state, from_step, to_state, to_step,
                             actor, actor_id, reason, at)
    SELECT id, change_id, action, from_state, from_step, to_state, to_step, actor, actor_id,
           reason, at
    FROM transitions;
DROP TABLE transitions;
ALTER TABLE transitions_new RENAME TO transitions;
CREATE INDEX transitions_by_change ON transitions (change_id, at, id);
