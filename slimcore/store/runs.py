"""RunStore: runs, metrics, γ snapshots and artifacts in one SQLite file (WAL: one writer, many readers).

The store records what jobs write and returns it as written; whether a job's process still lives (a
`running` row whose process is gone reads as `interrupted`) is the job system's to say (`slimcore.jobs`).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from slimcore.errors import StoreError
from slimcore.store.database import open_database

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DB_NAME = "slimcore.db"


def default_runs_dir() -> Path:
    """`$SLIMCORE_RUNS_DIR` if set, else `./runs`."""
    return Path(os.environ.get("SLIMCORE_RUNS_DIR") or "runs")


def validate_run_id(run_id: str) -> str:
    """Refuse ids that could escape the runs folder (path separators, '..', empty)."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        raise StoreError(
            f"invalid run id {run_id!r}: use letters, digits, '.', '_' and '-' only "
            "(list runs with `slimcore runs`)."
        )
    return run_id


class RunStore:
    """Opens (creating if needed) the store under `runs_dir`."""

    def __init__(self, runs_dir: str | os.PathLike | None = None) -> None:
        self.root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._conn = open_database(self.root / DB_NAME)
        except (OSError, sqlite3.Error) as e:
            raise StoreError(
                f"cannot open the run store in {self.root}: {e}. "
                "Choose a writable folder with --runs-dir or SLIMCORE_RUNS_DIR."
            ) from e

    # -- writing -------------------------------------------------------------------------------
    def _write(self, sql: str, args: Iterable[Any] = ()) -> None:
        try:
            with self._conn:
                self._conn.execute(sql, tuple(args))
        except sqlite3.Error as e:
            raise self._write_error(e) from e

    def _write_error(self, error: sqlite3.Error) -> StoreError:
        """The StoreError for a failed write; what was recorded before it stays readable."""
        return StoreError(f"could not write to the run store {self.root}: {error}. Free disk space (or choose "
                          "another --runs-dir); what was recorded before is kept.")

    def create_run(
        self, config: dict, kind: str = "train", parent: str | None = None, label: str = ""
    ) -> str:
        """Adds a run in status `starting` and makes its folder; returns its id."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-")[:40]
        # Runs with one label started in the same second (two jobs, two shells) differ only in the random
        # part; when that collides, draw it again rather than fail.
        for _ in range(8):
            run_id = "-".join(p for p in (stamp, slug, secrets.token_hex(2)) if p)
            now = time.time()
            try:
                with self._conn:
                    self._conn.execute(
                        "INSERT INTO runs (id, kind, parent, created, updated, status, config) "
                        "VALUES (?, ?, ?, ?, ?, 'starting', ?)",
                        (run_id, kind, parent, now, now, json.dumps(config, sort_keys=True)),
                    )
                break
            except sqlite3.IntegrityError:
                continue
            except sqlite3.Error as e:
                raise self._write_error(e) from e
        else:
            raise StoreError(f"could not find a free run id in {self.root}; try again.")
        self.run_dir(run_id).mkdir(parents=True, exist_ok=True)
        return run_id

    def set_status(self, run_id: str, status: str, message: str = "", pid: int | None = None) -> None:
        validate_run_id(run_id)
        now = time.time()
        if pid is None:
            self._write(
                "UPDATE runs SET status=?, message=?, updated=?, heartbeat=? WHERE id=?",
                (status, message, now, now, run_id),
            )
        else:
            self._write(
                "UPDATE runs SET status=?, message=?, updated=?, heartbeat=?, pid=? WHERE id=?",
                (status, message, now, now, pid, run_id),
            )

    def set_pid(self, run_id: str, pid: int) -> None:
        """Records the process of a job just started, unless that process has already recorded itself."""
        validate_run_id(run_id)
        self._write("UPDATE runs SET pid=?, updated=? WHERE id=? AND (pid IS NULL OR pid=0)",
                    (pid, time.time(), run_id))

    def heartbeat(self, run_id: str, progress: float | None = None, done: float | None = None,
                  total: float | None = None, message: str | None = None) -> None:
        """A job's sign of life, with its progress when given: the share done (0..1), done of total, and a line
        saying what it is doing."""
        validate_run_id(run_id)
        now = time.time()
        sets, args = ["heartbeat=?", "updated=?"], [now, now]
        for column, value in (("progress", progress), ("done", done), ("total", total),
                              ("progress_message", message)):
            if value is not None:
                sets.append(f"{column}=?")
                args.append(value)
        self._write(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))

    def set_progress(self, run_id: str, done: float, total: float, message: str = "") -> None:
        """Progress as (done, total, message); the share done follows."""
        share = min(max(float(done) / float(total), 0.0), 1.0) if total else 0.0
        self.heartbeat(run_id, share, float(done), float(total), message)

    def set_job_flags(self, run_id: str, stop_requested: bool | None = None, listening: bool | None = None) -> None:
        """A stop asked of the job (recorded as the time it was asked, 0 for none), and whether its process now
        answers signals (see `slimcore.jobs.control`)."""
        validate_run_id(run_id)
        sets, args = [], []
        if stop_requested is not None:
            sets.append("stop_requested=?")
            args.append(time.time() if stop_requested else 0)
        if listening is not None:
            sets.append("listening=?")
            args.append(int(listening))
        if sets:
            self._write(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))

    def register_writer(self, run_id: str, note: str = "") -> None:
        """Records that this process (pid, host) writes run `run_id` from now on: one row per training session."""
        validate_run_id(run_id)
        self._write("INSERT INTO writers (run_id, pid, host, started, note) VALUES (?, ?, ?, ?, ?)",
                    (run_id, os.getpid(), socket.gethostname(), time.time(), note))

    def writers(self, run_id: str) -> list[dict]:
        """The processes that have written run `run_id`, oldest first."""
        rows = self._conn.execute("SELECT pid, host, started, note FROM writers WHERE run_id=? ORDER BY rowid",
                                  (validate_run_id(run_id),))
        return [dict(r) for r in rows]

    def set_layers(self, run_id: str, layers: list[dict]) -> None:
        """Records the BN layers (name, size) in the order snapshot blobs concatenate them."""
        validate_run_id(run_id)
        self._write("UPDATE runs SET layers=? WHERE id=?", (json.dumps(layers), run_id))

    def update_summary(self, run_id: str, **values: Any) -> None:
        summary = self.get_run(run_id)["summary"]
        summary.update(values)
        self._write("UPDATE runs SET summary=? WHERE id=?", (json.dumps(summary), run_id))

    def log_metrics(self, run_id: str, step: int, epoch: float, metrics: dict[str, float]) -> None:
        validate_run_id(run_id)
        rows = [(run_id, step, epoch, k, float(v)) for k, v in metrics.items() if v is not None]
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT INTO metrics (run_id, step, epoch, name, value) VALUES (?, ?, ?, ?, ?)", rows
                )
        except sqlite3.Error as e:
            raise self._write_error(e) from e

    def add_snapshot(
        self, run_id: str, step: int, epoch: float, at_epoch_end: bool, gamma: np.ndarray, beta: np.ndarray
    ) -> None:
        """Stores every BN layer's γ and β, concatenated, as float32 bytes."""
        validate_run_id(run_id)
        self._write(
            "INSERT INTO snapshots (run_id, step, epoch, at_epoch_end, gamma, beta) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id, step, epoch, int(at_epoch_end),
                np.ascontiguousarray(gamma, dtype=np.float32).tobytes(),
                np.ascontiguousarray(beta, dtype=np.float32).tobytes(),
            ),
        )

    def add_checkpoint(self, run_id: str, step: int, epoch: float, path: Path) -> None:
        validate_run_id(run_id)
        try:
            with self._conn:  # one transaction: a crash in between must not leave the run without a row
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("DELETE FROM checkpoints WHERE run_id=?", (run_id,))
                self._conn.execute(
                    "INSERT INTO checkpoints (run_id, step, epoch, path, created) VALUES (?, ?, ?, ?, ?)",
                    (run_id, step, epoch, str(path), time.time()),
                )
        except sqlite3.Error as e:
            raise self._write_error(e) from e

    def truncate_after(self, run_id: str, step: int) -> None:
        """Drops metrics and snapshots logged after `step` (a resume replays them)."""
        validate_run_id(run_id)
        try:
            with self._conn:
                self._conn.execute("DELETE FROM metrics WHERE run_id=? AND step>?", (run_id, step))
                self._conn.execute("DELETE FROM snapshots WHERE run_id=? AND step>?", (run_id, step))
        except sqlite3.Error as e:
            raise self._write_error(e) from e

    def put_artifact(self, run_id: str, name: str, kind: str, path: str | None = None, meta: dict | None = None) -> None:
        validate_run_id(run_id)
        self._write(
            "INSERT OR REPLACE INTO artifacts (run_id, name, kind, path, meta, created) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, name, kind, path, json.dumps(meta or {}), time.time()),
        )

    # -- reading -------------------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        return self.root / validate_run_id(run_id)

    def exists(self, run_id: str) -> bool:
        validate_run_id(run_id)
        return self._conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None

    def get_run(self, run_id: str) -> dict:
        """The run as a dict, as its job wrote it (`slimcore.jobs.view` adds whether the job still lives)."""
        validate_run_id(run_id)
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.root}; list runs with `slimcore runs`.")
        return _run_dict(row)

    def list_runs(self, kind: str | None = None, parent: str | None = None) -> list[dict]:
        """All runs (of one kind, of one parent), newest first."""
        where, args = [], []
        for column, value in (("kind", kind), ("parent", parent)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        sql = ("SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created DESC, id DESC")
        return [_run_dict(r) for r in self._conn.execute(sql, args)]

    def metrics(self, run_id: str, since_step: int = -1) -> dict[str, dict[str, list[float]]]:
        """{name: {"step": [...], "epoch": [...], "value": [...]}} in step order."""
        validate_run_id(run_id)
        out: dict[str, dict[str, list[float]]] = {}
        for r in self._conn.execute(
            "SELECT step, epoch, name, value FROM metrics WHERE run_id=? AND step>? ORDER BY step, rowid",
            (run_id, since_step),
        ):
            series = out.setdefault(r["name"], {"step": [], "epoch": [], "value": []})
            series["step"].append(r["step"])
            series["epoch"].append(r["epoch"])
            series["value"].append(r["value"])
        return out

    def snapshots(self, run_id: str, epoch_end_only: bool = False, since_step: int = -1) -> list[dict]:
        """γ/β snapshots in step order: dicts with step, epoch, at_epoch_end, gamma, beta (float32 arrays)."""
        validate_run_id(run_id)
        sql = "SELECT * FROM snapshots WHERE run_id=? AND step>?" + (" AND at_epoch_end=1" if epoch_end_only else "")
        return [
            {
                "step": r["step"], "epoch": r["epoch"], "at_epoch_end": bool(r["at_epoch_end"]),
                "gamma": np.frombuffer(r["gamma"], dtype=np.float32),
                "beta": np.frombuffer(r["beta"], dtype=np.float32),
            }
            for r in self._conn.execute(sql + " ORDER BY step, rowid", (run_id, since_step))
        ]

    def latest_checkpoint(self, run_id: str) -> dict | None:
        validate_run_id(run_id)
        row = self._conn.execute(
            "SELECT step, epoch, path, created FROM checkpoints WHERE run_id=? ORDER BY created DESC LIMIT 1",
            (run_id,)
        ).fetchone()
        return dict(row) if row else None

    def artifact(self, run_id: str, name: str) -> dict | None:
        validate_run_id(run_id)
        row = self._conn.execute("SELECT * FROM artifacts WHERE run_id=? AND name=?", (run_id, name)).fetchone()
        return _artifact_dict(row) if row else None

    def artifacts(self, run_id: str, kind: str | None = None) -> list[dict]:
        validate_run_id(run_id)
        sql = "SELECT * FROM artifacts WHERE run_id=?" + (" AND kind=?" if kind else "") + " ORDER BY created"
        return [_artifact_dict(r) for r in self._conn.execute(sql, (run_id, kind) if kind else (run_id,))]

    def close(self) -> None:
        self._conn.close()


def _run_dict(row: sqlite3.Row) -> dict:
    run = dict(row)
    run["config"] = json.loads(run["config"])
    run["summary"] = json.loads(run["summary"] or "{}")
    run["layers"] = json.loads(run["layers"]) if run["layers"] else []
    run["stored_status"] = run["status"]
    return run


def _artifact_dict(row: sqlite3.Row) -> dict:
    art = dict(row)
    art["meta"] = json.loads(art["meta"] or "{}")
    return art
