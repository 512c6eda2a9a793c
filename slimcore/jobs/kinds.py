"""What a kind of job is (its settings, its checks, its body) and what a running job may do (report, stop).

Every long piece of work is a job: a run in the store with a kind, a status, a progress record and a
heartbeat. A kind is one small class in the `JOBS` registry; the job system (`slimcore.jobs.control`) records,
starts, follows and stops jobs of every kind alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from slimcore.registry import Registry
from slimcore.store.runs import RunStore


@dataclass
class Job:
    """A job as its body sees it: where to record, what to do, how to report and when to stop."""

    store: RunStore
    run_id: str
    settings: Any
    parent: str | None
    resume: bool = False
    stop_flag: dict = field(default_factory=lambda: {"requested": False})
    should_stop_too: Callable[[], bool] | None = None  # an in-process caller's own stop condition
    echo: Callable[[float, int, str], None] | None = None  # the foreground's progress display (CLI)
    extras: dict = field(default_factory=dict)  # kind-specific hand-overs (training: observers, data, dist)

    def progress(self, done: float, total: int, message: str = "") -> None:
        """Records (done, total, message) with a heartbeat, and shows it in the foreground."""
        self.store.set_progress(self.run_id, done, total, message)
        if self.echo is not None:
            self.echo(done, total, message)

    def should_stop(self) -> bool:
        """True once `slimcore stop` (SIGTERM), Ctrl-C or the caller asked this job to stop."""
        return bool(self.stop_flag["requested"]) or bool(self.should_stop_too and self.should_stop_too())


class JobKind:
    """A kind of job. `settings_type` builds and validates its settings (frozen dataclass with to_dict/from_dict);
    `check` refuses bad input before a run is recorded; `execute` does the work and returns (status, message):
    `finished`, or `stopped` when it was asked to stop (keeping what it had done)."""

    name: ClassVar[str] = ""
    settings_type: ClassVar[type]
    needs_parent: ClassVar[bool] = True  # works on another run (a training run)
    resumable: ClassVar[bool] = False
    manages_status: ClassVar[bool] = False  # writes its own statuses (training); else the job system does
    holds_model: ClassVar[bool] = False  # its run holds a trained model that rank, preview and prune work on

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n")[0]

    def label(self, settings: Any, parent: dict | None) -> str:
        """A short name for its run id."""
        return self.name

    def check(self, store: RunStore, parent: str | None, settings: Any) -> None:
        """Raises the error the job would stop with at once (unknown parent, unreadable checkpoint...)."""

    def check_resumable(self, store: RunStore, run_id: str) -> None:
        """Raises a StoreError that says why run `run_id` cannot be resumed (resumable kinds only)."""

    def execute(self, job: Job) -> tuple[str, str]:
        raise NotImplementedError


JOBS: Registry[type[JobKind]] = Registry("job kind")
