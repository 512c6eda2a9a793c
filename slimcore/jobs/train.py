"""The `train` job: sparse training of a run, in this process or as its own, with stop and resume."""
from __future__ import annotations

import os
import signal

from slimcore.config import TrainConfig
from slimcore.distributed import DistContext
from slimcore.errors import ConfigError, SlimcoreError, StoreError
from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.jobs.liveness import silent_but_alive
from slimcore.store.checkpoints import check_training_state, load_checkpoint
from slimcore.store.runs import RunStore
from slimcore.store.schema import ACTIVE_STATUSES

# A diverged run is not resumable: with the same settings it would diverge again (see check_resumable).
RESUMABLE = ("stopped", "interrupted", "failed")


@JOBS.register("train")
class TrainJob(JobKind):
    """Sparse training: SGD with a penalty on BN γ; checkpoints, and resumes from the last one."""

    name = "train"
    settings_type = TrainConfig
    needs_parent = False
    resumable = True
    manages_status = True
    holds_model = True

    def label(self, settings: TrainConfig, parent: dict | None) -> str:
        from slimcore.models.external import short_name

        return settings.label or f"{short_name(settings.model)}-{settings.penalty}"

    def check(self, store: RunStore, parent: str | None, settings: TrainConfig) -> None:
        if settings.epochs == 0:
            raise ConfigError("a training run needs at least one epoch; to record given weights without training "
                              "them, use `slimcore import FILE --model NAME --dataset D`.")

    def check_resumable(self, store: RunStore, run_id: str) -> None:
        check_resumable(store, run_id)
        # read here too, so that a broken checkpoint is refused before a job starts and marks the run failed
        path = store.latest_checkpoint(run_id)["path"]
        check_training_state(load_checkpoint(path), store.get_run(run_id)["config"], path)

    def execute(self, job: Job) -> tuple[str, str]:
        return run_training(job.store, job.run_id, job.resume, job.stop_flag, job.extras.get("observers", ()),
                            job.extras.get("dist"), job.extras.get("data"))


def create_run(store: RunStore, config: TrainConfig) -> str:
    """Records a new training run (status `starting`) and returns its id."""
    from slimcore.jobs.control import create

    return create(store, "train", config)


def run_training(store: RunStore | None, run_id: str, resume: bool = False, stop_flag: dict | None = None,
                 observers=(), dist: DistContext | None = None, data=None) -> tuple[str, str]:
    """Trains run `run_id` in this process, recording everything in `store`; returns (status, message).

    SIGTERM/SIGINT request a clean stop (checkpoint, then status `stopped`). Under torchrun (`dist`), rank 0
    alone holds the store: it reads the config and checkpoint and broadcasts them; the other ranks pass
    `store=None` and only train. `data`, when given, is the run's data set already loaded (not loaded again).
    """
    main = dist is None or dist.is_main
    flag = stop_flag if stop_flag is not None else {"requested": False}
    previous = {}
    if stop_flag is None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda s, f: flag.__setitem__("requested", True))
    try:
        # A run that cannot start (unknown, nothing to resume, unreadable checkpoint) keeps its status.
        setup = _training_setup(store, run_id, resume, dist) if main else None
        if dist is not None:
            setup = dist.broadcast(setup)
        if "error" in setup:
            if main and store.exists(run_id) and store.get_run(run_id)["status"] in ACTIVE_STATUSES:
                store.set_status(run_id, "failed", str(setup["error"]))  # a job that could not start
            raise setup["error"]
        return _train(store, run_id, setup, flag, observers, dist, data)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _train(store: RunStore | None, run_id: str, setup: dict, flag: dict, observers, dist,
           data=None) -> tuple[str, str]:
    from slimcore.jobs.control import listen
    from slimcore.training.observers import StoreRecorder
    from slimcore.training.trainer import Trainer

    main = store is not None
    try:
        if main:
            store.set_status(run_id, "starting", "loading data and model", pid=os.getpid())
            listen(store, run_id, flag)
        config = TrainConfig.from_dict(setup["config"])
        trainer = Trainer(config, observers=[StoreRecorder(store, run_id), *observers] if main else [],
                          stop_requested=lambda: flag["requested"],
                          checkpoint_path=store.run_dir(run_id) / "last.pt" if main else None, dist=dist,
                          data=data, initial_weights=setup["state"] is None)
        if setup["state"] is not None:
            trainer.load_state_dict(setup["state"])
        return trainer.fit()
    except SlimcoreError as e:
        if main:
            store.set_status(run_id, "failed", str(e))
        raise
    except BaseException as e:
        if main:
            store.set_status(run_id, "failed", f"{type(e).__name__}: {e}")
        raise


def _training_setup(store: RunStore, run_id: str, resume: bool, dist: DistContext | None) -> dict:
    """The run's config and (when resuming) its checkpoint, or the error that prevents the start: handed on,
    not raised, so that under torchrun the other ranks hear of it instead of waiting for a broadcast."""
    try:
        run = store.get_run(run_id)
        state = None
        if resume and dist is not None:  # a torchrun resume comes straight from the CLI: check it here
            check_resumable(store, run_id)
        if resume:
            ckpt = store.latest_checkpoint(run_id)
            if ckpt is None:
                raise StoreError(f"run {run_id} has no checkpoint to resume from; start a new run instead.")
            state = check_training_state(load_checkpoint(ckpt["path"]), run["config"], ckpt["path"])
        return {"config": run["config"], "state": state}
    except SlimcoreError as e:
        return {"error": e}


def check_startable(config: TrainConfig):
    """Raises the error a run of `config` would stop with at once (device absent, data missing or unreadable, a
    model callable that does not build, starting weights that do not fit), so that bad input is refused before a
    run is recorded; returns the loaded data for a run in this process."""
    from slimcore.data import load_dataset
    from slimcore.devices import choose_device
    from slimcore.models import MODELS

    choose_device(config.device)
    data = load_dataset(config.dataset, root=config.data_root, seed=config.seed)
    if config.model not in MODELS or config.model in MODELS.plugins or config.init_from or config.pretrained:
        from slimcore.models import create_model
        from slimcore.models.weights import starting_weights

        model = create_model(config.model, data.num_classes, data.in_channels, data.image_size)
        starting_weights(model, config.model, config.init_from, config.pretrained)
    return data


def start_training(config: TrainConfig, store: RunStore) -> str:
    """Creates a run and starts it in the background; returns the run id."""
    from slimcore.jobs.control import launch

    check_startable(config)
    run_id = create_run(store, config)
    launch(store, run_id)
    return run_id


def check_resumable(store: RunStore, run_id: str) -> None:
    """Raises a StoreError that says why a run cannot be resumed."""
    from slimcore.jobs.control import view

    run = view(store, run_id)
    if run["status"] == "diverged":
        cfg = run["config"]
        raise StoreError(f"run {run_id} diverged (its loss became NaN/inf); resuming it with the same settings would "
                         f"diverge again. Start a new run with a lower --lr (was {cfg.get('lr')}) or --lam (was "
                         f"{cfg.get('lam')}); its last good checkpoint stays available to rank, preview and prune.")
    if run["status"] == "interrupted" and silent_but_alive(run):
        # Its heartbeat went stale but its process lives: a resume would make two writers of one run.
        raise StoreError(f"run {run_id}'s job (process {run['pid']}) is still alive but has not reported for a "
                         f"while; stop it first (`slimcore stop {run_id}`), then resume.")
    if run["status"] not in RESUMABLE:
        raise StoreError(f"run {run_id} is {run['status']}; only {', '.join(RESUMABLE)} runs can be resumed.")
    if store.latest_checkpoint(run_id) is None:
        raise StoreError(f"run {run_id} has no checkpoint yet (it stopped before its first one); start it anew.")
