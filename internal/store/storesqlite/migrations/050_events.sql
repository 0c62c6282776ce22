-- Events as received, in arrival order; processed once the rules ran.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    source      TEXT    NOT NULL,
    detail_type TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    time        INTEGER NOT NULL,
    received    INTEGER NOT NULL,
    via         TEXT    NOT NULL,
    body        BLOB    NOT NULL,
    processed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_unprocessed ON events (seq) WHERE processed = 0;
CREATE INDEX events_received ON events (received);
CREATE INDEX events_source ON events (source, received);

-- What each rule did with an event.
CREATE TABLE event_matches (
    event_seq     INTEGER NOT NULL,
    rule          TEXT    NOT NULL,
    playbook      TEXT    NOT NULL,
    execution_arn TEXT    NOT NULL,
    skipped       INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (event_seq, rule, playbook)
);
CREATE INDEX event_matches_rule ON event_matches (rule, event_seq);

-- Threshold counts: one row per counted event.
CREATE TABLE threshold_events (
    rule     TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    event_id TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    UNIQUE (rule, event_id)
);
CREATE INDEX threshold_events_key ON threshold_events (rule, key, at);

-- Rules saved through the API or CLI.
CREATE TABLE rules (
    name    TEXT    PRIMARY KEY,
    doc     BLOB    NOT NULL,
    updated INTEGER NOT NULL
);
