"""``heron backends`` and ``heron envs``: what is installed."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from heron.cli._console import console
from heron.training.plugins import get_plugin_manager

__all__ = ["backends", "envs"]


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Also list every plugin: its module, distribution and hooks.")
def backends(verbose: bool) -> None:
    """List installed backends, their algorithms and status (broken plugins included)."""
    manager = get_plugin_manager()
    entries = manager.backends()
    table = Table(title="HERON backends")
    for column in ("backend", "distribution", "version", "algorithms"):
        table.add_column(column, no_wrap=True)
    table.add_column("status", overflow="fold")  # long errors wrap instead of being cut at the terminal width
    for name, entry in sorted(entries.items()):
        table.add_row(name, entry.plugin.distribution, entry.plugin.version, ", ".join(entry.spec.algorithms), "ok")
    for record in manager.records.values():
        if not record.ok:
            status = Text.assemble(("broken", "red"), f": {record.error}")
            table.add_row(record.name, record.distribution, record.version, "-", status)
    console.print(table)
    if not entries:
        console.print("No working backend. Install one: pip install ./heron_backend_manual")
    if verbose:
        console.print("Plugins (entry-point group 'heron'):")
        for record in sorted(manager.records.values(), key=lambda record: record.name):
            line = (f"  {record.name}: module {record.module} from {record.distribution} {record.version}; "
                    f"hooks: {', '.join(record.hooks) or 'none'}")
            console.print(line if record.ok else f"{line}; error: {record.error}", markup=False, soft_wrap=True)


@click.command()
def envs() -> None:
    """List registered environments."""
    from heron.training.registry import env_specs

    table = Table(title="HERON environments")
    table.add_column("name")
    table.add_column("description")
    for name, spec in sorted(env_specs().items()):
        table.add_row(name, spec.description)
    console.print(table)
