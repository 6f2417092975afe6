"""What every ``heron`` command shares: the console it prints to, a choice type that suggests the closest value."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from heron.utils.hints import did_you_mean

console = Console()


class HintedChoice(click.Choice):
    """A :class:`click.Choice` whose error for a misspelt value adds "did you mean ...?"."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            hint = did_you_mean(value, self.choices)
            if hint:
                exc.message = exc.message.removesuffix(".") + hint
            raise
