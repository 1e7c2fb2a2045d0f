-- Outgoing webhook deliveries of published notices, one row per notice and team, written in
-- the transaction that publishes the notice and worked by the delivery worker.
--
-- Several server instances may run workers: a row is taken by moving `claimed_until` into
-- the future with a compare-and-set UPDATE, so only one instance sends it; a crashed
-- instance's claim expires and the row is retried.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    notice_id       TEXT NOT NULL REFERENCES notices (id),
    team_id         TEXT NOT NULL REFERENCES teams (id),
    url             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT NULL,
    delivered_at    TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_notice ON deliveries (notice_id);
