"""The store's SQLite file (`slimcore.store.database`): WAL mode with the schema in place, and a store made by an
earlier version, whose runs table lacks the later columns, gains them when opened with its rows still readable."""
from __future__ import annotations

import json
import sqlite3

from slimcore.store import RunStore
from slimcore.store.database import open_database
from slimcore.store.runs import DB_NAME
from slimcore.store.schema import ADDED_RUN_COLUMNS

# The runs table of the first release: no done, total, progress_message, stop_requested, listening.
OLD_RUNS = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'train', parent TEXT, created REAL NOT NULL,
    updated REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', config TEXT NOT NULL,
    pid INTEGER, heartbeat REAL, progress REAL NOT NULL DEFAULT 0, layers TEXT, summary TEXT NOT NULL DEFAULT '{}'
);
"""


def columns(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute("PRAGMA table_info(runs)")}


def test_an_older_store_gains_the_new_columns_and_its_runs_stay_readable(tmp_path):
    db = tmp_path / DB_NAME
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_RUNS)
        conn.execute("INSERT INTO runs (id, created, updated, status, config, progress, summary) VALUES "
                     "('20240101-000000-old-run-abcd', 1.0, 2.0, 'finished', ?, 1.0, '{\"val_accuracy\": 0.9}')",
                     (json.dumps({"model": "slimnet"}),))
    assert not set(ADDED_RUN_COLUMNS) & columns(db)
    store = RunStore(tmp_path)
    assert set(ADDED_RUN_COLUMNS) <= columns(db)
    run = store.get_run("20240101-000000-old-run-abcd")
    assert (run["status"], run["config"], run["summary"]) == ("finished", {"model": "slimnet"}, {"val_accuracy": 0.9})
    assert (run["done"], run["total"], run["progress_message"], run["stop_requested"], run["listening"]) == \
        (0, 0, "", 0, 0)
    store.set_progress(run["id"], 2, 4, "half")  # the new columns are writable
    assert store.get_run(run["id"])["progress_message"] == "half"
    store.close()
    RunStore(tmp_path).close()  # opening again adds nothing twice
    assert set(ADDED_RUN_COLUMNS) <= columns(db)


def test_a_new_database_is_in_wal_mode_with_every_table(tmp_path):
    conn = open_database(tmp_path / "x.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"runs", "metrics", "snapshots", "checkpoints", "writers", "artifacts"}
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    finally:
        conn.close()
