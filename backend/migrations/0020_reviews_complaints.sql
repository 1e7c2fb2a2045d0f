-- The post-deployment review people write (one per change, edited in revisions) and the
-- complaints support records against a change. The facts a review shows beside the written
-- parts (report, holds, stage times, notices) are read from their own tables when it is read.
CREATE TABLE reviews (
    change_id     TEXT PRIMARY KEY REFERENCES changes (id),
    users_noticed TEXT NOT NULL,
    lessons       TEXT NOT NULL,
    -- JSON array of strings.
    follow_ups    TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    written_by    TEXT NOT NULL,
    written_at    TEXT NOT NULL
);

CREATE TABLE complaints (
    id          TEXT PRIMARY KEY,
    change_id   TEXT NOT NULL REFERENCES changes (id),
    user_key    TEXT NOT NULL,
    at          TEXT NOT NULL,
    body        TEXT NOT NULL,
    category    TEXT NOT NULL,
    variant     TEXT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

CREATE INDEX complaints_by_change ON complaints (change_id, at);
