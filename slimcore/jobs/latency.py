"""The `latency` job: times every point of a run's trade-off curve on each backend and stores it with the curve."""
from __future__ import annotations

from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.pruning.latency_curve import LatencySettings
from slimcore.store.runs import RunStore


@JOBS.register("latency")
class LatencyJob(JobKind):
    """Latency of every curve point's committed model (median of repeats after warm-up), per backend and batch; the
    curve's per-layer rules cut each point as commit would."""

    name = "latency"
    settings_type = LatencySettings

    def check(self, store: RunStore, parent: str | None, settings: LatencySettings) -> None:
        from slimcore.pruning.math.rules import limits_for
        from slimcore.pruning.trained import check_prunable, load_trained

        check_prunable(store, parent)
        if not settings.rules.empty:  # an unknown layer name is refused before the job is recorded
            limits_for(settings.rules, load_trained(store, parent).structure.groups)

    def label(self, settings: LatencySettings, parent: dict | None) -> str:
        from slimcore.models.external import short_name

        return f"{short_name((parent or {}).get('config', {}).get('model', 'model'))}-{settings.ranking}-latency"

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.pruning.latency_curve import time_curve

        result = time_curve(job.store, job.parent, job.settings, job.progress, job.should_stop)
        job.store.update_summary(job.run_id, points=len(result["points"]), seconds=result["seconds"])
        base = result["base"]["latency_ms"][job.settings.backends[0]]["batch1"]
        return "finished", (f"{len(result['points']) + 1} models timed in {result['seconds']} s (unpruned: {base:.3g} "
                            f"ms at batch 1 on {job.settings.backends[0]})")
