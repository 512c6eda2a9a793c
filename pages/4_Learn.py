"""Learn: each penalty R(x), its slope and proximal map, subgradient against proximal steps, what repeated steps do
to a set of γ (a run's own, with its real step), and ISTA's rescaling and TPP's decorrelation at work."""
import numpy as np
import pandas as pd
import streamlit as st

from app_support.layout import page_setup
from app_support.runs import legend_label
from app_support.state import keep, seed
from app_support.store import get_store
from slimcore import jobs
from slimcore.errors import ConfigError
from slimcore.penalties import PENALTIES, get
from slimcore.penalties.base import parameter_rows
from slimcore.penalties.demo import ista_rescaling_race, mode_race, run_step, toy_targets, tpp_gram_fade
from slimcore.penalties.params import Param
from slimcore.viz import gamma_overlay, gram_plot, mode_race_plot, penalty_curves, penalty_plot, rescaling_plot

page_setup("Learn")
st.title("Learn: what a penalty does to γ")
st.markdown(
    "Every penalty adds λ·Σ R(γ) over the BatchNorm scales to the loss. With **proximal** steps the optimizer "
    "first takes its usual step, then replaces each γ by prox(γ) = argmin_y ½(y − γ)² + t·R(y) with "
    "**t = λ·lr / (1 − β)**, β the SGD momentum (0.9 by default; t = λ·lr without momentum): every γ inside the "
    "dead zone becomes exactly 0, the others shrink. The 1/(1 − β) makes the run minimise L + λ·R, the objective "
    "λ names, at the pace of a subgradient step through the momentum. The shape of R decides who is pushed and "
    "how hard."
)

STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]
TITLES = {"l1": "ℓ1", "lp": "ℓp", "tl1": "Tℓ1"}
names = PENALTIES.names()
default_shown = [n for n in ("l1", "lp", "tl1") if n in names]


def formula_input(penalty: str, param: Param):
    """A slider for a parameter of R(x): its suggested values, else its bounded range in 20 steps."""
    key = f"l:{penalty}:{param.name}"
    label = f"{param.name} ({TITLES.get(penalty, penalty)})"
    if param.suggestions:
        options = list(param.suggestions)
        seed(key, param.default, options)
        value = st.select_slider(label, options, key=key, help=param.help)
    elif param.low is not None and param.high is not None:
        step = (param.high - param.low) / 20
        low = param.low + step if param.low_open else param.low
        high = param.high - step if param.high_open else param.high
        seed(key, param.default)
        value = st.slider(label, low, high, step=step, key=key, help=param.help)
    else:
        seed(key, param.default)
        value = st.number_input(label, key=key, format="%g", help=f"{param.help} ({param.allowed()})")
    keep(key)
    return value


c1, c2 = st.columns([3, 2])
seed("l:shown", default_shown)
shown = c1.multiselect("penalties", names, key="l:shown")
keep("l:shown")
seed("l:t", 0.3, STEPS)
t = c2.select_slider("t = λ·lr / (1 − β)", STEPS, key="l:t",
                     help="the prox step: penalty weight times learning rate, over one minus the momentum")
keep("l:t")

formula = [(name, p) for name in shown for p in PENALTIES.get(name).parameters if p.in_formula]
values: dict[str, dict] = {name: {} for name in shown}
for col, (name, param) in zip(st.columns(len(formula)) if formula else [], formula):
    with col:
        values[name][param.name] = formula_input(name, param)

penalties, skipped = {}, []
for name in shown:
    try:
        # λ = 1 so value() is R itself and prox(x, t) is the prox of t·R.
        penalties[name] = get(name, lam=1.0, **values[name])
    except ConfigError as e:
        skipped.append(f"{name}: {e}")
labelled = {", ".join([TITLES.get(n, n), *(f"{k}={format(v, 'g')}" for k, v in values[n].items())]): pen
            for n, pen in penalties.items()}
for message in skipped:
    st.warning(message)

if not labelled:
    st.info("Choose at least one penalty.")
    st.stop()

st.plotly_chart(penalty_plot(labelled, t), key="l:plot", width="stretch")

# The dead zone and the shrink of a big γ, read off the prox map itself.
x = np.linspace(0, 3, 3001)
cols = st.columns(len(labelled))
for col, (name, pen) in zip(cols, labelled.items()):
    _, prox = penalty_curves(pen, t, x)
    dead = float(x[prox == 0].max()) if (prox == 0).any() else 0.0
    shrink = 1.0 - float(np.interp(1.0, x, prox))
    col.metric(name, f"0 below {dead:.3g}", f"γ = 1 loses {shrink:.3g}", delta_color="off", delta_arrow="off",
               help="dead zone of the prox map (set exactly to 0) and how much a γ of 1 shrinks in one step")

st.subheader("Subgradient against proximal steps, on the same γ")
race_name = st.selectbox("penalty", list(labelled), key="l:race")
race_steps = st.slider("steps", 10, 300, 100, step=10, key="l:race_n")
targets = toy_targets(12)
paths = mode_race(labelled[race_name], t, race_steps, np.ones(12), targets, lr=0.5)
st.plotly_chart(mode_race_plot(paths, targets), key="l:race_plot", width="stretch")
st.caption(
    "Twelve γ start where a BN layer starts (1). A toy data term ½(γ − c)² holds six of them up (c = 1) and lets "
    "six go (c = 0); each step is the data step (lr 0.5) and then the penalty's step with the t above. "
    "**Subgradient** (network slimming's update, −t·R′(γ)) overshoots zero and oscillates around it, so no γ is "
    "ever exactly 0 and pruning must guess a threshold. **Proximal** (prox_t after the data step) lands inside the "
    "dead zone and stays at exactly 0. The useful γ settle below 1 by the penalty's bias: ℓ1 shrinks them by "
    "t/lr, Tℓ1 and ℓp much less.")

st.subheader("Many steps on a set of γ")
runs = [r for r in jobs.model_runs(get_store()) if r["status"] == "finished" and r["layers"]]
FRESH, SPREAD = "a fresh BN layer (every γ = 1)", "2,000 γ spread as |N(0.5, 0.3)|"
sources = {FRESH: None, SPREAD: None, **{f"γ of my run {legend_label(r)} (its last snapshot)": r for r in runs}}
source = st.selectbox("start from", list(sources), key="l:source",
                      help="a run's γ and its real step t = λ·lr / (1 − β) instead of the slider's")
run = sources[source]
if run is not None:
    snaps = get_store().snapshots(run["id"])
    start = np.abs(np.asarray(snaps[-1]["gamma"], dtype=np.float64)) if snaps else np.ones(1)
    step_t, scale = run_step(run["config"]), 1.0
    st.caption(f"This run trained with {run['config']['penalty']} λ = {run['config']['lam']:g}, lr = "
               f"{run['config']['lr']:g}, momentum {run['config'].get('momentum', 0.9):g}: its step is t = "
               f"{step_t:.3g}" + (f", {t / step_t:.0f} times smaller than the slider's {t:g}." if 0 < step_t < t
                                   else "."))
else:
    start = np.ones(2000) if source == FRESH else np.abs(np.random.default_rng(0).normal(0.5, 0.3, 2000))
    step_t, scale = t, 10.0
steps = st.slider("proximal steps", 0, 500 if run is not None else 50, 10, key="l:n",
                  help="apply the prox map this many times (no loss gradient)")
series = {"start": start}
for name, pen in labelled.items():
    g = start
    for _ in range(steps):
        g = penalty_curves(pen, step_t / scale, g)[1]
    series[f"{name}: {np.mean(g == 0):.0%} zero"] = g
st.plotly_chart(gamma_overlay(series, title=f"|γ| after {steps} proximal steps of t = {step_t / scale:.3g}"),
                key="l:overlay", width="stretch")
st.caption("Without the loss pulling useful channels back, every penalty eventually zeroes everything; in "
           "training the data gradient holds the important γ up, and the penalty decides how cleanly the rest "
           "fall to 0." + (" Steps here use t/10." if run is None else " Steps here use the run's own t."))

st.subheader("ISTA's γ–W rescaling and TPP's decorrelation, shown")
left, right = st.columns(2)
with left:
    races = ista_rescaling_race([1.0, 0.5, 0.25])
    st.plotly_chart(rescaling_plot(races), key="l:ista", width="stretch")
    st.caption("Ye et al. multiply every γ and β by α and divide the layers that read them by α: ReLU is positively "
               "homogeneous, so the network computes the same function (largest output change here: "
               f"{max(r.output_change for r in races):.1g}). The same soft threshold μ·λ·ρ then meets γ that start α "
               "times smaller, so they reach 0 in fewer steps. (`IstaPenalty` on a small network, no data gradient.)")
with right:
    fade = tpp_gram_fade()
    st.plotly_chart(gram_plot(fade.before, fade.after, fade.keep), key="l:tpp", width="stretch")
    st.caption("TPP picks the filters to remove at the start (smallest ℓ1 norm), then pushes every entry of the Gram "
               "matrix W Wᵀ that involves one of them to 0 and pulls their weights to 0, so the kept filters stop "
               "depending on them before the cut: their norm fell from "
               f"{fade.chosen_norm[0]:.2f} to {fade.chosen_norm[-1]:.2f}, the kept filters' stayed at "
               f"{fade.kept_norm[0]:.2f} → {fade.kept_norm[-1]:.2f} (they move only through their correlation with "
               "the chosen ones). (`TppPenalty`'s term alone, on one conv.)")

st.subheader("Why Tℓ1 and ℓp push harder toward zero than ℓ1")
st.markdown(
    """
- **ℓ1** (network slimming): R = |γ|. Its slope is the same everywhere, so *every* γ is pulled toward 0 by the
  same amount per step, big or small. Small γ do reach 0 (with the prox), but important channels are shrunk
  just as much: that bias costs accuracy, so λ has to stay small, and then few γ reach 0.
- **ℓp, 0 < p < 1**: R = |γ|^p. The slope p·|γ|^(p−1) *grows without bound* as γ → 0: the closer a γ is to 0, the
  harder it is pushed, while large γ feel a weaker pull than under ℓ1. The prox has a jump: it returns either
  0 or a value clearly away from 0, never something tiny, so channels separate into *off* and *on*.
- **Tℓ1**: R = (a+1)|γ|/(a+|γ|). Near 0 its slope is (a+1)/a, steeper than ℓ1 for any a; far from 0 it flattens
  out (R never exceeds a+1), so large γ are left almost alone. Small a makes it close to ℓ0 (count of non-zeros),
  large a close to ℓ1. Its prox zeroes a wider dead zone than ℓ1 at the same t and barely shrinks big γ, which is
  why accuracy right after pruning stays high (Bui et al. 2020). Measured here (`penalty_claims.md`, proximal
  mode, before fine-tuning): Tℓ1 53 % of the channels prunable within a point, ℓp 47 %, ℓ1 31 %: reproduced;
  in subgradient mode ℓ1 does better (48 % vs 43 %): not reproduced there.
- **ISTA** (Ye et al. 2018) is ℓ1's soft threshold with its own learning rate for γ, weighted per channel by the
  cost it carries (its map, its filter and the weights that read it), plus the γ–W rescaling that makes γ reach
  0 faster. **TPP** (Wang & Fu 2023) picks the filters to remove first and pushes their weights, γ and β and
  their correlations with the kept filters to 0.
"""
)

st.subheader("Every penalty's parameters")
st.caption("What each registered penalty takes (λ's default is the one the Train page and `slimcore train` start "
           "from), read from the penalty classes themselves.")
st.dataframe(pd.DataFrame(parameter_rows()), hide_index=True)
