"""What a backend declares about itself: :class:`BackendSpec`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from heron.core.errors import BackendError

if TYPE_CHECKING:
    from heron.core.policies import Policy
    from heron.training.experiment import ExperimentSpec, Trainer

__all__ = ["BackendSpec"]


@dataclass(frozen=True)
class BackendSpec:
    """A training backend, as returned by the ``heron_backends`` hook.

    Attributes:
        name: the name users select it by (``--backend NAME``).
        algorithms: the algorithms it trains, e.g. ``("ippo", "mappo")``.
        make_trainer: builds a :class:`~heron.training.experiment.Trainer` for a spec.
        load_policies: loads ``{agent_id: Policy}`` from a directory its
            trainers' ``save`` wrote.
        description: one line for ``heron backends``.
    """

    name: str
    algorithms: tuple[str, ...]
    make_trainer: Callable[[ExperimentSpec], Trainer]
    load_policies: Callable[[Path], Mapping[str, Policy]]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise BackendError(f"backend name must be an identifier-like string, got {self.name!r}")
        if not self.algorithms or not all(isinstance(a, str) and a for a in self.algorithms):
            raise BackendError(f"backend {self.name!r}: algorithms must be a non-empty tuple of names")
        if not callable(self.make_trainer) or not callable(self.load_policies):
            raise BackendError(f"backend {self.name!r}: make_trainer and load_policies must be callable")
