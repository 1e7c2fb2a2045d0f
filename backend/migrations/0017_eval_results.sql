-- Offline eval results a pipeline (or a person) uploads while a change is in `eval`; the eval
-- gate (eval → canary) reads the newest one. `upload` is the `shared::eval::EvalUpload` as
-- JSON text: the gate's verdict is not stored, it is judged against the plan when read, so a
-- row never disagrees with the rule. `uploaded_by` is a person's name or `token:<name>`;
-- `user_id` (a person) or `token_id` (a service token with the scope `ci`) says which.
CREATE TABLE eval_results (
    id            TEXT PRIMARY KEY,
    change_id     TEXT NOT NULL REFERENCES changes (id),
    plan_revision BIGINT NOT NULL,
    uploaded_at   TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL CHECK (length(uploaded_by) > 0),
    user_id       TEXT NULL REFERENCES users (id),
    token_id      TEXT NULL REFERENCES ingest_tokens (id),
    upload        TEXT NOT NULL
);
-- Newest first per change (ids are UUIDv7, so they break ties in creation order).
CREATE INDEX eval_results_by_change ON eval_results (change_id, uploaded_at, id);
