"""Benchmark: rescoring a whole registry with the batch engine, against per-record scoring.

    .venv/bin/python bench/score_batch.py                   # 10 million visits (~200,000 patients)
    .venv/bin/python bench/score_batch.py --visits 1000000  # a quicker run

Generates a synthetic visit table (not timed), times `score_visits` over all of it (validation,
preparation and every per-visit and longitudinal instrument), then times the single-record
scorers called once per visit and instrument on a sample (the way public calculators and EDC
plug-ins score), the way a caller would: validate the JSON-like input, then score. Prints its
figures, ends with one line of JSON, and writes them to docs/performance.md.

Targets (issue "Batch engine …"): ≤ 5 s for 10 million visits, ≥ 100× faster per visit than the
per-record path, peak memory within 8 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from lupus_msc.clinical.batch import engine
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.clinical.common import Instrument
from lupus_msc.scoring.registry import INSTRUMENTS
from lupus_msc.synth.visits import generate_visits, patients_for

VISITS_PER_PATIENT = 50
TARGET_SECONDS = 5.0
TARGET_SPEEDUP = 100.0
TARGET_RSS_MIB = 8 * 1024
REPORT = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
START, END = "<!-- bench:score_batch:start -->", "<!-- bench:score_batch:end -->"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_record_calls(scored: pl.DataFrame) -> list[tuple[Instrument[Any, Any], dict[str, Any]]]:
    """Every (instrument, input) a per-record scorer would be called with, for these visits."""
    calls = []
    for row in scored.iter_rows(named=True):
        for module, name in engine.PER_RECORD:
            payload = module.single_record_input(row)
            if payload is not None:
                calls.append((INSTRUMENTS[name], payload))
    return calls


def time_per_record(calls: list[tuple[Instrument[Any, Any], dict[str, Any]]]) -> float:
    started = time.perf_counter()
    for instrument, payload in calls:
        instrument.score(instrument.input_model.model_validate(payload))
    return time.perf_counter() - started


def run(visits: int, sample: int, seed: int) -> dict[str, Any]:
    patients = patients_for(visits, visits_per_patient=VISITS_PER_PATIENT)
    started = time.perf_counter()
    table = generate_visits(patients, seed=seed, visits_per_patient=VISITS_PER_PATIENT).head(visits)
    generated = time.perf_counter() - started
    rows = table.height
    print(f"generated {rows:,} visits of {patients:,} patients in {generated:.1f} s")

    stage_seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        stage_seconds[name] = stage_seconds.get(name, 0.0) + now - clock[0]
        clock[0] = now

    started = time.perf_counter()
    prepared = prepare(table)
    del table  # the prepared table holds everything scoring needs
    lap("validate and prepare")
    scored = engine.score_prepared(prepared, on_stage=lap)
    seconds = time.perf_counter() - started
    for name, spent in stage_seconds.items():
        print(f"  {name:<24} {spent:6.2f} s")
    print(f"batch: {rows:,} visits in {seconds:.2f} s")

    sampled = scored.sample(n=min(sample, scored.height), seed=seed)
    calls = per_record_calls(sampled)
    per_record = time_per_record(calls)
    per_visit_record = per_record / sampled.height
    per_visit_batch = seconds / rows
    print(f"per-record: {len(calls):,} calls for {sampled.height:,} visits in {per_record:.1f} s")
    return {
        "visits": rows,
        "seconds": round(seconds, 3),
        "per_record_seconds_per_visit": per_visit_record,
        "speedup": round(per_visit_record / per_visit_batch, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "stages": {name: round(spent, 3) for name, spent in stage_seconds.items()},
        "generate_seconds": round(generated, 1),
        "per_record_sample": sampled.height,
    }


def markdown(figures: dict[str, Any], command: str) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    seconds_target = TARGET_SECONDS * figures["visits"] / 10_000_000
    rows = [
        ("visits scored", f"{figures['visits']:,}", "10,000,000", ""),
        (
            "batch seconds (all instruments)",
            f"{figures['seconds']:.2f}",
            f"≤ {seconds_target:g}",
            verdict(figures["seconds"] <= seconds_target),
        ),
        (
            "per-record seconds per visit",
            f"{figures['per_record_seconds_per_visit']:.2e}",
            "",
            f"sample of {figures['per_record_sample']:,} visits",
        ),
        (
            "speed-up per visit",
            f"{figures['speedup']:,}×",
            f"≥ {TARGET_SPEEDUP:g}×",
            verdict(figures["speedup"] >= TARGET_SPEEDUP),
        ),
        (
            "peak RSS (MiB)",
            f"{figures['peak_rss_mib']:,}",
            f"≤ {TARGET_RSS_MIB:,}",
            verdict(figures["peak_rss_mib"] <= TARGET_RSS_MIB),
        ),
    ]
    table = ["| figure | measured | target | |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    stages = ["| stage | seconds |", "|---|---|"]
    stages += [f"| {name} | {spent:.2f} |" for name, spent in figures["stages"].items()]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            START,
            "## Batch scoring (`bench/score_batch.py`)",
            "",
            f"Reproduce: `{command}`  ",
            f"Measured {when} on {machine}, polars {pl.__version__}, Python "
            f"{platform.python_version()}. Synthetic table generated in "
            f"{figures['generate_seconds']} s (not timed).",
            "",
            *table,
            "",
            *stages,
            END,
        ]
    )


def write_report(section: str) -> None:
    text = REPORT.read_text("utf-8") if REPORT.exists() else "# Performance\n"
    if START in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=100_000, help="per-record sample size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-report", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    figures = run(args.visits, args.sample, args.seed)
    if not args.no_report:
        write_report(markdown(figures, " ".join([".venv/bin/python", *sys.argv])))
    print(
        json.dumps(
            {
                key: figures[key]
                for key in (
                    "visits",
                    "seconds",
                    "per_record_seconds_per_visit",
                    "speedup",
                    "peak_rss_mib",
                )
            }
        )
    )


if __name__ == "__main__":
    main()
