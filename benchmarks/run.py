"""Run the benchmarks of the project and write one Markdown report.

    python benchmarks/run.py [--quick] [--out benchmarks/REPORT.md] [--only env_step ...]

Each benchmark module exposes ``report(quick) -> str``, a section starting with its ``## `` heading; a
benchmark whose backend is not installed is reported as skipped with the reason. Every section carries
the date it was measured. With ``--only``, the sections of the benchmarks run replace their namesakes
in an existing report and the others are kept.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
from pathlib import Path

from common import machine

from heron.cli import fix_hash_seed

HERE = Path(__file__).resolve().parent

BENCHMARKS = ["env_step", "event_driven", "manual_train", "rllib_adaptor", "rllib_train", "rule_of_thumb", "scale"]
TITLE = "# HERON benchmark report"


def sections_of(report: str) -> dict[str, str]:
    """``{heading line: section text}`` of a report, in order (the title and its paragraph are left out)."""
    parts = re.split(r"^(?=## )", report, flags=re.MULTILINE)
    return {part.splitlines()[0]: part.strip() for part in parts if part.startswith("## ")}


def dated(section: str, day: str) -> str:
    """``section`` with a ``Measured <day>.`` line under its heading."""
    heading, _, body = section.partition("\n")
    return f"{heading}\n\nMeasured {day}.\n{body}"


def main() -> None:
    fix_hash_seed()  # RLlib results repeat run to run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets (a smoke run, not for the README)")
    parser.add_argument("--out", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run these and keep the other sections")
    args = parser.parse_args()
    kept = sections_of(args.out.read_text()) if args.only and args.out.exists() else {}
    day = time.strftime("%Y-%m-%d")
    for name in args.only or BENCHMARKS:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # its backend is not installed
            section = f"## {name}\n\nSkipped: {exc}.\n"
        else:
            section = module.report(args.quick)
        kept[section.splitlines()[0]] = dated(section.strip(), day)
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    text = "\n\n".join([f"{TITLE}\n\nMachine: {machine()}. Each section gives the day it was measured.",
                        *kept.values()]) + "\n"
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
