"""The Prune page's threshold control: a custom component (Streamlit components v2: inline HTML, CSS and JS from
`assets/`, no iframe, no build step, nothing fetched) that recomputes FLOPs, parameters, widths and the figures
in the browser on every move, from a payload sent once per run, ranking and rules
(`slimcore.pruning.browser_preview`). On release the threshold comes back here: the exact point is a look-up when
an evaluated curve point cuts the same plan, else `preview_at` builds and evaluates that model, and the browser
replaces its interpolated accuracy with it.

The chosen threshold lives in the session (per run and ranking) and in the URL (`?t=`, read once per session, so
a reload shows it again); the target-FLOPs box moves the control to the plan with the nearest FLOPs, the
target-latency box (when the curve was timed) to the plan whose latency is the nearest at or below the target.
The curve's x-axis (FLOPs, parameters, latency) is switched in the browser; fine-tuned commits are drawn on it.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Mapping

import streamlit as st

from app_support.errors import show_error
from slimcore.errors import SlimcoreError
from slimcore.pruning.browser_preview import (PayloadPreview, exact_at, latency_at_positions, payload_for,
                                              prepare_exact)
from slimcore.pruning.latency_curve import estimate_error, estimate_latencies, latency_series, position_at_or_below
from slimcore.pruning.math.rules import LayerRules
from slimcore.pruning.points import default_index, distinct_points, ordered_points

ASSETS = Path(__file__).resolve().parent / "assets"
COMPONENT = "slimcore_threshold"
EVALUATED_KEPT = 200  # exact evaluations of a session the browser is told about (each makes its plan exact there)
URL_KEY = "t"

_control = st.components.v2.component(
    COMPONENT, html=(ASSETS / "threshold_control.html").read_text(),
    css=(ASSETS / "threshold_control.css").read_text(), js=(ASSETS / "threshold_control.js").read_text(),
    isolate_styles=False)  # no shadow root: the page's text (and its tests) include the metrics and headings


@st.cache_data(max_entries=8, show_spinner="Preparing the in-browser preview (once per run and ranking)…")
def _payload(root: str, run_id: str, ranking: str, min_channels: int, rules_json: str, checkpoint: tuple,
             curve_digest: str, _store, _curve) -> dict:
    payload = payload_for(_store, run_id, ranking, min_channels, LayerRules.from_dict(json.loads(rules_json)), _curve)
    prepare_exact(_store, run_id)  # behind the same spinner: the first release is then as fast as the others
    return payload


@st.cache_resource(max_entries=8, show_spinner=False)
def _preview(payload_id: str, _payload: Mapping) -> PayloadPreview:
    return PayloadPreview(_payload)


@st.cache_resource(max_entries=8, show_spinner=False)
def _latencies(payload_id: str, timings_digest: str, backend: str, _preview: PayloadPreview, _timings: Mapping):
    return latency_at_positions(_preview, _timings, backend)


def _digest(curve: Mapping | None) -> str:
    pts = [(p.get("threshold"), p.get("accuracy")) for p in (curve or {}).get("points", [])]
    return json.dumps([pts, ((curve or {}).get("base") or {}).get("accuracy")])


def _parse(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class ThresholdControl:
    """One run and ranking's control. Build it before the target boxes (it sets their values), then `draw`.
    `timings` (`current_latency`) adds the latency axis and box; `recovered` (`fine_tuned_points`) the fine-tuned
    commits drawn on the curve."""

    def __init__(self, store, run_id: str, ranking: str, curve: Mapping | None, min_channels: int = 1,
                 rules: LayerRules | None = None, timings: Mapping | None = None,
                 recovered: list[dict] | None = None) -> None:
        self.store, self.run_id, self.ranking, self.curve = store, run_id, ranking, curve
        self.min_channels, self.rules = min_channels, rules or LayerRules()
        self.timings, self.recovered = timings or None, list(recovered or ())
        self.backend = self.timings["backends"][0] if self.timings else None
        checkpoint = store.latest_checkpoint(run_id) or {}
        self.payload = _payload(str(store.root), run_id, ranking, min_channels,
                                json.dumps(self.rules.to_dict(), sort_keys=True),
                                (checkpoint.get("path"), checkpoint.get("step")), _digest(curve), store, curve)
        self.preview = _preview(self.payload["id"], self.payload)
        suffix = f"{run_id}:{ranking}"
        self.key, self.thr_key, self.flops_key = f"p:thrc:{suffix}", f"p:thr:{suffix}", f"p:flops:{suffix}"
        self.latency_key = f"p:latency:{suffix}"
        self.seen_key, self.nonce_key = f"_seen:{self.key}", f"_nonce:{self.key}"
        if self.thr_key not in st.session_state:
            self._set(self._initial(), by_python=True)
        elif (self.flops_key not in st.session_state or (self.timings and self.latency_key not in st.session_state)
              or st.session_state.get(f"_payload:{self.key}") != self.payload["id"]):
            # new rules (another payload) or a box not drawn yet: the same threshold, at its position here
            self._set(st.session_state[self.thr_key], by_python=False)
        st.session_state[f"_payload:{self.key}"] = self.payload["id"]
        self.released()  # a release the callback has not seen (AppTest sets the state without calling it)

    # -- the chosen threshold ---------------------------------------------------------------------------------
    def _initial(self) -> float:
        if not st.session_state.get("_p:thr:url_read"):  # a reload (a new session) shows the URL's threshold
            st.session_state["_p:thr:url_read"] = True
            t = _parse(st.query_params.get(URL_KEY))
            if t is not None:
                return t
        points = distinct_points(ordered_points(self.curve or {}))
        if points:
            return float(points[default_index(points, (self.curve or {}).get("base"))]["threshold"])
        return float(self.preview.thresholds[0])

    @property
    def threshold(self) -> float:
        return float(st.session_state[self.thr_key])

    @property
    def position(self) -> int:
        return self.preview.position_of(self.threshold)

    def _set(self, threshold: float, by_python: bool) -> None:
        """Snaps `threshold` to its plan's slider position; the FLOPs box follows; `by_python` moves the browser's."""
        pos = self.preview.position_of(threshold)
        st.session_state[self.thr_key] = float(self.preview.thresholds[pos])
        st.session_state[self.flops_key] = round(100 * float(self.preview.flops_shares()[pos]), 1)
        if self.timings:
            st.session_state[self.latency_key] = round(float(self.latencies()[pos]), 3)
        if by_python:
            st.session_state[self.nonce_key] = st.session_state.get(self.nonce_key, 0) + 1

    def released(self) -> None:
        """The component's callback: a threshold the browser let go of becomes the chosen one."""
        state = st.session_state.get(self.key)
        value = state.get("threshold") if isinstance(state, Mapping) else None
        if not isinstance(value, Mapping) or value == st.session_state.get(self.seen_key):
            return
        st.session_state[self.seen_key] = dict(value)
        t = _parse(value.get("t"))
        if t is not None:
            self._set(t, by_python=False)

    def flops_typed(self) -> None:
        """The target-FLOPs box's callback: the plan with the nearest FLOPs."""
        pos = self.preview.nearest_flops_position(float(st.session_state[self.flops_key]) / 100)
        self._set(float(self.preview.thresholds[pos]), by_python=True)

    def latencies(self):
        """Milliseconds at every slider position on the shown backend, batch 1 (measured or estimated)."""
        digest = json.dumps([self.timings.get("seconds"), self.timings["base"]["latency_ms"]], sort_keys=True)
        return _latencies(self.payload["id"], digest, self.backend, self.preview, self.timings)

    def latency_typed(self) -> None:
        """The target-latency box's callback: the plan whose latency is the nearest at or below the target (the
        fastest plan, with a note, when none is that fast)."""
        target = float(st.session_state[self.latency_key])
        pos, met = position_at_or_below(self.latencies(), target)
        st.session_state[f"_missed:{self.latency_key}"] = None if met else target
        self._set(float(self.preview.thresholds[pos]), by_python=True)

    def missed_latency(self) -> float | None:
        """The last typed latency target no plan meets (the control went to the fastest), or None."""
        return st.session_state.get(f"_missed:{self.latency_key}")

    def latency_axis(self) -> dict | None:
        """What the browser draws the latency axis from: the timed points, the nodes of the estimate, its error."""
        if not self.timings:
            return None
        t = self.timings
        timed = [{"t": None if r["threshold"] is None else repr(float(r["threshold"])),
                  "ms": r["latency_ms"][self.backend]["batch1"], "spread": r["spread_ms"][self.backend]["batch1"]}
                 for r in [t["base"], *t["points"]] if self.backend in r["latency_ms"]]
        return {"backend": self.backend, "batch": 1, "timed": timed,
                "series": latency_series(t, self.backend), "error": estimate_error(t, self.backend),
                "machine": t.get("machine"), "threads": t.get("threads")}

    def recovered_points(self) -> list[dict]:
        """The fine-tuned commits with their x on every axis (parameters as a share; latency estimated along FLOPs)."""
        if not self.recovered:
            return []
        base_params = self.preview.numbers_at(float(self.preview.thresholds[0]))["params"] or 1
        ms = (estimate_latencies(self.timings, [p["flops_ratio"] for p in self.recovered], self.backend)
              if self.timings else [None] * len(self.recovered))
        return [{"prune_id": p["prune_id"], "flops": p["flops_ratio"], "params": p["params"] / base_params,
                 "latency": None if v is None else float(v), "before": p["accuracy_before"],
                 "after": p["accuracy_after"], "epochs": p["epochs"], "steps": p["steps"], "distill": p["distill"]}
                for p, v in zip(self.recovered, ms)]

    # -- the exact point --------------------------------------------------------------------------------------
    def exact_point(self) -> dict:
        """The chosen threshold's point: FLOPs, parameters, widths from the payload, and the accuracy of exactly
        the model commit builds (a curve look-up, or `preview_at` once per threshold and session)."""
        t = self.threshold
        numbers = self.preview.numbers_at(t)
        point = {"threshold": t, **{k: numbers[k] for k in ("macs", "flops", "params", "widths", "removed_channels",
                                                             "clamped")},
                 "flops_ratio": float(self.preview.flops_shares()[self.position])}
        known = self.preview.evaluated_at(t)
        if known is not None:
            return {**point, **known, "evaluated": "curve"}
        cache = st.session_state.setdefault("_p:exact", {})
        key = (self.payload["id"], repr(t))
        if key not in cache:
            started = time.perf_counter()
            try:
                exact = exact_at(self.store, self.run_id, self.ranking, t, self.min_channels, self.rules)
            except SlimcoreError as e:
                show_error(e, "evaluate this threshold")
                return {**point, "accuracy": None, "output_change": None, "evaluated": None}
            cache[key] = {"accuracy": exact["accuracy"], "output_change": exact["output_change"],
                          "seconds": round(time.perf_counter() - started, 3)}
        return {**point, **cache[key], "evaluated": "exact"}

    def _evaluated(self) -> list[dict]:
        cache = st.session_state.get("_p:exact", {})
        mine = [{"t": t, **v} for (pid, t), v in cache.items() if pid == self.payload["id"]]
        return mine[-EVALUATED_KEPT:]

    # -- drawing ----------------------------------------------------------------------------------------------
    def draw(self) -> dict:
        """Mounts the control (metrics, histogram, curve, per-layer bars) and returns the exact point."""
        point = self.exact_point()
        t = self.threshold
        if _parse(st.query_params.get(URL_KEY)) != t:
            st.query_params[URL_KEY] = repr(t)
        data = {"payload": self.payload,
                "selected": {"t": repr(t), "i": self.position, "nonce": st.session_state.get(self.nonce_key, 0)},
                "exact": {"t": repr(t), "accuracy": point.get("accuracy"), "output_change": point.get("output_change"),
                          "seconds": point.get("seconds")},
                "evaluated": self._evaluated(), "latency": self.latency_axis(), "recovered": self.recovered_points()}
        _control(key=self.key, data=data, default={"threshold": None}, on_threshold_change=self.released)
        return point
