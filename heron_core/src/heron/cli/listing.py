"""``heron backends`` and ``heron envs``: what is installed, what is broken, and which names clash."""

from __future__ import annotations

from collections.abc import Iterable

import click
from rich.table import Table
from rich.text import Text

from heron.cli._console import console
from heron.training.plugins import IMPORT, REGISTER, NameClash, PluginRecord, get_plugin_manager, install_hint

__all__ = ["backends", "envs"]


def _print_line(text: str) -> None:
    console.print(text, markup=False, soft_wrap=True)


def _print_clashes(clashes: Iterable[NameClash]) -> None:
    clashes = list(clashes)
    if clashes:
        console.print("Name clashes:")
        for clash in clashes:
            _print_line(f"  {clash.describe()}")


def _kept_over(clashes: Iterable[NameClash], name: str) -> str:
    """``"; also offered by ..., skipped"`` for a name kept in a clash, else ``""``."""
    for clash in clashes:
        if clash.name == name:
            skipped = " and ".join(record.label() for record in clash.providers if record is not clash.kept)
            return f"; also offered by {skipped}, skipped"
    return ""


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Also list every plugin (module, distribution, hooks) and clashes.")
def backends(verbose: bool) -> None:
    """List installed backends, their algorithms and status (broken and skipped plugins included)."""
    from heron.training.registry import env_entries

    manager = get_plugin_manager()
    entries = manager.backends()
    clashes = manager.name_clashes("backend")
    table = Table(title="HERON backends")
    for column in ("backend", "distribution", "version", "algorithms"):
        table.add_column(column, no_wrap=True)
    table.add_column("status", overflow="fold")  # long errors wrap instead of being cut at the terminal width
    for name, entry in sorted(entries.items()):
        status = "ok" + _kept_over(clashes, name)
        table.add_row(name, entry.plugin.distribution, entry.plugin.version, ", ".join(entry.spec.algorithms), status)
    for clash in clashes:
        for record in clash.providers:
            if record is not clash.kept:
                status = Text.assemble(("skipped", "yellow"), f": {clash.describe()}")
                table.add_row(clash.name, record.distribution, record.version, "-", status)
    for record in manager.records.values():
        if not record.ok:
            status = Text.assemble(("broken", "red"), f": {record.error}")
            table.add_row(record.name, record.distribution, record.version, "-", status)
    console.print(table)
    if not entries:
        console.print(f"No working backend. Install one: {install_hint('manual')}", markup=False)
    if verbose:
        env_entries()  # so that environment and command clashes are known too
        root = click.get_current_context().find_root()
        if isinstance(root.command, click.Group):
            root.command.list_commands(root)
        console.print("Plugins (entry-point group 'heron'):")
        for record in sorted(manager.records.values(), key=lambda record: record.name):
            _print_line(_plugin_line(record))
        _print_clashes(manager.name_clashes())


def _plugin_line(record: PluginRecord) -> str:
    line = (f"  {record.name}: module {record.module} from {record.distribution} {record.version}"
            f"{' (built in)' if record.builtin else ''}; hooks: {', '.join(record.hooks) or 'none'}")
    return line if record.ok else f"{line}; error: {record.error}"


@click.command()
@click.option("--verbose", "-v", is_flag=True, help="Also list each environment's arguments with their defaults.")
def envs(verbose: bool) -> None:
    """List registered environments, the plugins providing them, and clashing or broken environment plugins."""
    from heron.training.registry import env_entries

    manager = get_plugin_manager()
    entries = env_entries()
    table = Table(title="HERON environments")
    for column in ("name", "provided by", "description"):
        table.add_column(column, overflow="fold")
    for name, (spec, record) in sorted(entries.items()):
        provider = "register_env() in this process" if record is None else record.label()
        table.add_row(name, provider, spec.description)
    console.print(table)
    if verbose:
        for name, (spec, _record) in sorted(entries.items()):
            arguments = spec.arguments()
            _print_line(f"{name} arguments:{'' if arguments else ' none'}")
            for argument in arguments.values():
                _print_line(f"  {argument}{'  ' + argument.help if argument.help else ''}")
    _print_clashes(manager.name_clashes("environment"))
    broken = [record for record in manager.records.values() if {IMPORT, REGISTER, "heron_envs"} & set(record.errors)]
    if broken:
        console.print("Broken plugins (they may have provided environments):")
        for record in broken:
            _print_line(f"  {record.label()}: {record.error}")
