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
            trainers' ``save`` wrote. It must read data only (JSON, pickle-free
            arrays) and never run code from the directory: run folders are shared.
        description: one line for ``heron backends``.
        load_pickled: optional; loads from the backend's own pickled format, which
            can run code from the directory. Used only when the user opts in
            (``heron evaluate --allow-pickle``).
    """

    name: str
    algorithms: tuple[str, ...]
    make_trainer: Callable[[ExperimentSpec], Trainer]
    load_policies: Callable[[Path], Mapping[str, Policy]]
    description: str = ""
    load_pickled: Callable[[Path], Mapping[str, Policy]] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise BackendError(f"backend name must be an identifier-like string, got {self.name!r}")
        if not self.algorithms or not all(isinstance(a, str) and a for a in self.algorithms):
            raise BackendError(f"backend {self.name!r}: algorithms must be a non-empty tuple of names")
        if not callable(self.make_trainer) or not callable(self.load_policies):
            raise BackendError(f"backend {self.name!r}: make_trainer and load_policies must be callable")
        if self.load_pickled is not None and not callable(self.load_pickled):
            raise BackendError(f"backend {self.name!r}: load_pickled must be callable or None")
