-- The discussion on a change: comments anyone signed in writes, the teams each mentions,
-- and the webhook deliveries of those mentions.

CREATE TABLE comments (
    id         TEXT PRIMARY KEY,
    change_id  TEXT NOT NULL REFERENCES changes (id),
    author_id  TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL
);

CREATE INDEX comments_by_change ON comments (change_id, created_at);

-- One row per team a comment mentions (`@support`), so a team's mentions are one indexed read.
CREATE TABLE comment_mentions (
    comment_id TEXT NOT NULL REFERENCES comments (id),
    team_id    TEXT NOT NULL REFERENCES teams (id),
    PRIMARY KEY (comment_id, team_id)
);

CREATE INDEX comment_mentions_by_team ON comment_mentions (team_id);

-- Webhook deliveries of mentions, one row per comment and mentioned team with a webhook,
-- written with the comment and worked by the delivery worker like `deliveries` (see
-- 0007_deliveries.sql: a compare-and-set on `claimed_until` lets one instance send each).
-- A table of its own because `deliveries.notice_id` is NOT NULL and refers to a notice.
CREATE TABLE comment_deliveries (
    id              TEXT PRIMARY KEY,
    comment_id      TEXT NOT NULL REFERENCES comments (id),
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

CREATE INDEX comment_deliveries_due ON comment_deliveries (status, next_attempt_at);
