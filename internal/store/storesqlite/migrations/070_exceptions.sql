-- Exceptions: a resource left alone until a date, by a person's decision.
CREATE TABLE exceptions (
    id           TEXT    PRIMARY KEY,
    resource     TEXT    NOT NULL,
    account      TEXT    NOT NULL DEFAULT '',
    region       TEXT    NOT NULL DEFAULT '',
    playbook     TEXT    NOT NULL DEFAULT '',
    until        INTEGER NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    granted_by   TEXT    NOT NULL DEFAULT '',
    channel      TEXT    NOT NULL DEFAULT '',
    granted_at   INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    revoked_by   TEXT    NOT NULL DEFAULT '',
    rechecked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX exceptions_resource ON exceptions (resource, until);
CREATE INDEX exceptions_expired ON exceptions (until) WHERE revoked_at = 0 AND rechecked_at = 0;
