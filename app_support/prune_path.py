"""An iterative commit's path, as the Prune page's card and the Runs page show it: one row per cut (its FLOPs target
and share, val accuracy right after the cut and after its fine-tune), and the same as accuracy against FLOPs."""
from __future__ import annotations

from typing import Mapping, Sequence

import streamlit as st

from slimcore.viz.recovery import step_path

def step_rows(steps: Sequence[Mapping]) -> list[dict]:
    """One table row per recorded cut of an iterative commit (its summary's or report's `steps`)."""
    return [{"step": s["step"], "target FLOPs": s.get("target_flops_ratio"), "FLOPs": s.get("flops_ratio"),
             "removed": s.get("removed_channels"),
             "val acc after cut": (s.get("before_finetune") or {}).get("val_accuracy"),
             "val acc fine-tuned": s.get("val_accuracy"), "test acc": s.get("test_accuracy"),
             "epochs": s.get("epochs_done"), "fine-tune": s.get("finetune_status")} for s in steps]


def recovery_text(finetune: Mapping, steps: int = 1) -> str:
    """'2 cuts × 3 epoch(s) at lr 0.01 (cosine), distilled from the unpruned model (T 4, W 0.9), penalty kept
    between the cuts' of a prune run's fine-tuning settings (its config's or its report's `finetune`)."""
    epochs = int(finetune.get("epochs") or 0)
    if not epochs:
        return "no fine-tuning"
    text = (f"{steps} cuts × " if steps > 1 else "") + f"{epochs} epoch(s) at lr {float(finetune.get('lr', 0)):g} " \
        f"({finetune.get('schedule', 'cosine')})"
    distill = finetune.get("distill")
    if distill:  # a config holds true and T, W; a report holds {"temperature", "weight"}
        t = distill.get("temperature") if isinstance(distill, Mapping) else finetune.get("distill_temperature")
        w = distill.get("weight") if isinstance(distill, Mapping) else finetune.get("distill_weight")
        text += f", distilled from the unpruned model (T {float(t):g}, W {float(w):g})"
    if finetune.get("keep_penalty"):
        text += ", sparsity penalty kept between the cuts"
    return text


def show_path(steps: Sequence[Mapping], key: str, base_accuracy: float | None = None) -> None:
    """The cuts of an iterative commit so far: a table, and accuracy against FLOPs along them."""
    share = st.column_config.NumberColumn(format="percent")
    st.dataframe(step_rows(steps), hide_index=True, width="stretch", key=f"{key}:table", column_config={
        "target FLOPs": share, "FLOPs": share, "val acc after cut": share, "val acc fine-tuned": share,
        "test acc": share, "step": st.column_config.NumberColumn(width="small"),
        "removed": st.column_config.NumberColumn(help="channels removed from the unpruned model, in all"),
        "epochs": st.column_config.NumberColumn(width="small", help="fine-tuning epochs after this cut"),
        "fine-tune": st.column_config.TextColumn(help="how this cut's fine-tune ended")})
    if steps:
        st.plotly_chart(step_path(steps, base_accuracy), key=f"{key}:plot", width="stretch")
