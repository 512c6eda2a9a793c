"""The app with models from outside the zoo: a plugin model is in the Train page's picker and trains there; the
"Import a trained model" form records uploaded weights as a run the Prune page offers; bad uploads are refused."""
from __future__ import annotations

import io

import pytest
import torch
from streamlit.testing.v1 import AppTest

from own_models_support import installed, write_package
from test_app_pages import page


@pytest.fixture
def plugin(tmp_path):
    with installed(write_package(tmp_path / "plugin")):
        yield


@pytest.mark.slow
def test_a_plugin_model_is_in_the_picker_and_trains_from_the_train_page(runs_dir, plugin):
    from conftest import job_log, wait_for_status
    from slimcore.store import RunStore

    at = page("pages/1_Train.py").run()
    assert "twopath" in at.selectbox(key="t:model").options
    assert "plugdigits" in at.selectbox(key="t:dataset").options
    at.selectbox(key="t:model").set_value("twopath").run()
    assert any("two-path net of the test package" in c.value for c in at.caption)
    at.selectbox(key="t:dataset").set_value("plugdigits").run()
    at.number_input(key="t:epochs").set_value(1).run()
    at.button(key="t:start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = RunStore(runs_dir)
    run = store.list_runs()[0]
    assert run["config"]["model"] == "twopath"
    done = wait_for_status(store, run["id"], ("finished", "failed"), timeout=180)
    assert done["status"] == "finished", job_log(store, run["id"])


def _weights(num_classes: int = 10) -> bytes:
    from slimcore.models import create_model

    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(create_model("slimnet", num_classes, 1, 8).state_dict(), buffer)
    return buffer.getvalue()


def _import(at: AppTest, data: bytes, model: str = "slimnet", dataset: str = "digits") -> AppTest:
    at.file_uploader(key="imp:file").set_value(("mine.pt", data, "application/octet-stream")).run()
    at.selectbox(key="imp:model").set_value(model).run()
    at.selectbox(key="imp:dataset").set_value(dataset).run()
    return at.button(key="imp:go").click().run()


@pytest.mark.slow
def test_the_import_form_records_a_run_the_prune_page_offers(runs_dir):
    from conftest import job_log, wait_for_status
    from slimcore.store import RunStore

    at = _import(page("pages/1_Train.py").run(), _weights())
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = RunStore(runs_dir)
    run = store.list_runs()[0]
    assert (run["kind"], run["config"]["model"], run["config"]["dataset"]) == ("import", "slimnet", "digits")
    assert run["config"]["init_from"].startswith(str(store.root / "uploads"))
    done = wait_for_status(store, run["id"], ("finished", "failed"), timeout=120)
    assert done["status"] == "finished", job_log(store, run["id"])
    at.run()
    labels = [m.label for m in at.metric]
    assert "test accuracy" in labels and any("Imported as run" in s.value for s in at.success)
    prune = page("pages/2_Prune.py")
    prune.query_params["run"] = run["id"]
    prune.run()
    assert not prune.exception
    assert any(run["id"] in str(o) for o in prune.selectbox(key="p:run").options)
    assert prune.selectbox(key="p:run").value == run["id"]


@pytest.mark.parametrize("data, model, says", [
    (b"not a weights file", "slimnet", "truncated, corrupted"),
    (None, "tv_resnet18", "does not fit model 'tv_resnet18'"),
])
def test_a_bad_upload_is_refused_and_records_nothing(runs_dir, data, model, says):
    from slimcore.store import RunStore

    at = _import(page("pages/1_Train.py").run(), data if data is not None else _weights(), model=model)
    assert not at.exception
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    assert RunStore(runs_dir).list_runs() == []
