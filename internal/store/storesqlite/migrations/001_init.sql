CREATE TABLE state_machines (
	arn         TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL,
	revision    INTEGER NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

CREATE TABLE state_machine_revisions (
	arn         TEXT NOT NULL,
	revision    INTEGER NOT NULL,
	definition  TEXT NOT NULL,
	role_arn    TEXT NOT NULL,
	revision_id TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (arn, revision)
) WITHOUT ROWID;

CREATE TABLE executions (
	arn               TEXT PRIMARY KEY,
	state_machine_arn TEXT NOT NULL,
	sm_revision       INTEGER NOT NULL,
	name              TEXT NOT NULL,
	status            TEXT NOT NULL,
	input             TEXT NOT NULL,
	output            TEXT NOT NULL DEFAULT '',
	error             TEXT NOT NULL DEFAULT '',
	cause             TEXT NOT NULL DEFAULT '',
	start_date        INTEGER NOT NULL,
	stop_date         INTEGER NOT NULL DEFAULT 0,
	redrive_count     INTEGER NOT NULL DEFAULT 0,
	redrive_date      INTEGER NOT NULL DEFAULT 0,
	runtime           BLOB,
	runnable          INTEGER NOT NULL DEFAULT 0,
	version           INTEGER NOT NULL,
	last_event_id     INTEGER NOT NULL DEFAULT 0,
	lease_owner       TEXT NOT NULL DEFAULT '',
	lease_expires     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX executions_runnable ON executions (lease_expires) WHERE runnable = 1;
CREATE INDEX executions_start ON executions (start_date DESC, arn);
CREATE INDEX executions_machine ON executions (state_machine_arn, start_date DESC, arn);
CREATE INDEX executions_owner ON executions (lease_owner) WHERE lease_owner <> '';

CREATE TABLE history_events (
	execution_arn TEXT NOT NULL,
	id            INTEGER NOT NULL,
	previous_id   INTEGER NOT NULL,
	type          TEXT NOT NULL,
	timestamp     INTEGER NOT NULL,
	details_key   TEXT NOT NULL,
	details       BLOB,
	PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;

CREATE TABLE timers (
	execution_arn TEXT NOT NULL,
	key           TEXT NOT NULL,
	due           INTEGER NOT NULL,
	payload       BLOB,
	PRIMARY KEY (execution_arn, key)
) WITHOUT ROWID;
CREATE INDEX timers_due ON timers (due);

CREATE TABLE task_tokens (
	token         TEXT PRIMARY KEY,
	execution_arn TEXT NOT NULL,
	run_key       TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX task_tokens_execution ON task_tokens (execution_arn);
