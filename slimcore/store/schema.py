"""Table layout of the run store; created idempotently on open."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'train',
    parent TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL,
    pid INTEGER,
    heartbeat REAL,
    progress REAL NOT NULL DEFAULT 0,
    done REAL NOT NULL DEFAULT 0,
    total REAL NOT NULL DEFAULT 0,
    progress_message TEXT NOT NULL DEFAULT '',
    stop_requested REAL NOT NULL DEFAULT 0,
    listening INTEGER NOT NULL DEFAULT 0,
    layers TEXT,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch REAL NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics (run_id, name, step);
CREATE TABLE IF NOT EXISTS snapshots (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch REAL NOT NULL,
    at_epoch_end INTEGER NOT NULL,
    gamma BLOB NOT NULL,
    beta BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_run ON snapshots (run_id, step);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch REAL NOT NULL,
    path TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS writers (
    run_id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started REAL NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""

# Columns added to `runs` after the first release: a store made before them gains them when opened.
ADDED_RUN_COLUMNS = {
    "done": "REAL NOT NULL DEFAULT 0",
    "total": "REAL NOT NULL DEFAULT 0",
    "progress_message": "TEXT NOT NULL DEFAULT ''",
    "stop_requested": "REAL NOT NULL DEFAULT 0",
    "listening": "INTEGER NOT NULL DEFAULT 0",
}

# Statuses a run can be in. "interrupted" is derived by the job system (`slimcore.jobs.liveness`) when a
# running job's process is gone; the store records only what jobs write.
ACTIVE_STATUSES = ("starting", "running")
FINAL_STATUSES = ("finished", "stopped", "failed", "diverged", "interrupted")
