"""Benchmark: the program outcomes report for 100,000 synthetic patients, PDF within 60 s.

    .venv/bin/python bench/report.py                # export from the SQLite bench registry, reports
    .venv/bin/python bench/report.py --skip-export  # reports only, from the dataset exported before
    .venv/bin/python bench/report.py --database-url sqlite:////work/benchdata/bulk-100000.sqlite3 \\
        --database-url postgresql+psycopg://postgres@localhost:51175/bench_bulk   # both registries

Registry-wide analytics read columnar exports (DESIGN.md), so the benchmark has two parts:

1. **Export, once per data cut-off** (what ``lupus-msc report dataset --format parquet`` runs):
   ``read_registry`` in one read-only session, ``dataset.build`` (scoring with the batch engine
   and every derived outcome) and writing the Parquet files, in a child process so its peak RSS
   is its own; then, in a second child (``--no-read-split`` leaves it out), each of the six
   reads ``read_registry`` makes timed by itself. The registry is opened without ``upgrade()``:
   the benchmark never migrates it. The first ``--database-url`` writes ``--dataset-dir`` (and its
   figures to ``bench-export.json`` there, which ``--skip-export`` shows again); a further URL
   exports to a temporary directory, is compared frame by frame with the first, and removed.
2. **Reports from that dataset**, what the 60 s target is about: ``lupus-msc report outcomes
   --dataset DIR --format pdf`` as a real subprocess (interpreter start-up, imports, reading
   the Parquet files, the analyses, HTML and PDF), ``--repeat`` times; the same with ``--format
   html``; ``report safety`` as HTML and (once: it lists every infusion reaction) as PDF. Then the
   same functions in a child process, step by step: ``outcomes_report(..., on_step=...)``
   (baseline, outcomes, strata, survival, changes, safety, evidence, figures), the HTML render
   and the PDF, split into WeasyPrint's layout (``HTML.render``) and writing
   (``Document.write_pdf``), which together are ``report_render.to_pdf``.

Prints its figures, ends with one line of JSON, and writes them to docs/performance.md.
Target (issue 7): ``report outcomes --format pdf`` for 100,000 patients within 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:report:start -->", "<!-- bench:report:end -->"
DEFAULT_URL = f"sqlite:///{ROOT.parent / 'benchdata' / 'bulk-100000.sqlite3'}"
DEFAULT_DATASET = ROOT.parent / "benchdata" / "report-dataset"
EXPORT_FIGURES = "bench-export.json"
TARGET_SECONDS = 60.0
JSON_MARK = "bench-json: "
READS = ("patients", "screenings", "infusions", "visits", "medications", "adverse_events")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_of(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def shown_url(url: str) -> str:
    """The URL without a password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class Laps:
    """Seconds per named step, each from the end of the previous one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.clock
        self.clock = now


def emit(figures: dict[str, Any]) -> None:
    print(JSON_MARK + json.dumps(figures), flush=True)


# --- child processes (each measured piece runs in its own process: its own peak RSS) ----------


def child_export(url: str, out: Path, as_of: dt.date) -> None:
    """The export, as ``lupus-msc report dataset --format parquet`` makes it, step by step."""
    laps = Laps()
    from sqlalchemy import func, select

    from lupus_msc.analytics import registry_extract as extract
    from lupus_msc.analytics.dataset import build
    from lupus_msc.store.database import Database
    from lupus_msc.store.models import AdverseEvent, Patient, Visit

    laps("import")
    database = Database(url)  # no upgrade(): the benchmark does not migrate the registry
    with database.reads() as session:  # as the command does: one read-only session
        tables = extract.read_registry(session)
    laps("read")
    read_rows = {name: getattr(tables, name).height for name in READS}
    data = build(tables, as_of)
    laps("build")
    del tables
    data.write(out, "parquet")
    laps("write")
    peak = peak_rss_mib()
    with database.reads() as session:  # not timed: the registry's size, for the report
        registry = {
            "patients": session.scalar(select(func.count()).select_from(Patient)),
            "visits": session.scalar(select(func.count()).select_from(Visit)),
            "adverse_events": session.scalar(select(func.count()).select_from(AdverseEvent)),
        }
    database.dispose()
    emit(
        {
            "backend": backend_of(url),
            "url": shown_url(url),
            "as_of": as_of.isoformat(),
            "seconds": laps.seconds,
            "read_rows": read_rows,
            "peak_rss_mib": round(peak, 1),
            "registry": registry,
            "dataset": {
                "patients": data.patients.height,
                "visits": data.visits.height,
                "adverse_events": data.adverse_events.height,
            },
        }
    )


def child_read_split(url: str) -> None:
    """Each of ``read_registry``'s six reads timed by itself (a second pass, registry warm)."""
    from lupus_msc.analytics import registry_extract as extract
    from lupus_msc.store.database import Database

    database = Database(url)
    readers: dict[str, Callable[[Any], Any]] = {
        "patients": lambda session: extract.read_patients(session, None),
        "screenings": extract.read_screenings,
        "infusions": extract.read_infusions,
        "visits": extract.read_visits,
        "medications": extract.read_medications,
        "adverse_events": extract.read_adverse_events,
    }
    seconds = {}
    with database.reads() as session:
        for name, reader in readers.items():
            started = time.perf_counter()
            reader(session)
            seconds[name] = time.perf_counter() - started
    database.dispose()
    emit({"seconds": seconds})


def child_outcomes(dataset_dir: Path, out_dir: Path) -> None:
    """``lupus-msc report outcomes --dataset DIR --format pdf``, step by step, in this process."""
    laps = Laps()
    from weasyprint import HTML

    from lupus_msc.analytics.cohort_filter import CohortFilter, select
    from lupus_msc.analytics.dataset import AnalysisDataset
    from lupus_msc.analytics.report_outcomes import outcomes_report
    from lupus_msc.analytics.report_render import outcomes_html

    laps("import")
    chosen = CohortFilter()
    data = AnalysisDataset.read(dataset_dir)
    laps("read dataset")
    data = select(data, chosen)
    laps("cohort filter")
    report = outcomes_report(data, cohort=chosen, on_step=laps)
    html = outcomes_html(report)
    laps("HTML render")
    (out_dir / "outcomes-steps.html").write_text(html, encoding="utf-8")
    laps("HTML write")
    document = HTML(string=html).render()
    laps("PDF layout")
    (out_dir / "outcomes-steps.pdf").write_bytes(document.write_pdf())
    laps("PDF write")
    emit({"seconds": laps.seconds, "peak_rss_mib": round(peak_rss_mib(), 1)})


def child_safety(dataset_dir: Path, out_dir: Path, pdf: bool) -> None:
    """``lupus-msc report safety --dataset DIR --format pdf``, step by step, in this process."""
    laps = Laps()
    from weasyprint import HTML

    from lupus_msc.analytics.cohort_filter import CohortFilter, select
    from lupus_msc.analytics.dataset import AnalysisDataset
    from lupus_msc.analytics.report_render import safety_html
    from lupus_msc.analytics.report_safety import safety_report

    laps("import")
    chosen = CohortFilter()
    data = AnalysisDataset.read(dataset_dir)
    laps("read dataset")
    data = select(data, chosen)
    laps("cohort filter")
    report = safety_report(data, cohort=chosen)
    laps("safety report")
    html = safety_html(report)
    laps("HTML render")
    (out_dir / "safety-steps.html").write_text(html, encoding="utf-8")
    laps("HTML write")
    if pdf:
        document = HTML(string=html).render()
        laps("PDF layout")
        (out_dir / "safety-steps.pdf").write_bytes(document.write_pdf())
        laps("PDF write")
    emit(
        {
            "seconds": laps.seconds,
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "listed": {
                "serious": len(report.serious),
                "infusion_reactions": len(report.infusion_reactions),
            },
        }
    )


# --- the parent: runs the children and the command line, collects, writes ---------------------


LOAD: list[float] = []
"""The 1-minute load average before each measured process: other work on the machine."""


def run_measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command``; its wall seconds, its own peak RSS (wait4) and its output."""
    LOAD.append(os.getloadavg()[0])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        LOAD.append(os.getloadavg()[0])
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        sys.stderr.write(stderr)
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return {
        "seconds": seconds,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "stdout": stdout,
    }


def run_child(*arguments: str) -> dict[str, Any]:
    """This script in a child process (``--child ...``); its JSON figures, wall and peak RSS."""
    result = run_measured([sys.executable, __file__, "--child", *arguments])
    lines = [line for line in result["stdout"].splitlines() if line.startswith(JSON_MARK)]
    figures: dict[str, Any] = json.loads(lines[-1].removeprefix(JSON_MARK))
    figures["wall_seconds"] = result["seconds"]
    return figures


def pdf_pages(path: Path) -> int | None:
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    return int(found.group(1)) if found else None


def same_dataset(first: Path, second: Path) -> str:
    """Whether two exports hold the same frames (row order included), and if not, how far."""
    from lupus_msc.analytics.dataset import FRAMES, AnalysisDataset

    one, other = AnalysisDataset.read(first), AnalysisDataset.read(second)
    shapes, values = [], []
    for name in FRAMES:
        left, right = getattr(one, name), getattr(other, name)
        if left.shape != right.shape:
            shapes.append(f"{name} {left.height:,} vs {right.height:,} rows")
        elif not left.equals(right):
            columns = [column for column in left.columns if not left[column].equals(right[column])]
            values.append(f"{name} ({len(columns)} of {left.width} columns)")
    if not shapes and not values and one.notes == other.notes:
        return "identical to the first"
    if shapes:
        return "differs from the first: " + "; ".join(shapes)
    return "same rows as the first; values differ in " + ", ".join(values)


def export(args: argparse.Namespace, as_of: dt.date) -> list[dict[str, Any]]:
    exports = []
    dataset_dir = Path(args.dataset_dir)
    for index, url in enumerate(args.database_url):
        out = dataset_dir if index == 0 else Path(tempfile.mkdtemp(prefix="report-export-"))
        print(f"export from {backend_of(url)} ({shown_url(url)}) → {out}", flush=True)
        figures = run_child("export", url, str(out), as_of.isoformat())
        if not args.no_read_split:
            figures["read_split"] = run_child("read-split", url)["seconds"]
        figures["measured"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        seconds = figures["seconds"]
        print(
            f"  read {seconds['read']:.1f} s, build {seconds['build']:.1f} s, "
            f"write {seconds['write']:.1f} s; wall {figures['wall_seconds']:.1f} s; "
            f"peak RSS {figures['peak_rss_mib']:,.0f} MiB",
            flush=True,
        )
        if "read_split" in figures:
            split = ", ".join(
                f"{name} {spent:.1f} s" for name, spent in figures["read_split"].items()
            )
            print(f"  reads one by one: {split}", flush=True)
        if index == 0:
            (out / EXPORT_FIGURES).write_text(json.dumps([figures], indent=2), "utf-8")
        else:
            figures["compared"] = same_dataset(dataset_dir, out)
            print(f"  compared with the first export: {figures['compared']}", flush=True)
            shutil.rmtree(out, ignore_errors=True)
            recorded = json.loads((dataset_dir / EXPORT_FIGURES).read_text("utf-8"))
            (dataset_dir / EXPORT_FIGURES).write_text(
                json.dumps([*recorded, figures], indent=2), "utf-8"
            )
        exports.append(figures)
    return exports


CLI_RUNS = (
    ("outcomes", "pdf"),
    ("outcomes", "html"),
    ("safety", "html"),
    ("safety", "pdf"),
)


def reports(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    cli = str(Path(sys.executable).with_name("lupus-msc"))
    env = {key: value for key, value in os.environ.items() if key != "LUPUS_MSC_DATABASE_URL"}
    runs = []
    for kind, form in CLI_RUNS:
        if kind == "safety" and form == "pdf" and args.skip_safety_pdf:
            continue
        repeat = 1 if (kind, form) == ("safety", "pdf") else args.repeat
        path = out_dir / f"{kind}.{form}"
        command = [cli, "report", kind, "--dataset", str(args.dataset_dir), "--format", form]
        samples = []
        for attempt in range(repeat):
            result = run_measured([*command, "--out", str(path)], env=env)
            samples.append(result)
            print(
                f"report {kind} --format {form} [{attempt + 1}/{repeat}]: "
                f"{result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:,.0f} MiB",
                flush=True,
            )
        runs.append(
            {
                "command": f"lupus-msc report {kind} --dataset DIR --format {form}",
                "kind": kind,
                "format": form,
                "runs": repeat,
                "seconds": [round(sample["seconds"], 2) for sample in samples],
                "median": statistics.median(sample["seconds"] for sample in samples),
                "max": max(sample["seconds"] for sample in samples),
                "peak_rss_mib": max(sample["peak_rss_mib"] for sample in samples),
                "bytes": path.stat().st_size,
                "pages": pdf_pages(path) if form == "pdf" else None,
            }
        )
    print("in-process steps: outcomes report", flush=True)
    outcomes = run_child("outcomes", str(args.dataset_dir), str(out_dir))
    print("in-process steps: safety report", flush=True)
    safety_steps = run_child(
        "safety", str(args.dataset_dir), str(out_dir), "nopdf" if args.skip_safety_pdf else "pdf"
    )
    for name, figures in (("outcomes", outcomes), ("safety", safety_steps)):
        for step, spent in figures["seconds"].items():
            print(f"  {name:<9} {step:<14} {spent:7.2f} s")
    if args.png and shutil.which("pdftoppm"):
        pages = ["-r", "50", "-f", "1", "-l", "2", "-png"]
        pdf, prefix = str(out_dir / "outcomes.pdf"), str(out_dir / "outcomes-page")
        subprocess.run(["pdftoppm", *pages, pdf, prefix], check=True)  # noqa: S603, S607
        print(f"first two pages of the outcomes PDF: {out_dir}/outcomes-page-*.png")
    return {
        "cli": runs,
        "outcomes_steps": outcomes,
        "safety_steps": safety_steps,
        "load": LOAD,
    }


def _versions() -> str:
    from importlib.metadata import version

    return (
        f"Python {platform.python_version()}, polars {version('polars')}, "
        f"WeasyPrint {version('weasyprint')}"
    )


def _memory_gib() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return ""
    return f", {pages / 2**30:.0f} GiB RAM"


def markdown(
    exports: list[dict[str, Any]], figures: dict[str, Any], command: str, skipped: bool
) -> str:
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    first = exports[0] if exports else None
    sizes = ""
    if first is not None:
        registry, dataset = first["registry"], first["dataset"]
        sizes = (
            f" Registry: {registry['patients']:,} patients, {registry['visits']:,} visits, "
            f"{registry['adverse_events']:,} adverse events; analysis dataset (cut-off "
            f"{first['as_of']}): {dataset['patients']:,} infused patients, "
            f"{dataset['visits']:,} visits in the analysis window, {dataset['adverse_events']:,} "
            "adverse events."
        )
    pdf = next(run for run in figures["cli"] if (run["kind"], run["format"]) == ("outcomes", "pdf"))
    verdict = "met" if pdf["max"] <= TARGET_SECONDS else "**missed**"
    headline = [
        "| figure | measured | target | |",
        "|---|---|---|---|",
        f"| `lupus-msc report outcomes --dataset DIR --format pdf`, seconds (slowest of "
        f"{pdf['runs']}) | {pdf['max']:.1f} | ≤ {TARGET_SECONDS:g} | {verdict} |",
    ]
    lines = [
        START,
        "## Outcomes report at 100,000 patients (`bench/report.py`)",
        "",
        f"Reproduce: `{command}`  ",
        f"Measured {when} on {machine}{_memory_gib()}, {_versions()}; 1-minute load "
        f"average {min(figures['load']):.1f}–{max(figures['load']):.1f} around the "
        f"measured processes (other sessions' work included).{sizes}",
        "",
        *headline,
    ]
    if exports:
        lines += [
            "",
            "Export: registry → analysis dataset (Parquet), in-process in a child process; once "
            "per data cut-off, not per report"
            + (f" (measured {first['measured']}, reused with `--skip-export`)" if skipped else "")
            + ". Seconds:",
            "",
            "| registry | read (`read_registry`) | build (`dataset.build`) | write Parquet | "
            "total (process wall) | peak RSS (MiB) | dataset |",
            "|---|---|---|---|---|---|---|",
        ]
        for item in exports:
            seconds = item["seconds"]
            lines.append(
                f"| {item['backend']} | {seconds['read']:.1f} | {seconds['build']:.1f} | "
                f"{seconds['write']:.1f} | {item['wall_seconds']:.1f} | "
                f"{item['peak_rss_mib']:,.0f} | {item.get('compared', 'written')} |"
            )
        if all("read_split" in item for item in exports):
            names = " | ".join(item["backend"] for item in exports)
            lines += [
                "",
                "Reads, each timed by itself in a second pass right after the export:",
                "",
                f"| table | rows read | {names} |",
                "|---|---|" + "---|" * len(exports),
            ]
            for table in READS:
                cells = " | ".join(f"{item['read_split'][table]:.1f}" for item in exports)
                lines.append(f"| {table} | {first['read_rows'][table]:,} | {cells} |")
    lines += [
        "",
        "Reports from the dataset (`--dataset DIR`), each a separate `lupus-msc` process:",
        "",
        "| command | runs | median s | slowest s | peak RSS (MiB) | output |",
        "|---|---|---|---|---|---|",
    ]
    for run in figures["cli"]:
        output = f"{run['bytes'] / 1024:,.0f} KiB"
        if run["pages"] is not None:
            output += f", {run['pages']} pages"
        lines.append(
            f"| `{run['command']}` | {run['runs']} | {run['median']:.1f} | {run['max']:.1f} | "
            f"{run['peak_rss_mib']:,.0f} | {output} |"
        )
    outcomes, safety_steps = figures["outcomes_steps"], figures["safety_steps"]
    steps = list(dict.fromkeys([*outcomes["seconds"], *safety_steps["seconds"]]))
    tail = ["HTML render", "HTML write", "PDF layout", "PDF write"]
    steps = [step for step in steps if step not in tail] + [step for step in tail if step in steps]
    lines += [
        "",
        "The same, step by step in one process (seconds):",
        "",
        "| step | outcomes report | safety report |",
        "|---|---|---|",
    ]
    for step in steps:
        cells = [
            f"{item['seconds'][step]:.2f}" if step in item["seconds"] else ""
            for item in (outcomes, safety_steps)
        ]
        lines.append(f"| {step} | {cells[0]} | {cells[1]} |")
    lines.append(
        f"| **total (process wall)** | {outcomes['wall_seconds']:.2f} | "
        f"{safety_steps['wall_seconds']:.2f} |"
    )
    rss = [f"{item['peak_rss_mib']:,.0f}" for item in (outcomes, safety_steps)]
    lines.append(f"| peak RSS (MiB) | {rss[0]} | {rss[1]} |")
    lines.append(END)
    return "\n".join(lines)


def reproduce(argv: list[str]) -> str:
    """The command line, without the options that only say where to keep the outputs."""
    kept, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument in ("--out-dir", "--dataset-dir"):
            skip = True
        elif argument.startswith(("--out-dir=", "--dataset-dir=")) or argument == "--png":
            continue
        else:
            kept.append(argument)
    return " ".join([".venv/bin/python", "bench/report.py", *kept])


def write_report(section: str) -> None:
    text = REPORT.read_text("utf-8") if REPORT.exists() else "# Performance\n"
    if START in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text, "utf-8")


def child(arguments: list[str]) -> None:
    kind, *rest = arguments
    if kind == "export":
        child_export(rest[0], Path(rest[1]), dt.date.fromisoformat(rest[2]))
    elif kind == "read-split":
        child_read_split(rest[0])
    elif kind == "outcomes":
        child_outcomes(Path(rest[0]), Path(rest[1]))
    elif kind == "safety":
        child_safety(Path(rest[0]), Path(rest[1]), rest[2] == "pdf")
    else:
        raise SystemExit(f"unknown child {kind!r}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        action="append",
        help=f"registry to export from (repeat for several; default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--dataset-dir",
        default=str(DEFAULT_DATASET),
        help="analysis dataset the export writes and the reports read (default %(default)s)",
    )
    parser.add_argument(
        "--skip-export", action="store_true", help="reuse the dataset in --dataset-dir"
    )
    parser.add_argument(
        "--no-read-split",
        action="store_true",
        help="do not time read_registry's six reads one by one (a second read of the registry)",
    )
    parser.add_argument("--as-of", help="data cut-off of the export, YYYY-MM-DD (default today)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each report command")
    parser.add_argument(
        "--skip-safety-pdf",
        action="store_true",
        help="leave out the safety report as PDF (it lists every infusion reaction)",
    )
    parser.add_argument("--out-dir", help="keep the reports here (default: a temporary directory)")
    parser.add_argument(
        "--png", action="store_true", help="render the outcomes PDF's first two pages to PNG"
    )
    parser.add_argument("--no-report", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    args.database_url = args.database_url or [DEFAULT_URL]
    if args.png and not args.out_dir:
        parser.error("--png needs --out-dir (the PNG files are written there)")
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC).date()
    dataset_dir = Path(args.dataset_dir)
    if args.skip_export:
        recorded = dataset_dir / EXPORT_FIGURES
        exports = json.loads(recorded.read_text("utf-8")) if recorded.exists() else []
    else:
        exports = export(args, as_of)
    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="report-bench-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        figures = reports(args, out_dir)
    finally:
        if not args.out_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
    if not args.no_report:
        write_report(markdown(exports, figures, reproduce(sys.argv[1:]), args.skip_export))
    pdf = figures["cli"][0]
    print(
        json.dumps(
            {
                "report_outcomes_pdf_seconds": round(pdf["max"], 2),
                "target_seconds": TARGET_SECONDS,
                "met": pdf["max"] <= TARGET_SECONDS,
                "exports": [
                    {
                        "backend": item["backend"],
                        "read": round(item["seconds"]["read"], 1),
                        "build": round(item["seconds"]["build"], 1),
                        "peak_rss_mib": item["peak_rss_mib"],
                    }
                    for item in exports
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
