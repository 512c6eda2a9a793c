"""Driving the Prune page's threshold control (a custom component) under AppTest, which cannot run its JS: read what
the page hands the browser, and set the state the browser sets on release."""
from __future__ import annotations

import json

from slimcore.pruning.browser_preview import decode_f64

COMPONENT = "slimcore_threshold"


def control_data(at) -> dict:
    """The data of the page's threshold control: payload, selected threshold, exact point, evaluated ones."""
    found = [json.loads(e.proto.json) for e in at.get("bidi_component")
             if e.proto.component_name == COMPONENT]
    assert len(found) == 1, f"{len(found)} threshold controls on the page"
    return found[0]


def positions(at) -> list[float]:
    return decode_f64(control_data(at)["payload"]["thresholds"]).tolist()


def release(at, position: int, seq: str = "1"):
    """What the browser sends when the control is let go at slider `position`; then the page reruns."""
    payload = control_data(at)["payload"]
    t = decode_f64(payload["thresholds"])[position]
    at.session_state[f"p:thrc:{payload['run_id']}:{payload['ranking']}"] = {
        "threshold": {"t": repr(float(t)), "i": int(position), "seq": f"{position}.{seq}"}}
    return at.run()
