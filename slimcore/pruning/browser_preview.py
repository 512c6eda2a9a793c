"""What a browser needs to redraw the Prune page's preview for any threshold, exactly, without asking the server.

One payload per run, ranking and rules: every channel's score per group (tie-broken, as `ranking_scores` gives
them), each group's stable keep order, its items (which module-local channels move with which root channel),
the conv/linear shapes of the MACs formula (`slimcore.pruning.math.flops`), the per-layer parameter layout
(`slimcore.pruning.math.params`), the minimum widths and rounding in force (`select`'s rule), the evaluated
curve points, and the slider's positions: one threshold per distinct plan (the first candidate threshold, a
score, that gives it, as `select_flops` and the curve report thresholds), so that each step changes the model and
every plan, the block of denormal tie-broken scores near 0 included, is one step away.

Floats that must survive exactly (scores, thresholds) travel as base64 of little-endian float64 bytes: a
threshold 5e-324 apart from the next must not be rounded on the way. `numbers_at` is the same computation in
Python, from the payload alone: what the tests check against the real pruned model and the browser against.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from typing import Any, Mapping, Sequence

import numpy as np

from slimcore.pruning.math.flops import LayerShape, network_macs
from slimcore.pruning.math.groups import ChannelGroup, GroupItem, removed_per_module
from slimcore.pruning.math.params import ParamLayer, network_params
from slimcore.pruning.math.plan import candidate_thresholds, select
from slimcore.pruning.math.rules import GroupLimits, LayerRules, limits_for

PAYLOAD_FORMAT = 1


def encode_f64(values: Sequence[float] | np.ndarray) -> str:
    """Float64 values, bit for bit, as base64 text (little-endian), the form JSON cannot round."""
    return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode("ascii")


def decode_f64(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(np.float64)


def param_layers(model) -> tuple[list[ParamLayer], int]:
    """(every Conv2d, Linear and BatchNorm2d of `model` as a ParamLayer, the parameters of everything else)."""
    from torch import nn

    layers: list[ParamLayer] = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            layers.append(ParamLayer(name, "conv", m.in_channels, m.out_channels, m.groups,
                                     int(np.prod(m.kernel_size)), m.bias is not None))
        elif isinstance(m, nn.Linear):
            layers.append(ParamLayer(name, "linear", m.in_features, m.out_features, 1, 1, m.bias is not None))
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
            layers.append(ParamLayer(name, "bn", m.num_features, m.num_features))
    total = sum(p.numel() for p in model.parameters())
    return layers, int(total - network_params(layers))


def keep_counts(scores: Sequence[np.ndarray], thresholds: np.ndarray, min_channels: int,
                limits: GroupLimits | None) -> np.ndarray:
    """Channels each group keeps at each threshold (thresholds × groups), by `select`'s rule, vectorised."""
    out = np.empty((len(thresholds), len(scores)), dtype=np.int64)
    for i, s in enumerate(scores):
        n = len(s)
        below = np.searchsorted(np.sort(np.asarray(s, dtype=np.float64)), thresholds, side="left")
        keep = np.maximum(n - below, min(min_channels, n))
        if limits is not None:  # rounded_width, vectorised
            keep = np.maximum(keep, limits.min_kept[i])
            if limits.round_to > 1:
                keep = np.minimum(n, -(-keep // limits.round_to) * limits.round_to)
        out[:, i] = keep
    return out


def slider_thresholds(scores: Sequence[np.ndarray], min_channels: int = 1,
                      limits: GroupLimits | None = None) -> np.ndarray:
    """One threshold per distinct plan, ascending: the first candidate threshold (a score) that gives it. The first
    keeps every channel, the last is the smallest model the minimum widths allow."""
    candidates = candidate_thresholds(scores)
    keeps = keep_counts(scores, candidates, min_channels, limits)
    changed = np.r_[True, np.any(keeps[1:] != keeps[:-1], axis=1)]
    return candidates[changed]


def _group_json(group: ChannelGroup, scores: np.ndarray, keys: dict[tuple[str, str], int]) -> dict:
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")  # select's tie rule
    items = [[keys.setdefault((it.module, it.kind), len(keys)), [int(v) for v in it.idxs],
              [int(v) for v in it.root_idxs]] for it in group.items]
    return {"name": group.name, "width": int(group.width), "bns": group.bns, "scores": encode_f64(scores),
            "order": [int(v) for v in order], "items": items}


def _curve_points(curve: Mapping | None) -> dict:
    """The evaluated points (the unpruned base first, threshold None) as parallel arrays."""
    points = [p for p in (curve or {}).get("points", []) if p.get("threshold") is not None]
    points.sort(key=lambda p: float(p["threshold"]))
    base = (curve or {}).get("base") or {}
    return {"base_accuracy": base.get("accuracy"),
            "point_thresholds": encode_f64([float(p["threshold"]) for p in points]),
            "point_accuracy": [p.get("accuracy") for p in points],
            "point_output_change": [p.get("output_change") for p in points]}


def build_payload(structure, model, scores: Sequence[np.ndarray], min_channels: int = 1,
                  rules: LayerRules | None = None, curve: Mapping | None = None, **extra: Any) -> dict:
    """The payload of a model's `structure` under `scores` and rules; `extra` (run id, ranking, labels) is kept."""
    rules = rules or LayerRules()
    limits = limits_for(rules, structure.groups)
    keys: dict[tuple[str, str], int] = {}
    groups = [_group_json(g, s, keys) for g, s in zip(structure.groups, scores)]
    sizes = {k: 0 for k in keys}
    for g in structure.groups:
        for it in g.items:
            sizes[(it.module, it.kind)] = max(sizes[(it.module, it.kind)], int(np.max(it.idxs, initial=-1)) + 1)
    layers, fixed = param_layers(model)
    payload = {
        "format": PAYLOAD_FORMAT, **extra, "min_channels": int(min_channels), "rules": rules.to_dict(),
        "min_kept": None if limits is None else list(limits.min_kept),
        "round_to": 1 if limits is None else int(limits.round_to),
        "keys": [[m, k, sizes[(m, k)]] for (m, k) in keys],
        "groups": groups,
        "macs_layers": [{"name": s.name, "kind": s.kind, "in": s.in_channels, "out": s.out_channels,
                         "groups": s.groups, "kernel": s.kernel, "positions": s.positions} for s in structure.shapes],
        "param_layers": [{"name": p.name, "kind": p.kind, "in": p.in_channels, "out": p.out_channels,
                          "groups": p.groups, "kernel": p.kernel, "bias": p.bias} for p in layers],
        "fixed_params": fixed,
        "bns": [[name, int(n)] for name, n in structure.bn_sizes.items()],
        "thresholds": encode_f64(slider_thresholds(list(scores), min_channels, limits)),
        **_curve_points(curve),
    }
    payload["id"] = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return payload


def payload_for(store, run_id: str, ranking: str = "bn", min_channels: int = 1, rules: LayerRules | None = None,
                curve: Mapping | None = None) -> dict:
    """The payload of a stored run under a ranking and rules; `curve` defaults to its stored curve (if any)."""
    from slimcore.pruning.curve import stored_curve
    from slimcore.pruning.scoring import ranking_scores
    from slimcore.pruning.settings import CurveSettings
    from slimcore.pruning.trained import load_trained

    rules = rules or LayerRules()
    trained = load_trained(store, run_id)
    scores, _ = ranking_scores(store, trained, ranking)
    if curve is None:
        curve = stored_curve(store, run_id, CurveSettings(ranking=ranking, min_channels=min_channels, rules=rules))
    label = "|γ|" if ranking == "bn" else f"{ranking} score"
    return build_payload(trained.structure, trained.model, scores, min_channels, rules, curve,
                         run_id=run_id, ranking=ranking, score_label=label)


def prepare_exact(store, run_id: str) -> None:
    """Computes, once, what every exact evaluation of the run reads (its calibrated compensation and the unpruned
    logits on val), so that the first threshold released is evaluated as fast as the next ones."""
    from slimcore.pruning.trained import load_trained

    trained = load_trained(store, run_id)
    trained.compensation
    trained.logits("val")


_EVALUATING = threading.Lock()


def exact_at(store, run_id: str, ranking: str, threshold: float, min_channels: int = 1,
             rules: LayerRules | None = None, threads: int | None = None) -> dict:
    """`preview_at` of one threshold (the released one), with torch's intra-op threads capped for its duration at
    `threads` (default: half the cores, at least one). The page waits on it while the browser, and often a
    training job, share the cores: on a busy 2-core machine two spinning OpenMP threads made the evaluation 2-4×
    slower than one (the logits are bitwise the same)."""
    import torch

    from slimcore.pruning.curve import preview_at

    with _EVALUATING:  # the thread count is process-wide: one evaluation at a time sets and restores it
        before = torch.get_num_threads()
        torch.set_num_threads(threads or max(1, (os.cpu_count() or 2) // 2))
        try:
            return preview_at(store, run_id, ranking, threshold=threshold, min_channels=min_channels, rules=rules)
        finally:
            torch.set_num_threads(before)


# -- the same computation in Python, from the payload alone ---------------------------------------------------
class PayloadPreview:
    """A payload decoded once; `numbers_at` is what the browser computes, with the engine's own functions."""

    def __init__(self, payload: Mapping) -> None:
        self.payload = payload
        keys = [(m, k) for m, k, _ in payload["keys"]]
        self.groups = [ChannelGroup(g["name"], g["width"], tuple(
            GroupItem(*keys[k], np.asarray(i, dtype=np.int64), np.asarray(r, dtype=np.int64)) for k, i, r in g["items"]))
            for g in payload["groups"]]
        self.scores = [decode_f64(g["scores"]) for g in payload["groups"]]
        self.limits = None if payload["min_kept"] is None else GroupLimits(tuple(payload["min_kept"]),
                                                                            payload["round_to"])
        self.shapes = [LayerShape(s["name"], s["kind"], s["in"], s["out"], s["groups"], s["kernel"], s["positions"])
                       for s in payload["macs_layers"]]
        self.params = [ParamLayer(p["name"], p["kind"], p["in"], p["out"], p["groups"], p["kernel"], p["bias"])
                       for p in payload["param_layers"]]
        self.thresholds = decode_f64(payload["thresholds"])
        self._kept = keep_counts(self.scores, self.thresholds, payload["min_channels"], self.limits).sum(axis=1)
        self._flops: np.ndarray | None = None
        self._params: np.ndarray | None = None
        self._evaluated: dict[tuple, dict] | None = None

    def numbers_at(self, threshold: float) -> dict:
        """MACs, FLOPs (2 × MACs), parameters, per-BN widths, channels kept and removed, and whether a minimum
        width overrode the threshold: what `slimcore preview --threshold` reports for the model it cuts."""
        p = self.payload
        sel = select(self.scores, float(threshold), p["min_channels"], self.limits)
        removed = removed_per_module(self.groups, sel.plan)
        macs = network_macs(self.shapes, removed)
        widths = {bn: n - len(removed.get((bn, "bn"), ())) for bn, n in p["bns"]}
        return {"macs": macs, "flops": 2 * macs, "params": network_params(self.params, removed, p["fixed_params"]),
                "widths": widths, "kept": sum(widths.values()), "removed_channels": sel.removed,
                "clamped": sel.clamped, "keeps": tuple(len(s) - len(r) for s, r in zip(self.scores, sel.plan))}

    def position_of(self, threshold: float) -> int:
        """The slider position of the plan `threshold` gives (distinct plans keep strictly fewer channels)."""
        kept = sum(self.numbers_at(threshold)["keeps"])
        return int(np.clip(np.searchsorted(-self._kept, -kept, side="left"), 0, len(self.thresholds) - 1))

    def _shares(self) -> None:
        numbers = [self.numbers_at(t) for t in self.thresholds]
        macs = np.array([n["macs"] for n in numbers], dtype=np.float64)
        params = np.array([n["params"] for n in numbers], dtype=np.float64)
        self._flops = macs / macs[0] if macs[0] else np.ones_like(macs)
        self._params = params / params[0] if params[0] else np.ones_like(params)

    def flops_shares(self) -> np.ndarray:
        """FLOPs of every position as a share of the unpruned model's (computed once)."""
        if self._flops is None:
            self._shares()
        return self._flops

    def params_shares(self) -> np.ndarray:
        """Parameters of every position as a share of the unpruned model's: the curve's x on the parameters axis."""
        if self._flops is None:
            self._shares()
        return self._params

    def nearest_flops_position(self, flops_share: float) -> int:
        """The position whose FLOPs share is nearest `flops_share` (the larger model on a tie)."""
        return int(np.argmin(np.abs(self.flops_shares() - float(flops_share))))

    def evaluated_at(self, threshold: float) -> dict | None:
        """{"accuracy", "output_change"} of the evaluated curve point (or the unpruned base) that cuts the same
        plan as `threshold`; None when no evaluated point does (accuracy is a property of the plan alone)."""
        if self._evaluated is None:
            p = self.payload
            found = {}
            points = zip(decode_f64(p["point_thresholds"]), p["point_accuracy"], p["point_output_change"])
            for t, accuracy, change in [(self.thresholds[0], p.get("base_accuracy"), 0.0), *points]:
                if accuracy is not None:
                    found.setdefault(self.numbers_at(float(t))["keeps"], {"accuracy": accuracy, "output_change": change})
            self._evaluated = found
        return self._evaluated.get(self.numbers_at(threshold)["keeps"])


def latency_at_positions(preview: PayloadPreview, timings: Mapping, backend: str, key: str = "batch1") -> np.ndarray:
    """Milliseconds of every slider position: measured where a timed model cuts that plan (the first timing of it),
    else estimated along FLOPs between the timed ones (`estimate_latency`): what the browser's latency axis shows."""
    from slimcore.pruning.latency_curve import estimate_latencies

    ms = estimate_latencies(timings, preview.flops_shares(), backend, key)
    seen: set[int] = set()
    for row in [timings["base"], *timings["points"]]:
        if backend not in row["latency_ms"]:
            continue
        pos = 0 if row["threshold"] is None else preview.position_of(float(row["threshold"]))
        if pos not in seen:
            seen.add(pos)
            ms[pos] = row["latency_ms"][backend][key]
    return ms
