-- A service token may be limited to several changes, not only one: an application that serves
-- three flags gets a token that evaluates those three and nothing else. The limit is a table of
-- its own (not a text list like the scopes of 0009) because it is searched by change (a
-- change's token panel lists the tokens that reach it) and its ids must name real changes.
--
-- Every limited token has its rows here; a token without any is for every change. The old
-- `change_id` column stays and is still written, with the first change of the limit: a server
-- of the previous release, still running beside a new one during an upgrade, then holds a
-- token of several changes to one of them, never to all. A row such a server writes has its
-- `change_id` and no rows here; the new server reads it as limited to that change.
CREATE TABLE ingest_token_changes (
    token_id  TEXT NOT NULL REFERENCES ingest_tokens (id),
    change_id TEXT NOT NULL REFERENCES changes (id),
    PRIMARY KEY (token_id, change_id)
);

CREATE INDEX ingest_token_changes_by_change ON ingest_token_changes (change_id);

INSERT INTO ingest_token_changes (token_id, change_id)
SELECT id, change_id FROM ingest_tokens WHERE change_id IS NOT NULL;
