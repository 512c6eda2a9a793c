"""Following a job from outside its process: its new store rows since the last look, and the time it has left."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from slimcore.store.runs import RunStore

# Old snapshots are thinned beyond this many, so a long run's history stays cheap to draw.
MAX_SNAPSHOTS = 400


def format_seconds(seconds: float) -> str:
    """'1 h 02 min', '3 min 05 s', '42 s'."""
    s = int(round(max(seconds, 0)))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def seconds_left(progress: float, elapsed: float, start_progress: float = 0.0) -> float | None:
    """Linear extrapolation of the time to progress 1, from `elapsed` seconds spent going from start_progress."""
    done = progress - start_progress
    if done <= 1e-9 or elapsed <= 0 or not math.isfinite(elapsed):
        return None
    return max(elapsed * (1.0 - progress) / done, 0.0)


@dataclass
class RunFeed:
    """One run's snapshots and metrics read so far, extended with only the new rows on each tick."""

    run_id: str
    pid: int | None
    snapshots: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    last_snapshot_step: int = -1
    last_metric_step: int = -1
    anchor: tuple[float, float] | None = None  # (time, progress) when this session first saw it running

    def update(self, store: RunStore, run: dict) -> None:
        new = store.snapshots(self.run_id, since_step=self.last_snapshot_step)
        if new:
            self.snapshots.extend(new)
            self.last_snapshot_step = max(s["step"] for s in new)
            if len(self.snapshots) > MAX_SNAPSHOTS:  # keep the newest half whole, thin the older half
                half = len(self.snapshots) // 2
                self.snapshots = self.snapshots[:half:2] + self.snapshots[half:]
        # Re-read the last step seen: an epoch's validation rows share the step of its last batch
        # but are written later; each name is logged at most once per step.
        fresh = store.metrics(self.run_id, since_step=self.last_metric_step - 1)
        for name, series in fresh.items():
            mine = self.metrics.setdefault(name, {"step": [], "epoch": [], "value": []})
            last = mine["step"][-1] if mine["step"] else -1
            for step, epoch, value in zip(series["step"], series["epoch"], series["value"]):
                if step > last:
                    mine["step"].append(step)
                    mine["epoch"].append(epoch)
                    mine["value"].append(value)
            self.last_metric_step = max(self.last_metric_step, max(series["step"], default=-1))
        if run["status"] == "running" and self.anchor is None:
            self.anchor = (time.time(), float(run["progress"] or 0.0))

    def time_left(self, run: dict) -> float | None:
        """Seconds to the end: from the pace seen in this session, else from the epochs' own timings, else
        from the run's creation (which counts any time it spent stopped)."""
        progress = float(run["progress"] or 0.0)
        if self.anchor is not None:
            t0, p0 = self.anchor
            if time.time() - t0 >= 3.0:
                estimate = seconds_left(progress, time.time() - t0, p0)
                if estimate is not None:
                    return estimate
        epoch_seconds = self.metrics.get("epoch_seconds", {}).get("value")
        if epoch_seconds:
            epochs = float(run["config"].get("epochs") or 1)
            return max((1.0 - progress) * epochs * sum(epoch_seconds) / len(epoch_seconds), 0.0)
        return seconds_left(progress, time.time() - float(run["created"]))
