"""The portable policy format: numpy MLP policies in a pickle-free, versioned checkpoint.

Any backend can export its trained policies here; loading needs numpy only.
"""

from heron.portable.checkpoint import PolicyCheckpoint, load_checkpoint, load_policies, save_checkpoint
from heron.portable.mlp import ActionHead, MLPNetwork, MLPPolicy

__all__ = [
    "ActionHead",
    "MLPNetwork",
    "MLPPolicy",
    "PolicyCheckpoint",
    "load_checkpoint",
    "load_policies",
    "save_checkpoint",
]
