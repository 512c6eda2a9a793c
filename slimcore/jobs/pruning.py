"""The pruning jobs: the LeGR search, the trade-off curve, the sensitivity scan, and the commit (cut, fine-tune,
measure, export).

Each works on a training run (its parent) and keeps its result where the pruning engine looks for it: the
search's (α, κ), the curve and the scan with the parent run, the pruned model in the prune job's own folder.
"""
from __future__ import annotations

from slimcore.errors import Stopped
from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.pruning.settings import CurveSettings, LegrSettings, PruneSettings, SensitivitySettings
from slimcore.store.runs import RunStore


class _PruningJob(JobKind):
    def check(self, store: RunStore, parent: str | None, settings) -> None:
        from slimcore.pruning.math.rules import limits_for
        from slimcore.pruning.trained import check_prunable, load_trained

        check_prunable(store, parent)
        rules = getattr(settings, "rules", None)
        if rules is not None and not rules.empty:  # an unknown layer name is refused before the job is recorded
            limits_for(rules, load_trained(store, parent).structure.groups)

    def _model(self, parent: dict | None) -> str:
        from slimcore.models.external import short_name

        return short_name((parent or {}).get("config", {}).get("model", "model"))


@JOBS.register("search")
class SearchJob(_PruningJob):
    """LeGR's search: learns the per-layer affine map (α, κ) of the |γ| ranking; a stop keeps the best so far."""

    name = "search"
    settings_type = LegrSettings

    def label(self, settings: LegrSettings, parent: dict | None) -> str:
        return f"{self._model(parent)}-legr-search"

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.pruning.search import search_legr

        result = search_legr(job.store, job.parent, job.settings, job.progress, job.should_stop)
        if "alpha" not in result:
            raise Stopped("stopped before the first candidate; nothing was stored (an earlier search is kept).")
        job.store.update_summary(job.run_id, fitness=result["fitness"], identity_fitness=result["identity_fitness"],
                                 evaluated=result["evaluated"], candidates=result["total"],
                                 search_id=result["search_id"], seconds=result["seconds"])
        found = (f"fitness {result['fitness']:.4f} (identity map {result['identity_fitness']:.4f}) after "
                 f"{result['evaluated']} of {result['total']} candidates")
        if result["stopped"]:
            return "stopped", f"stopped early; the best candidate so far is stored: {found}"
        return "finished", found


@JOBS.register("curve")
class CurveJob(_PruningJob):
    """The accuracy/FLOPs trade-off curve: every point is the cut model evaluated on val; stored with the run."""

    name = "curve"
    settings_type = CurveSettings

    def label(self, settings: CurveSettings, parent: dict | None) -> str:
        return f"{self._model(parent)}-{settings.ranking}-curve"

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.pruning.curve import get_curve

        s = job.settings
        curve = get_curve(job.store, job.parent, s.ranking, s.points, job.progress, s.recompute, s.min_channels,
                          job.should_stop, s.rules)
        job.store.update_summary(job.run_id, points=len(curve["points"]), seconds=curve["seconds"],
                                 cached=curve["cached"])
        return "finished", ("read back from the store" if curve["cached"]
                            else f"{len(curve['points'])} points in {curve['seconds']} s")


@JOBS.register("sensitivity")
class SensitivityJob(_PruningJob):
    """The sensitivity scan: each channel group alone cut to each share removed, evaluated on val; stored with the run."""

    name = "sensitivity"
    settings_type = SensitivitySettings

    def label(self, settings: SensitivitySettings, parent: dict | None) -> str:
        return f"{self._model(parent)}-{settings.ranking}-sensitivity"

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.pruning.sensitivity import scan_sensitivity

        scan = scan_sensitivity(job.store, job.parent, job.settings, job.progress, job.should_stop)
        job.store.update_summary(job.run_id, groups=len(scan["groups"]), evaluations=scan["evaluations"],
                                 seconds=scan["seconds"], cached=scan["cached"])
        return "finished", ("read back from the store" if scan["cached"] else
                            f"{len(scan['groups'])} groups × {len(scan['shares'])} shares: {scan['evaluations']} "
                            f"evaluations in {scan['seconds']} s")


@JOBS.register("prune")
class PruneJob(_PruningJob):
    """A commit: cut the channels for real, fine-tune, measure test accuracy and CPU latency, export ONNX."""

    name = "prune"
    settings_type = PruneSettings

    def label(self, settings: PruneSettings, parent: dict | None) -> str:
        return f"{self._model(parent)}-{settings.ranking}-pruned"

    def check(self, store: RunStore, parent: str | None, settings: PruneSettings) -> None:
        from slimcore.errors import ConfigError

        super().check(store, parent, settings)
        penalty = store.get_run(parent)["config"].get("penalty", "none")
        if settings.finetune.keep_penalty and penalty == "none":
            raise ConfigError(f"--keep-penalty keeps run {parent}'s sparsity penalty on between the cuts, but it was "
                              "trained without one (penalty none): leave --keep-penalty out.")

    def execute(self, job: Job) -> tuple[str, str]:
        from slimcore.pruning.committing import run_commit
        from slimcore.pruning.iterative import run_iterative

        body = run_iterative if job.settings.steps > 1 else run_commit  # K cuts with fine-tuning between them
        return body(job.store, job.parent, job.run_id, job.settings, job.progress, job.should_stop,
                    job.extras.get("observers", ()))
