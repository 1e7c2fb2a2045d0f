-- Team coordination: teams, their members, notices to them and acknowledgements.

-- Teams told about changes. `webhook_secret` signs outgoing webhooks (HMAC-SHA256) and so is
-- stored as is: a hash could not sign. It is shown once, on creation or rotation, and never
-- answered again. The Atom feed token only has to be checked, so only its SHA-256 is kept.
CREATE TABLE teams (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    webhook_url       TEXT NULL,
    webhook_secret    TEXT NULL,
    feed_token_sha256 TEXT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_by_user ON team_members (user_id);

-- The teams every workspace starts with, so that the Support notice gate has someone to
-- address from the first start. Fixed ids: migrations run once per database.
INSERT INTO teams (id, name, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'Support',
        '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),
       ('00000000-0000-7000-8000-000000000002', 'Marketing',
        '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');

-- A notice about a change. Editing a published notice writes a new row (`previous_id` names
-- the old one, which becomes `superseded`), so acknowledgements stay with the text that was
-- acknowledged.
CREATE TABLE notices (
    id               TEXT PRIMARY KEY,
    change_id        TEXT NOT NULL REFERENCES changes (id),
    previous_id      TEXT NULL REFERENCES notices (id),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
    kind             TEXT NOT NULL CHECK (kind IN ('manual', 'rollback', 'full', 'skipped')),
    planned_at       TEXT NULL,
    -- `shared::rollout::RolloutState` as JSON.
    planned_stage    TEXT NULL,
    expected_changes TEXT NOT NULL,
    talking_points   TEXT NOT NULL,
    created_by       TEXT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    published_at     TEXT NULL
);

CREATE INDEX notices_by_change ON notices (change_id, created_at);
CREATE INDEX notices_by_published ON notices (status, published_at);

CREATE TABLE notice_audience (
    notice_id TEXT NOT NULL REFERENCES notices (id),
    team_id   TEXT NOT NULL REFERENCES teams (id),
    PRIMARY KEY (notice_id, team_id)
);

CREATE INDEX notice_audience_by_team ON notice_audience (team_id);

-- One acknowledgement per team and notice: the first member to acknowledge answers for the
-- team; a second click is harmless.
CREATE TABLE notice_acks (
    notice_id TEXT NOT NULL REFERENCES notices (id),
    team_id   TEXT NOT NULL REFERENCES teams (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    at        TEXT NOT NULL,
    PRIMARY KEY (notice_id, team_id)
);

-- Per user: which published notices they have read.
CREATE TABLE notice_reads (
    notice_id TEXT NOT NULL REFERENCES notices (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    at        TEXT NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
