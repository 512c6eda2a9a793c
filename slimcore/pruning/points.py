"""The points of a stored trade-off curve, as a slider walks them: in threshold order, without repeats, the one
nearest a FLOPs target, the default one, and the figures shown beside them."""
from __future__ import annotations

from typing import Any, Mapping, Sequence


def flops_percent(point: Mapping, base: Mapping | None, points: Sequence[Mapping] = ()) -> float:
    """A point's FLOPs as a % of the unpruned model's (of the largest point's when `base` is unknown)."""
    ref = (base or {}).get("flops") or max((p.get("flops") or 0 for p in points), default=0) or 1
    return 100.0 * float(point.get("flops") or 0) / float(ref)


def ordered_points(curve: Mapping) -> list[dict]:
    """The curve's points by increasing threshold (so moving the slider right prunes more)."""
    return sorted(curve.get("points", []), key=lambda p: float(p["threshold"]))


def distinct_points(points: Sequence[Mapping]) -> list[dict]:
    """Drops points that cut exactly the channels of the point before (tied scores): each slider step changes the model."""
    out: list[dict] = []
    for p in points:
        if out and p.get("widths") and p.get("widths") == out[-1].get("widths"):
            continue
        out.append(dict(p))
    return out


def point_labels(points: Sequence[Mapping]) -> list[str]:
    """Distinct slider labels for the points' thresholds: as few digits as keep them apart.

    A select slider's value travels as its label, so two points shown alike would be one position.
    """
    thresholds = [float(p["threshold"]) for p in points]
    for digits in range(3, 10):
        labels = [f"{t:.{digits}g}" for t in thresholds]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{t:.9g} (#{i + 1})" for i, t in enumerate(thresholds)]


def nearest_index(points: Sequence[Mapping], base: Mapping | None, flops_pct: float) -> int:
    """Index of the point whose FLOPs % is closest to `flops_pct` (the larger model on a tie)."""
    if not points:
        raise ValueError("the curve has no points")
    return min(range(len(points)),
               key=lambda i: (abs(flops_percent(points[i], base, points) - flops_pct), -flops_percent(points[i], base, points)))


def default_index(points: Sequence[Mapping], base: Mapping | None, tolerance: float = 0.01) -> int:
    """The most pruned point within `tolerance` of the unpruned accuracy; the middle one when accuracy is unknown."""
    ref = (base or {}).get("accuracy")
    if ref is None or not points:
        return len(points) // 2
    ok = [i for i, p in enumerate(points) if p.get("accuracy") is not None and p["accuracy"] >= ref - tolerance]
    return max(ok, key=lambda i: -flops_percent(points[i], base, points)) if ok else 0


def channel_totals(curve: Mapping, layers: Sequence[Mapping]) -> dict[str, int]:
    """Full width of every prunable layer: from the unpruned point when the curve has it, else the run's BN layers."""
    widths = (curve.get("base") or {}).get("widths")
    if widths:
        return {str(k): int(v) for k, v in widths.items()}
    return {str(layer["name"]): int(layer["size"]) for layer in layers}


def ratio(value: Any, reference: Any) -> float | None:
    """value / reference, or None when either is missing or the reference is 0."""
    try:
        return float(value) / float(reference) if reference else None
    except (TypeError, ValueError):
        return None



def groups_at(curve: Mapping, point: Mapping) -> list[dict]:
    """The curve's channel groups (`slimcore.analysis.explain`), in model order, with what this point removes from
    each (`removed` and `kept` channels) and a `label` for a picker that does not change with the point."""
    widths = point.get("widths") or {}
    out = []
    for group in curve.get("groups") or []:
        kept = int(widths.get(group["bns"][0], group["width"])) if group.get("bns") else group["width"]
        removed = group["width"] - kept
        why = "; ".join(t.split(":")[0] for t in group.get("ties", []))
        out.append({**group, "kept": kept, "removed": removed,
                    "label": f"{group['name']} · {group['width']} channels · {why}"})
    return out
