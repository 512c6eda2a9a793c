"""Every long piece of work as a job: training, the LeGR search, the trade-off curve, the commit.

    run_id = jobs.start(store, "prune", PruneSettings(threshold=0.1), parent=train_run)   # in the background
    jobs.view(store, run_id)["status"]    # starting, running, finished, stopped, failed, diverged, interrupted
    jobs.stop(store, run_id)              # graceful: the job keeps what it has done

The kinds are the `JOBS` registry (`slimcore.jobs.kinds`); the system is `slimcore.jobs.control`.
"""
from slimcore.jobs import imports, latency, pruning, train  # noqa: F401 (registers the built-in kinds)
from slimcore.jobs.control import (create, holds_model, is_active, latest, launch, listen, model_runs, resume,
                                   run_here, runs, start, stop, view)
from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.jobs.train import (RESUMABLE, check_resumable, check_startable, create_run, run_training,
                                 start_training)

__all__ = ["JOBS", "Job", "JobKind", "RESUMABLE", "check_resumable", "check_startable", "create", "create_run", "holds_model",
           "is_active", "latest", "launch", "listen", "model_runs", "resume", "run_here", "run_training", "runs", "start",
           "start_training", "stop", "view"]
