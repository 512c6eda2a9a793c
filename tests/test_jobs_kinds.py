"""What a job is (`slimcore.jobs.kinds`): its progress goes to the store with a heartbeat and to the foreground, and
it stops when asked by a signal's flag or by its caller; every kind in the registry describes itself."""
from __future__ import annotations

from slimcore import jobs
from slimcore.jobs.kinds import JOBS, Job, JobKind
from slimcore.store import RunStore


def test_progress_is_recorded_with_a_heartbeat_and_echoed(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    echoed = []
    job = Job(store, run_id, settings=None, parent=None, echo=lambda *a: echoed.append(a))
    job.progress(3, 4, "candidate 3/4")
    run = store.get_run(run_id)
    assert (run["done"], run["total"], run["progress"], run["progress_message"]) == (3, 4, 0.75, "candidate 3/4")
    assert run["heartbeat"] is not None and echoed == [(3, 4, "candidate 3/4")]
    Job(store, run_id, None, None).progress(4, 4)  # no foreground: recorded only
    assert store.get_run(run_id)["progress"] == 1.0


def test_should_stop_answers_the_flag_or_the_callers_own_condition(tmp_path):
    store = RunStore(tmp_path)
    asked = {"now": False}
    job = Job(store, store.create_run({}), None, None, should_stop_too=lambda: asked["now"])
    assert not job.should_stop()
    asked["now"] = True
    assert job.should_stop()
    asked["now"] = False
    job.stop_flag["requested"] = True  # what SIGTERM's handler sets
    assert job.should_stop()
    assert Job(store, "x", None, None).stop_flag is not job.stop_flag  # each job its own flag


def test_the_registry_holds_the_seven_kinds_with_their_settings_and_rules():
    from slimcore.config import TrainConfig
    from slimcore.pruning.latency_curve import LatencySettings
    from slimcore.pruning.settings import CurveSettings, LegrSettings, PruneSettings, SensitivitySettings

    kinds = {name: JOBS.get(name) for name in JOBS.names()}
    assert {n: k.settings_type for n, k in kinds.items()} == {"curve": CurveSettings, "prune": PruneSettings,
                                                              "search": LegrSettings, "train": TrainConfig,
                                                              "import": TrainConfig,
                                                              "sensitivity": SensitivitySettings,
                                                              "latency": LatencySettings}
    assert [n for n, k in kinds.items() if k.resumable] == ["train"] == [n for n, k in kinds.items() if k.manages_status]
    assert [n for n, k in kinds.items() if not k.needs_parent] == ["import", "train"]
    assert [n for n, k in kinds.items() if k.holds_model] == ["import", "train"]
    assert kinds["prune"].describe() == ("A commit: cut the channels for real, fine-tune, measure test accuracy and "
                                         "CPU latency, export ONNX.")
    assert issubclass(kinds["search"], JobKind) and jobs.JOBS is JOBS
