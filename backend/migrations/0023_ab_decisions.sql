-- The decision that ends a change's A/B test (keep, revert or iterate), with the comparison
-- report it was made on, frozen as JSON. A plan has at most one A/B step, so a change has at
-- most one decision: the primary key makes a second (or a racing one) fail.
CREATE TABLE ab_decisions (
    change_id  TEXT PRIMARY KEY REFERENCES changes (id),
    stage      TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    note       TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    report     TEXT NULL
);
