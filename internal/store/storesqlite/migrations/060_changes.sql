-- Change records: what playbooks changed (or planned) in AWS, with before,
-- after and undo; and paused playbooks (blast radius, or by hand).
CREATE TABLE changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    execution_arn   TEXT    NOT NULL DEFAULT '',
    run             TEXT    NOT NULL DEFAULT '',
    playbook        TEXT    NOT NULL DEFAULT '',
    state_name      TEXT    NOT NULL DEFAULT '',
    account         TEXT    NOT NULL DEFAULT '',
    region          TEXT    NOT NULL DEFAULT '',
    resource        TEXT    NOT NULL DEFAULT '',
    service         TEXT    NOT NULL DEFAULT '',
    action          TEXT    NOT NULL DEFAULT '',
    parameters      BLOB,
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    stage           TEXT    NOT NULL DEFAULT '',
    before_json     BLOB,
    after_json      BLOB,
    undo_json       BLOB,
    irreversible    TEXT    NOT NULL DEFAULT '',
    result          BLOB,
    error           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    rolled_back_at  INTEGER NOT NULL DEFAULT 0,
    rolled_back_by  TEXT    NOT NULL DEFAULT '',
    idempotency_key TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX changes_idempotency_key ON changes (idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX changes_execution ON changes (execution_arn, seq);
CREATE INDEX changes_playbook_run ON changes (playbook, run, status);
CREATE INDEX changes_playbook_time ON changes (playbook, created_at);

CREATE TABLE playbook_pauses (
    playbook  TEXT    PRIMARY KEY,
    reason    TEXT    NOT NULL DEFAULT '',
    paused_by TEXT    NOT NULL DEFAULT '',
    paused_at INTEGER NOT NULL
);
