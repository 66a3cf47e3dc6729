"""Benchmark: the de-identified export of 100,000 synthetic patients as Parquet, within 60 s.

    .venv/bin/python bench/export.py                 # the SQLite bench registry
    .venv/bin/python bench/export.py --database-url postgresql+psycopg://postgres@localhost:51175/bench_bulk
    .venv/bin/python bench/export.py --scale 25000 --scale 50000 --scale 100000

Three parts, each measured process by itself (wall seconds, and its own peak RSS from wait4):

1. **The command line**, what the issue's target is about: ``lupus-msc export parquet
   --deidentify`` (dates shifted) and ``--dates days``, then the identified ``export parquet``,
   each a real subprocess (start-up, imports, the keys, reading, building, de-identifying and
   writing). The first de-identified export of a registry also creates every patient's key
   (one audited transaction per batch); the benchmark says how many it found before the run.
2. **Memory as the cohort grows**: the de-identified export of the first N patients (by study
   code) for each ``--scale``, in a child process calling
   ``interop.dataset_export.export_batches`` with a
   ``limit``, so the peak RSS can be compared across cohort sizes at the same batch size.
3. **Where the time goes**: the same export of every patient in a child process with each step
   timed (keys, reading in the reader thread — overlapped with the rest —, ``dataset.build``,
   de-identification with the scrubbing of terms, appending the files, and joining the Parquet
   parts at the end).

The registry is opened without ``upgrade()`` in the children; the command line upgrades it (it
needs the keys table). The only rows the benchmark writes are the de-identification keys.
Prints its figures, ends with one line of JSON, and writes them to docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from report import (  # bench/report.py: the same measuring and reporting helpers
    DEFAULT_URL,
    JSON_MARK,
    REPORT,
    _memory_gib,
    backend_of,
    emit,
    peak_rss_mib,
    run_measured,
    shown_url,
)

MARK = "<!-- bench:export:{backend}:{edge} -->"
"""The markers around this benchmark's section of docs/performance.md, one per backend."""
TARGET_SECONDS = 60.0
CLI_RUNS = (
    ("--deidentify",),
    ("--deidentify", "--dates", "days"),
    (),
)
LOAD: list[float] = []


def keys_stored(url: str) -> int:
    from sqlalchemy import func, inspect, select

    from lupus_msc.store.database import Database
    from lupus_msc.store.models import DeidentificationKey

    database = Database(url)
    try:
        if not inspect(database.engine).has_table(DeidentificationKey.__tablename__):
            return 0
        with database.reads() as session:
            return int(session.scalar(select(func.count()).select_from(DeidentificationKey)) or 0)
    finally:
        database.dispose()


# --- child processes ----------------------------------------------------------------------------


def child_export(url: str, out: Path, limit: int | None, batch_size: int, steps: bool) -> None:
    """``export_batches`` de-identified (dates shifted), ``limit`` patients; with ``steps``, each
    step's seconds summed over the batches (the reader thread's apart: it overlaps)."""
    started = time.perf_counter()
    from lupus_msc.analytics import dataset
    from lupus_msc.interop import dataset_export as export
    from lupus_msc.store.database import Database

    seconds: dict[str, float] = {}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - begun

        return wrapper

    if steps:
        export._keys = timed("keys", export._keys)  # type: ignore[method-assign]
        export.identifying_words = timed("identifying words", export.identifying_words)  # type: ignore[method-assign]
        export._read = timed("read (reader threads)", export._read)  # type: ignore[method-assign]
        dataset.build = timed("build", dataset.build)  # type: ignore[method-assign]
        export._frames = timed("de-identify", export._frames)  # type: ignore[method-assign]
        export._Files.append = timed("append files", export._Files.append)  # type: ignore[method-assign]
        export._Files.close = timed("join Parquet parts", export._Files.close)  # type: ignore[method-assign]
    imported = time.perf_counter()
    database = Database(url)
    totals = export.export_batches(
        database, out, "parquet", cut_off=datetime.now(UTC).date(),
        dates="shift", sites=[], batch_size=batch_size, limit=limit,
    )  # fmt: skip
    database.dispose()
    emit(
        {
            "import": imported - started,
            "export": time.perf_counter() - imported,
            "seconds": seconds,
            "patients": totals.patients,
            "visits": totals.visits,
            "adverse_events": totals.adverse_events,
            "peak_rss_mib": round(peak_rss_mib(), 1),
        }
    )


# --- the parent ---------------------------------------------------------------------------------


def measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    LOAD.append(os.getloadavg()[0])
    result = run_measured(command, env=env)
    LOAD.append(os.getloadavg()[0])
    return result


def run_child(*arguments: str) -> dict[str, Any]:
    result = measured([sys.executable, __file__, "--child", *arguments])
    lines = [line for line in result["stdout"].splitlines() if line.startswith(JSON_MARK)]
    figures: dict[str, Any] = json.loads(lines[-1].removeprefix(JSON_MARK))
    figures["wall_seconds"] = result["seconds"]
    figures["process_peak_rss_mib"] = result["peak_rss_mib"]
    return figures


def cli_runs(url: str, batch_size: int, work: Path) -> list[dict[str, Any]]:
    cli = str(Path(sys.executable).with_name("lupus-msc"))
    env = {**os.environ, "LUPUS_MSC_DATABASE_URL": url}
    runs = []
    for options in CLI_RUNS:
        keys_before = keys_stored(url) if options else None
        out = work / f"cli-{len(runs)}"
        command = ["export", "parquet", *options, "--batch-size", str(batch_size), "--out"]
        result = measured([cli, *command, str(out)], env=env)
        shutil.rmtree(out, ignore_errors=True)
        shown = " ".join(["lupus-msc", *command[:-1]])
        if batch_size == BATCH_DEFAULT:
            shown = shown.replace(f" --batch-size {batch_size}", "")
        runs.append(
            {
                "command": f"{shown} DIR",
                "seconds": round(result["seconds"], 2),
                "peak_rss_mib": result["peak_rss_mib"],
                "keys_before": keys_before,
                "summary": result["stdout"].strip().split(" → ")[0],
            }
        )
        note = "" if keys_before is None else f" ({keys_before:,} keys stored before)"
        print(
            f"{shown} DIR: {result['seconds']:.1f} s, peak RSS "
            f"{result['peak_rss_mib']:,.0f} MiB{note}",
            flush=True,
        )
    return runs


def _versions() -> str:
    from importlib.metadata import version

    return f"Python {platform.python_version()}, polars {version('polars')}"


def markdown(
    url: str,
    batch_size: int,
    runs: list[dict[str, Any]],
    scales: list[dict[str, Any]],
    steps: dict[str, Any] | None,
    command: str,
) -> str:
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        MARK.format(backend=backend_of(url).lower(), edge="start"),
        f"## De-identified export at 100,000 patients (`bench/export.py`, {backend_of(url)})",
        "",
        f"Reproduce: `{command}`  ",
        f"Measured {when} on {machine}{_memory_gib()}, {_versions()}; registry "
        f"`{shown_url(url)}`; batches of {batch_size:,} patients; 1-minute load average "
        f"{min(LOAD):.1f}–{max(LOAD):.1f} around the measured processes (other sessions' work "
        "included).",
        "",
        "| command | seconds (process wall) | target | | peak RSS (MiB) | keys stored before |"
        " written |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        verdict = "met" if run["seconds"] <= TARGET_SECONDS else "**missed**"
        before = "" if run["keys_before"] is None else f"{run['keys_before']:,}"
        lines.append(
            f"| `{run['command']}` | {run['seconds']:.1f} | ≤ {TARGET_SECONDS:g} | {verdict} | "
            f"{run['peak_rss_mib']:,.0f} | {before} | {run['summary']} |"
        )
    if scales:
        lines += [
            "",
            "Memory as the cohort grows: the de-identified export (dates shifted) of the first "
            "N patients by study code, `export_batches(..., limit=N)` in a child process:",
            "",
            "| patients asked | exported | visits | seconds (process wall) | peak RSS (MiB) |",
            "|---|---|---|---|---|",
        ]
        for item in scales:
            lines.append(
                f"| {item['limit']:,} | {item['patients']:,} | {item['visits']:,} | "
                f"{item['wall_seconds']:.1f} | {item['process_peak_rss_mib']:,.0f} |"
            )
    if steps is not None:
        lines += [
            "",
            "Where the time goes: the de-identified export of every patient in a child process, "
            "each step summed over the batches. Reading runs in a thread of its own (two at once "
            "on PostgreSQL, their times summed) while the main thread builds, de-identifies and "
            "writes the previous batch, so the steps add up to more than the export:",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| interpreter and imports | {steps['import']:.1f} |",
        ]
        for name, spent in steps["seconds"].items():
            lines.append(f"| {name} | {spent:.1f} |")
        lines += [
            f"| **export (wall, after imports)** | {steps['export']:.1f} |",
            f"| peak RSS (MiB) | {steps['process_peak_rss_mib']:,.0f} |",
        ]
    lines.append(MARK.format(backend=backend_of(url).lower(), edge="end"))
    return "\n".join(lines)


def write_report(section: str, url: str) -> None:
    """``section`` in place of this benchmark's previous one (appended the first time)."""
    text = REPORT.read_text("utf-8")
    start, end = (MARK.format(backend=backend_of(url).lower(), edge=e) for e in ("start", "end"))
    previous = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if previous.search(text):
        text = previous.sub(lambda _: section, text)
    else:
        text = f"{text.rstrip()}\n\n{section}\n"
    REPORT.write_text(text, "utf-8")


BATCH_DEFAULT = 10_000


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, out, limit, batch_size, steps = sys.argv[2:7]
        child_export(
            url, Path(out), int(limit) if limit != "all" else None, int(batch_size), steps == "1"
        )
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="default %(default)s")
    parser.add_argument("--batch-size", type=int, default=BATCH_DEFAULT)
    parser.add_argument(
        "--scale", type=int, action="append", help="patients for the memory runs (repeat)"
    )
    parser.add_argument("--no-cli", action="store_true", help="leave out the command-line runs")
    parser.add_argument("--no-steps", action="store_true", help="leave out the step timings")
    parser.add_argument("--no-report", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    url = args.database_url
    scales_asked = args.scale or [25_000, 50_000, 100_000]
    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        runs = [] if args.no_cli else cli_runs(url, args.batch_size, work)
        scales = []
        for limit in scales_asked:
            out = work / f"scale-{limit}"
            figures = run_child(url, str(out), str(limit), str(args.batch_size), "0")
            figures["limit"] = limit
            shutil.rmtree(out, ignore_errors=True)
            print(
                f"first {limit:,} patients: {figures['wall_seconds']:.1f} s, peak RSS "
                f"{figures['process_peak_rss_mib']:,.0f} MiB",
                flush=True,
            )
            scales.append(figures)
        steps = None
        if not args.no_steps:
            steps = run_child(url, str(work / "steps"), "all", str(args.batch_size), "1")
            for name, spent in steps["seconds"].items():
                print(f"  {name:<22} {spent:6.1f} s")
            print(f"  export (wall)          {steps['export']:6.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = " ".join([".venv/bin/python", "bench/export.py", *sys.argv[1:]])
    if not args.no_report:
        write_report(markdown(url, args.batch_size, runs, scales, steps, command), url)
    print(
        json.dumps(
            {
                "cli": [
                    {k: run[k] for k in ("command", "seconds", "peak_rss_mib")} for run in runs
                ],
                "scales": [
                    {"limit": s["limit"], "peak_rss_mib": s["process_peak_rss_mib"]} for s in scales
                ],
                "target_seconds": TARGET_SECONDS,
                "measured": dt.datetime.now(UTC).isoformat(timespec="minutes"),
            }
        )
    )


if __name__ == "__main__":
    main()
