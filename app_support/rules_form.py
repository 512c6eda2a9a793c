"""The Prune page's per-layer rules: a table of the run's channel groups (lock, the most of it removed, its own
minimum width) and a round-to box, applied together; the rules in force persist per run across reruns and pages.

The rules change which plans exist, so a curve under them is another curve: the page computes it (a job) when it
is missing, and the control, its in-browser numbers and the commit all use the rules returned here."""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import streamlit as st

from app_support.errors import show_error
from slimcore.errors import ConfigError, SlimcoreError
from slimcore.pruning.math.rules import LayerRules

GROUP, BNS, WIDTH, LOCK, MAX_REMOVED, MIN_WIDTH = "group", "BN layers", "width", "lock", "max removed share", "min width"


def model_groups(store, run_id: str) -> list[dict]:
    """[{"name", "bns", "width"}] of the run's channel groups, in model order."""
    from slimcore.pruning.trained import load_trained

    return [{"name": g.name, "bns": list(g.bns), "width": int(g.width)}
            for g in load_trained(store, run_id).structure.groups]


def _group_of(groups: Sequence[Mapping], name: str) -> str | None:
    """The group a rule's name (a group's name or one of its BN layers) means."""
    return next((g["name"] for g in groups if name == g["name"] or name in g["bns"]), None)


def rule_rows(groups: Sequence[Mapping], rules: LayerRules) -> list[dict]:
    """The table's rows: one per group, with the rules that name it (or one of its BN layers)."""
    locked = {_group_of(groups, n) for n in rules.locked}
    capped = {_group_of(groups, n): v for n, v in rules.max_removed.items()}
    widths = {_group_of(groups, n): v for n, v in rules.min_width.items()}
    return [{GROUP: g["name"], BNS: ", ".join(g["bns"]), WIDTH: g["width"], LOCK: g["name"] in locked,
             MAX_REMOVED: capped.get(g["name"]), MIN_WIDTH: widths.get(g["name"])} for g in groups]


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, integer: bool) -> Any:
    """A cell's number as the rules check it: a whole float becomes an int for a width; text is left to fail."""
    if isinstance(value, float) and integer and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalars from a DataFrame
        return _number(value.item(), integer)
    return value


def rules_from_rows(rows: Iterable[Mapping], round_to: int = 1) -> LayerRules:
    """The rules the table asks for (ConfigError naming the bad cell, as the CLI's flags report it)."""
    locked, capped, widths = [], {}, {}
    for row in rows:
        name = row[GROUP]
        if bool(row.get(LOCK)):
            locked.append(name)
        if not _blank(row.get(MAX_REMOVED)):
            capped[name] = _number(row[MAX_REMOVED], integer=False)
        if not _blank(row.get(MIN_WIDTH)):
            widths[name] = _number(row[MIN_WIDTH], integer=True)
    return LayerRules(locked=tuple(locked), max_removed=capped, min_width=widths, round_to=_number(round_to, True))


_FLAGS = (("--max-removed ", "max removed share of "), ("--min-width ", "min width of "), ("use --lock", "tick lock"),
          ("--round-to", "round to"), ("--lock ", "lock "))


def in_page_terms(message: str) -> str:
    """A rules error as the CLI words it (`--max-removed NAME: ...`), in the names of this form's columns."""
    for flag, column in _FLAGS:
        message = message.replace(flag, column)
    return message


def describe(rules: LayerRules) -> str:
    """One line: what the rules in force do."""
    if rules.empty:
        return "No per-layer rules: the global threshold alone decides every group's width."
    parts = [f"{', '.join(rules.locked)} locked"] if rules.locked else []
    parts += [f"{n} loses at most {v:.0%}" for n, v in rules.max_removed.items()]
    parts += [f"{n} keeps at least {v}" for n, v in rules.min_width.items()]
    if rules.round_to > 1:
        parts.append(f"kept widths rounded up to a multiple of {rules.round_to} (or the whole group)")
    return "In force: " + "; ".join(parts) + "."


def _keys(run_id: str) -> dict[str, str]:
    return {"applied": f"p:rules:{run_id}", "editor": f"p:rules:table:{run_id}", "base": f"_p:rules:base:{run_id}",
            "round": f"p:rules:round:{run_id}", "form": f"p:rules:form:{run_id}"}


def applied_rules(run_id: str) -> LayerRules:
    """The rules in force for run `run_id` in this session (none at first)."""
    try:
        return LayerRules.from_dict(st.session_state.get(_keys(run_id)["applied"]) or {})
    except SlimcoreError:
        return LayerRules()


def _clear(run_id: str) -> None:
    k = _keys(run_id)
    st.session_state[k["applied"]] = LayerRules().to_dict()
    st.session_state.pop(k["editor"], None)  # the table starts again from the (empty) rules in force
    st.session_state[k["round"]] = 1


def rules_form(store, run_id: str) -> LayerRules:
    """The "Per-layer rules" expander; returns the rules in force (the last valid ones applied)."""
    k = _keys(run_id)
    applied = applied_rules(run_id)
    groups = model_groups(store, run_id)
    if k["editor"] not in st.session_state or k["base"] not in st.session_state:  # a fresh table (first visit,
        # back from another page, cleared): edits apply to the rules in force
        st.session_state[k["base"]] = rule_rows(groups, applied)
    if k["round"] not in st.session_state:
        st.session_state[k["round"]] = applied.round_to
    with st.expander("Per-layer rules: lock a group, cap what it loses, give it a minimum width, round widths",
                     expanded=not applied.empty):
        st.caption("The global threshold decides; these rules override it per channel group. A locked group is "
                   "never pruned; max removed share caps the share of its channels removed (0.5 = at most half); "
                   "min width is the fewest channels it keeps; every kept width is rounded up to a multiple of N "
                   "(or the whole group). Applying them computes the trade-off curve under them (a job), once.")
        with st.form(k["form"], border=False, enter_to_submit=False):
            edited = st.data_editor(
                st.session_state[k["base"]], key=k["editor"], hide_index=True, num_rows="fixed", width="stretch", placeholder="–",
                disabled=[GROUP, BNS, WIDTH],
                column_config={
                    GROUP: st.column_config.TextColumn(GROUP, help="channels cut together, at the same indices"),
                    BNS: st.column_config.TextColumn(BNS, help="the BN layers whose channels this group holds"),
                    WIDTH: st.column_config.NumberColumn(WIDTH, help="channels in the group", format="%d"),
                    LOCK: st.column_config.CheckboxColumn(LOCK, help="never prune this group"),
                    MAX_REMOVED: st.column_config.NumberColumn(
                        MAX_REMOVED, help="remove at most this share of its channels, in [0, 1)", step=0.05,
                        format="%.2f"),
                    MIN_WIDTH: st.column_config.NumberColumn(MIN_WIDTH, help="keep at least this many channels",
                                                             step=1, format="%d")})
            c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
            round_to = c1.number_input("round kept widths to a multiple of", min_value=1, max_value=4096, step=1,
                                       key=k["round"], help="1: no rounding; 8 keeps every width a multiple of 8 "
                                                            "(or the whole group), as hardware prefers")
            c2.form_submit_button("Apply rules", type="primary")
            c3.form_submit_button("Clear all rules", on_click=_clear, args=(run_id,))
        rows = edited.to_dict("records") if hasattr(edited, "to_dict") else edited
        try:
            wanted = rules_from_rows(rows, round_to)
        except ConfigError as e:
            show_error(ConfigError(in_page_terms(str(e))), "apply these per-layer rules")
            st.caption("Fix that cell and apply again; until then the last valid rules stay in force.")
        else:
            if wanted != applied:
                st.session_state[k["applied"]] = wanted.to_dict()
                applied = wanted
        st.caption(describe(applied))
    return applied
