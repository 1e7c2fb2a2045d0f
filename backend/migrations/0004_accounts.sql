-- Accounts, sessions, approvals and the audit log.

-- People who sign in. `email_key` is the trimmed, lowercased address: uniqueness is
-- case-insensitive on both databases without collations or functional indexes. `roles` is a
-- JSON array of role names (a user has one to five; they are always read whole).
-- `password_hash` is an Argon2id PHC string (salt and parameters included).
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL CHECK (length(email) > 0),
    email_key     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL CHECK (length(name) > 0),
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Browser sessions. Only the SHA-256 of the cookie's 256-bit token is stored (a database dump
-- gives no usable session; see `src/db/tokens.rs` for why a fast hash suits random secrets).
-- The CSRF token is not a credential on its own and is handed to the signed-in client anyway.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    -- Set by logout; the row stays for the record.
    revoked_at   TEXT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed logins, for the rate limit. In the database rather than in memory so that several
-- server instances behind one address share the count.
CREATE TABLE login_failures (
    id        TEXT PRIMARY KEY,
    email_key TEXT NOT NULL,
    address   TEXT NOT NULL,
    at        TEXT NOT NULL
);

CREATE INDEX login_failures_by_email ON login_failures (email_key, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);

-- Who created a change (they may not sign its gates); NULL for changes made before accounts.
ALTER TABLE changes ADD COLUMN created_by TEXT NULL REFERENCES users (id);
-- The revision at which the content (plan, criteria, configurations) was last written.
-- Transitions bump `revision` but not this; approvals count only on the current one, so an
-- edit resets sign-off while moving through stages does not.
ALTER TABLE changes ADD COLUMN plan_revision BIGINT NOT NULL DEFAULT 1;

-- The signed-in user behind a transition (the `actor` column keeps their e-mail).
ALTER TABLE transitions ADD COLUMN actor_id TEXT NULL REFERENCES users (id);

-- Service tokens: the ingestion tokens, now with a scope. `ingest` is the only one so far.
ALTER TABLE ingest_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'ingest';

-- The approval policy of every risk tier, as one JSON document (`shared::approvals::
-- ApprovalPolicies`). No row means the defaults.
CREATE TABLE approval_policies (
    id         TEXT PRIMARY KEY CHECK (id = 'current'),
    policies   TEXT NOT NULL,
    updated_by TEXT NULL REFERENCES users (id),
    updated_at TEXT NOT NULL
);

-- Signatures on gates. A person signs the gate of a stage once per plan revision: the unique
-- key makes a double click or a retried request harmless and lets two approvers sign at the
-- same moment without either being lost. A rejecter who changes their mind updates their row.
CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    change_id     TEXT NOT NULL REFERENCES changes (id),
    -- `canary`, `ramp:<step>`, `full`: the stage the gate opens.
    stage         TEXT NOT NULL,
    plan_revision BIGINT NOT NULL,
    -- The change's revision the signer looked at.
    revision      BIGINT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL
                  CHECK (role IN ('admin', 'engineer', 'pm', 'support', 'approver')),
    decision      TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment       TEXT NULL,
    -- `shared::approvals::EvidenceSnapshot` as JSON: what the signer was shown.
    evidence      TEXT NOT NULL,
    at            TEXT NOT NULL,
    UNIQUE (change_id, stage, plan_revision, user_id)
);

CREATE INDEX approvals_by_user ON approvals (user_id, at);

-- Append-only: written in the same transaction as what it records; no route updates or
-- deletes a row. `actor_id` has no foreign key so that a row never blocks anything.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NULL,
    before_json TEXT NULL,
    after_json  TEXT NULL,
    address     TEXT NULL
);

CREATE INDEX audit_by_at ON audit_log (at, id);
CREATE INDEX audit_by_actor ON audit_log (actor, at);
CREATE INDEX audit_by_action ON audit_log (action, at);
CREATE INDEX audit_by_object ON audit_log (object_id, at);
