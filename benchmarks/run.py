"""Run the benchmarks and print one table each (and a summary of targets).

    python -m benchmarks.run                 # full mode (~10-15 min on 2 cores)
    python -m benchmarks.run --quick         # fewer turns / repeats (< ~4 min)
    python -m benchmarks.run --only fanout --only scaling
    python -m benchmarks.run --only turn_overhead --profile   # pyinstrument report in benchmarks/profiles/
    python -m benchmarks.run --quick --markdown benchmarks/results.md

Needs Redis on 127.0.0.1:6379 (DB 9 by default, `IDEAFORGE_BENCH_REDIS_URL` to change; only that DB
is flushed). The fake model runs as a separate process; workers run as child processes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import ROOT, Options, Result, flush_bench_db

BENCHMARKS = [
    "turn_overhead",
    "queue_vs_inprocess",
    "fanout",
    "scaling",
    "context_growth",
    "redis_cost",
]
PROFILE_DIR = ROOT / "benchmarks" / "profiles"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, commit {commit or '?'}"
    )


def show(console: Console, result: Result) -> None:
    table = Table(title=f"{result.title}  [{result.seconds:.0f} s]", title_justify="left")
    for col in result.columns:
        table.add_column(col, overflow="fold")
    for row in result.rows:
        table.add_row(*(str(c) for c in row))
    console.print(table)
    for check in result.checks:
        mark = {True: "[green]PASS[/]", False: "[red]MISS[/]", None: "[cyan]INFO[/]"}[check.ok]
        console.print(f"  {mark} {check.what}: {check.measured} (target {check.target})")
    for note in result.notes:
        console.print(f"  [dim]{note}[/]")
    console.print()


def markdown(result: Result) -> str:
    lines = [f"### {result.title}", ""]
    lines.append("| " + " | ".join(result.columns) + " |")
    lines.append("|" + "---|" * len(result.columns))
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in result.rows]
    lines.append("")
    for check in result.checks:
        mark = {True: "PASS", False: "MISS", None: "INFO"}[check.ok]
        lines.append(f"- **{mark}** {check.what}: {check.measured} (target {check.target})")
    for note in result.notes:
        lines.append(f"- {note}")
    lines.append("")
    return "\n".join(lines)


def run_one(name: str, opts: Options) -> Result:
    module = importlib.import_module(f"benchmarks.{name}")
    if not opts.profile:
        return module.run(opts)  # type: ignore[no-any-return]
    from pyinstrument import Profiler

    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        result: Result = module.run(opts)
    finally:
        profiler.stop()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        html = PROFILE_DIR / f"{name}-{stamp}.html"
        text = PROFILE_DIR / f"{name}-{stamp}.txt"
        html.write_text(profiler.output_html())
        text.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"profile written: {html} and {text}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns and repeats (< ~4 min)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this one (repeatable)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run under pyinstrument (turns run in-process so the profile sees them); writes HTML + text",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args(argv)
    opts = Options(quick=args.quick, profile=args.profile)
    console = Console()
    header = f"machine: {machine()}\ncommand: python -m benchmarks.run {' '.join(argv or sys.argv[1:])}"
    console.print(header + "\n")
    results: list[Result] = []
    try:
        for name in args.only or BENCHMARKS:
            started = time.time()
            result = run_one(name, opts)
            result.seconds = time.time() - started
            results.append(result)
            show(console, result)
    finally:
        flush_bench_db()
    if args.markdown:
        args.markdown.write_text(
            "\n".join(
                [
                    f"Machine: {machine()}",
                    "",
                    f"Command: `python -m benchmarks.run {' '.join(argv or sys.argv[1:])}`",
                    "",
                ]
                + [markdown(r) for r in results]
            )
        )
    missed = [c for r in results for c in r.checks if c.ok is False]
    console.print(f"{len(results)} benchmarks, {len(missed)} targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
