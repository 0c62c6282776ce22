-- Schedules (cron, UTC) with their next run: advancing next_run is a
-- compare-and-set, so each run fires once across restarts and replicas.
CREATE TABLE schedules (
    name     TEXT    PRIMARY KEY,
    cron     TEXT    NOT NULL,
    playbook TEXT    NOT NULL,
    enabled  INTEGER NOT NULL,
    next_run INTEGER NOT NULL, -- Unix ms, UTC
    last_run INTEGER NOT NULL, -- Unix ms, 0: never
    updated  INTEGER NOT NULL
);

-- Scans of a playbook: request, progress, status.
CREATE TABLE scans (
    id           TEXT    PRIMARY KEY,
    playbook     TEXT    NOT NULL,
    accounts     TEXT    NOT NULL, -- comma-separated
    regions      TEXT    NOT NULL,
    dry_run      INTEGER NOT NULL,
    trigger_kind TEXT    NOT NULL,
    schedule     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    listed       INTEGER NOT NULL,
    started      INTEGER NOT NULL,
    targets      INTEGER NOT NULL,
    targets_done INTEGER NOT NULL,
    error        TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    ended        INTEGER NOT NULL
);
CREATE INDEX scans_created ON scans (created);
CREATE INDEX scans_playbook ON scans (playbook, created);
