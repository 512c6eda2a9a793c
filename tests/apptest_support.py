"""Following a page's jobs under AppTest, which does not tick the fragments that follow them in a browser."""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest


def wait_for_job(at: AppTest, store, kind: str, parent: str, timeout: float = 300) -> dict:
    """Reruns the page once the newest `kind` job on `parent` has ended (asserting the rerun raised nothing) and
    returns that job."""
    from slimcore import jobs

    deadline = time.time() + timeout
    while time.time() < deadline:
        job = jobs.latest(store, kind, parent)
        if job is not None and not jobs.is_active(job):
            at.run()
            assert not at.exception, [e.message for e in at.exception]
            return job
        time.sleep(0.5)
    raise AssertionError(f"the {kind} job did not end: {jobs.latest(store, kind, parent)}")
