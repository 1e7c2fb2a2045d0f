-- The discussion on a change: comments anyone signed in writes, and the teams each mentions
-- (their webhook deliveries are rows of `deliveries`, event `mention`: 0021).

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
