"""slimcore studio: the landing page (`streamlit run app.py`); the pages/ folder holds the four steps."""
import streamlit as st

from app_support.layout import page_setup
from app_support.runs import age
from app_support.store import device_summary, get_store

page_setup("Home")
store = get_store()

st.title("slimcore: channel-pruning studio")
st.markdown(
    "Make a CNN smaller by removing whole channels. Training adds a sparsity penalty to every BatchNorm "
    "scale **γ**; a channel whose γ is (near) zero contributes little and can be cut. One global threshold "
    "over all |γ| then trades accuracy against FLOPs, and the pruned network is exported as a real, smaller "
    "model (ONNX and PyTorch)."
)

st.subheader("Four steps")
steps = [
    ("pages/1_Train.py", "1 · Train", "choose data set, model and penalty (ℓ1, ℓp, Tℓ1, ISTA, TPP) and watch the "
     "γ histograms move while the job runs in the background."),
    ("pages/2_Prune.py", "2 · Prune", "slide one threshold over the ranking (BN γ, LeGR, ℓ1-norm): accuracy, FLOPs "
     "and per-layer widths follow instantly; commit, fine-tune, download."),
    ("pages/3_Runs.py", "3 · Runs", "compare runs: a table of every run, their γ distributions and trade-off "
     "curves overlaid; evaluate an uploaded model.pt."),
    ("pages/4_Learn.py", "4 · Learn", "see each penalty R(x) and its proximal map, and why Tℓ1 and ℓp push "
     "γ to zero harder than ℓ1."),
]
for page, label, text in steps:
    c1, c2 = st.columns([1, 5], vertical_alignment="center")
    c1.page_link(page, label=label)
    c2.markdown(text)

st.subheader("This machine")
runs = store.list_runs()
c1, c2, c3 = st.columns(3)
c1.metric("device", "GPU" if "GPU:" in device_summary() else "CPU")
c2.metric("runs in the store", len(runs))
c3.metric("latest run", age(runs[0]["created"]) if runs else "none yet")
st.caption(f"{device_summary()}. Runs are kept in `{store.root}` (set SLIMCORE_RUNS_DIR to use another folder); "
           "training jobs keep running if this app is closed, and re-attach when it is opened again.")
