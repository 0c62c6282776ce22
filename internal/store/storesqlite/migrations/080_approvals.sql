-- Approvals: a pause for a person, decided exactly once.
CREATE TABLE approvals (
    id             TEXT    PRIMARY KEY,
    execution_arn  TEXT    NOT NULL,
    state_name     TEXT    NOT NULL,
    task_token     TEXT    NOT NULL,
    playbook       TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    choices        TEXT    NOT NULL,
    default_choice TEXT    NOT NULL,
    deadline       INTEGER NOT NULL,
    next_reminder  INTEGER NOT NULL,
    reminders_sent INTEGER NOT NULL,
    notice         BLOB,
    status         TEXT    NOT NULL,
    decision       TEXT    NOT NULL,
    decided_by     TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    until          INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    decided_at     INTEGER NOT NULL,
    receipts       BLOB,
    last_error     TEXT    NOT NULL,
    batch          TEXT    NOT NULL,
    notified_at    INTEGER NOT NULL,
    send_after     INTEGER NOT NULL,
    send_attempts  INTEGER NOT NULL,
    delivered_at   INTEGER NOT NULL
);
CREATE INDEX approvals_unsent ON approvals (send_after) WHERE status = 'pending' AND notified_at = 0;
CREATE INDEX approvals_undelivered ON approvals (decided_at) WHERE status = 'decided' AND delivered_at = 0;
CREATE INDEX approvals_pending_deadline ON approvals (deadline) WHERE status = 'pending';
CREATE INDEX approvals_pending_reminder ON approvals (next_reminder) WHERE status = 'pending' AND next_reminder > 0;
CREATE INDEX approvals_execution ON approvals (execution_arn);
CREATE INDEX approvals_created ON approvals (created_at);
