"""The run store: one SQLite file (WAL) plus per-run folders for checkpoints and artifacts."""
from slimcore.store.runs import RunStore, default_runs_dir, validate_run_id
from slimcore.store.checkpoints import save_checkpoint, load_checkpoint

__all__ = ["RunStore", "default_runs_dir", "validate_run_id", "save_checkpoint", "load_checkpoint"]
