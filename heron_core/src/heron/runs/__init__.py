"""Run folders: what ``heron train`` writes (config, metrics CSV, TensorBoard events, learning curves,
versioned checkpoints)."""

from heron.runs.checkpoints import CheckpointSlot
from heron.runs.folder import new_run_dir, read_run_config, write_run_config
from heron.runs.metrics import MetricsLog, read_returns
from heron.runs.plots import plot_learning_curves
from heron.runs.tensorboard import TensorBoardLog

__all__ = [
    "CheckpointSlot",
    "MetricsLog",
    "TensorBoardLog",
    "new_run_dir",
    "plot_learning_curves",
    "read_returns",
    "read_run_config",
    "write_run_config",
]
