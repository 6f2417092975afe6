"""Run folders: what ``heron train`` writes (metrics CSV, learning curves, config, checkpoints)."""

from heron.runs.folder import new_run_dir, plot_learning_curves, write_metrics_csv

__all__ = ["new_run_dir", "plot_learning_curves", "write_metrics_csv"]
