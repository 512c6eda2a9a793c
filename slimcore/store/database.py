"""The SQLite file of a run store: opened in WAL mode with the schema in place, brought up to date if older."""
from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

from slimcore.store.schema import ADDED_RUN_COLUMNS, SCHEMA


def open_database(path: Path, patience_s: float = 30.0) -> sqlite3.Connection:
    """A connection in WAL mode with the schema in place. Processes that open a new store in the same
    instant can get "database is locked" from the switch to WAL at once, without busy_timeout's wait
    (reproduced in tests/test_concurrent_jobs.py): such an open is tried again."""
    deadline = time.monotonic() + patience_s
    while True:
        conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            add_missing_columns(conn)
            return conn
        except sqlite3.OperationalError as e:
            conn.close()
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02 + 0.05 * secrets.randbelow(4))


def add_missing_columns(conn: sqlite3.Connection) -> None:
    """Brings a store made by an earlier version up to the current `runs` table (columns only ever added)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    for column, ddl in ADDED_RUN_COLUMNS.items():
        if column not in have:
            try:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {ddl}")
            except sqlite3.OperationalError as e:
                if "duplicate column" not in str(e):  # another process added it first
                    raise
