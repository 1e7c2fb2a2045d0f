-- Webhook deliveries that are not (only) a notice: the guardian's holds, told to the teams a
-- change affects; its rollbacks, whose notice is said as the guardian's with its reason; and
-- requests for sign-off, to the teams of the approvers a gate waits for; and comments that
-- mention a team (0019).
--
-- `notice_id` becomes optional, which SQLite cannot alter in place, so the table is rebuilt
-- the one way both databases understand: copy, drop, rename. Nothing references
-- `deliveries`. Existing rows are notice deliveries.
CREATE TABLE deliveries_new (
    id              TEXT PRIMARY KEY,
    notice_id       TEXT NULL REFERENCES notices (id),
    team_id         TEXT NOT NULL REFERENCES teams (id),
    url             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT NULL,
    delivered_at    TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- What the message is about: a notice (its text is read when it is sent), the guardian's
    -- action, a gate waiting for sign-off, or a comment mentioning the team.
    event           TEXT NOT NULL DEFAULT 'notice'
                    CHECK (event IN ('notice', 'guardian', 'sign_off', 'mention')),
    change_id       TEXT NULL REFERENCES changes (id),
    -- The message as JSON (`delivery::Message`), frozen when it was queued: the whole message
    -- without a notice, or what the guardian adds to its rollback notice.
    message         TEXT NULL,
    -- Makes a message that must go once go once, however many instances or requests queue
    -- it: a sign-off request per gate, plan revision and team; a mention per comment and
    -- team. NULL for the rest.
    once_key        TEXT NULL UNIQUE,
    CHECK (notice_id IS NOT NULL OR message IS NOT NULL)
);
INSERT INTO deliveries_new (id, notice_id, team_id, url, status, attempts, last_error,
                            next_attempt_at, claimed_until, delivered_at, created_at, updated_at)
    SELECT id, notice_id, team_id, url, status, attempts, last_error, next_attempt_at,
           claimed_until, delivered_at, created_at, updated_at
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_notice ON deliveries (notice_id);
