"""Run every benchmark of the project and write one Markdown report.

    python benchmarks/run.py [--quick] [--out benchmarks/REPORT.md] [--only env_step ...]

Each benchmark module exposes ``report(quick) -> str``; a benchmark whose
backend is not installed is reported as skipped with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from common import machine

from heron.cli import fix_hash_seed

HERE = Path(__file__).resolve().parent

BENCHMARKS = ["env_step", "event_driven", "manual_train", "rllib_adaptor", "rllib_train"]


def main() -> None:
    fix_hash_seed()  # RLlib results repeat run to run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budgets (a smoke run, not for the README)")
    parser.add_argument("--out", type=Path, default=HERE / "REPORT.md")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, default=BENCHMARKS)
    args = parser.parse_args()
    sections = [f"# HERON benchmark report\n\nMeasured {time.strftime('%Y-%m-%d')} on {machine()}."]
    for name in args.only:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            sections.append(f"## {name}\n\nSkipped: {exc}.\n")
            continue
        sections.append(module.report(args.quick))
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    text = "\n\n".join(sections) + "\n"
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
