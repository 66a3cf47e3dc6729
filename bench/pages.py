"""Benchmark: server-side latency of the patient page, the patient list and the dashboard.

    .venv/bin/python bench/pages.py --dataset demo                     # demo database, SQLite
    .venv/bin/python bench/pages.py --dataset bulk                     # 100,000 patients, SQLite
    .venv/bin/python bench/pages.py --dataset demo --backend postgresql
    .venv/bin/python bench/pages.py --dataset bulk --backend postgresql
    .venv/bin/python bench/pages.py --dataset bulk --patients 2000     # a quick run

The application runs in-process: requests go through ``httpx.ASGITransport`` straight into the
FastAPI app (no socket, no uvicorn), so a figure is the application's own time for the request —
routing, session check, services, database, template — plus a fraction of a millisecond of
client overhead. The client signs in as a physician through the sign-in form (GET /sign-in
gives the ``sign_in_nonce`` field and cookie; POST /sign-in), warms every page up, then sends
``--requests`` requests to each page one at a time and reports p50, p95 and p99.

Pages: ``/patients/{id}`` (a different patient with recorded visits at each request, drawn at
random from the database), ``/patients`` (first page), ``/patients?…`` (a filtered page:
pathway state and site) and ``/`` (the dashboard) three times: with the registry unchanged
between requests (its figures are then served from memory, ``services.dashboard.FigureCache``),
with an audited write before each request (what staff see while others work), and with the
figures forgotten before each request (the cost of the counts themselves).

Datasets: ``demo`` is built by ``lupus-msc demo --no-serve`` (its build time is reported);
``bulk`` by ``bench/bulk_registry.py`` (100,000 patients, 50 visits each). SQLite databases are
kept under ``--data-dir`` and reused when they exist; ``--backend postgresql`` starts a throwaway
PostgreSQL cluster (Debian's binaries, as tests/postgres_server.py does, with fsync off), builds
the dataset there, measures, and removes the cluster (``--keep`` keeps it and prints its URL).

Prints its figures and writes them to docs/performance.md (one section per backend and
dataset). Target (issue 6): p95 ≤ 50 ms for each page.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bulk_registry import BENCH_PASSWORD, BENCH_USERNAME, build  # noqa: E402

from lupus_msc.services.unit import unit_of_work  # noqa: E402
from lupus_msc.store.models import Patient, PatientState, Site, User, Visit  # noqa: E402

REPORT = ROOT / "docs" / "performance.md"
TARGET_P95_MS = 50.0
DEMO_LOGIN = ("physician", "demo-password")
FILTER_STATE = PatientState.COMPLETED
FILTER_SHOWN = f"/patients?state={FILTER_STATE.value}&site={{id of the first site}}"
SAMPLE_PATIENTS = 500
RECOMPUTED_REQUESTS = 60
"""Requests to the dashboard with its figures forgotten first (each costs a full count)."""


@dataclass(frozen=True)
class PageFigures:
    page: str
    path: str
    requests: int
    p50: float
    p95: float
    p99: float
    mean: float
    status: str
    bytes: int


def _quantiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def _sign_in(client: httpx.AsyncClient, login: str, password: str) -> None:
    form = await client.get("/sign-in")
    found = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
    if found is None:
        raise SystemExit(f"GET /sign-in: no sign_in_nonce field (status {form.status_code})")
    data = {"login": login, "password": password, "sign_in_nonce": found.group(1), "next": "/"}
    answer = await client.post("/sign-in", data=data)
    if answer.status_code != 303:
        raise SystemExit(f"POST /sign-in as {login}: status {answer.status_code}, not 303")


async def _measure(
    client: httpx.AsyncClient,
    paths: list[str],
    requests: int,
    warmup: int,
    before: Callable[[], None] = lambda: None,
) -> tuple[list[float], Counter_, int]:
    """Timed GETs of ``paths`` in turn; ``before`` runs ahead of each one, untimed."""
    for index in range(warmup):
        before()
        await client.get(paths[index % len(paths)])
    samples, statuses, size = [], Counter_(), 0
    for index in range(requests):
        path = paths[index % len(paths)]
        before()
        started = time.perf_counter()
        answer = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        statuses[answer.status_code] += 1
        size = max(size, len(answer.content))
    return samples, statuses, size


class Counter_(dict[int, int]):
    def __missing__(self, key: int) -> int:
        return 0

    def describe(self) -> str:
        return ", ".join(f"{code}×{count}" for code, count in sorted(self.items()))


def _targets(url: str, seed: int) -> tuple[list[str], str]:
    """Patient-page paths (patients with recorded visits, at random) and the filtered list."""
    engine = create_engine(url)
    with engine.connect() as connection:
        with_visits = (
            select(Visit.patient_id)
            .where(Visit.visit_date.is_not(None))
            .group_by(Visit.patient_id)
            .having(func.count() > 1)
        )
        ids = [row[0] for row in connection.execute(with_visits)]
        site = connection.execute(select(Site.id).order_by(Site.code).limit(1)).scalar_one()
        total = connection.execute(select(func.count()).select_from(Patient)).scalar_one()
    engine.dispose()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(ids), size=min(SAMPLE_PATIENTS, len(ids)), replace=False)
    paths = [f"/patients/{ids[int(index)]}" for index in chosen]
    print(f"{total:,} patients; patient page drawn from {len(ids):,} with recorded visits")
    return paths, f"/patients?state={FILTER_STATE.value}&site={site}"


async def _run_pages(
    url: str, login: tuple[str, str], requests: int, warmup: int, seed: int
) -> list[PageFigures]:
    os.environ["LUPUS_MSC_DATABASE_URL"] = url
    from lupus_msc.web.app import create_app

    patient_paths, filtered = _targets(url, seed)
    app = create_app(url)

    def forget_figures() -> None:
        """The dashboard's figures forgotten: the request pays the full counts."""
        cache = getattr(app.state, "dashboard_figures", None)
        if cache is not None:
            cache.wait()
            cache.clear()

    renames = itertools.count()

    def write() -> None:
        """One audited write (the signed-in user's name, alternately), as staff make all day:
        it moves the audit head, so the next dashboard sees a changed registry."""
        with unit_of_work(app.state.database, None) as session:
            user = session.scalar(select(User).where(User.username == login[0]))
            if user is None:
                user = session.scalar(select(User).where(User.email == login[0]))
            if user is None:
                raise SystemExit(f"no user {login[0]} to write to")
            user.full_name = ("Bench Physician", "Bench Physician (renamed)")[next(renames) % 2]

    recomputed = min(requests, RECOMPUTED_REQUESTS)
    pages: list[tuple[str, list[str], int, Callable[[], None]]] = [
        ("patient page", patient_paths, requests, lambda: None),
        ("patient list, first page", ["/patients"], requests, lambda: None),
        ("patient list, filtered", [filtered], requests, lambda: None),
        ("dashboard, registry unchanged", ["/"], requests, lambda: None),
        ("dashboard, a write before each request", ["/"], requests, write),
        ("dashboard, counts computed anew", ["/"], recomputed, forget_figures),
    ]
    transport = httpx.ASGITransport(app=app)
    figures = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await _sign_in(client, *login)
        for name, paths, count, before in pages:
            samples, statuses, size = await _measure(
                client, paths, count, min(warmup, count), before
            )
            p50, p95, p99 = _quantiles(samples)
            names = {"patient page": "/patients/{id}", "patient list, filtered": FILTER_SHOWN}
            shown = names.get(name, paths[0])
            figures.append(
                PageFigures(
                    name,
                    shown,
                    count,
                    p50,
                    p95,
                    p99,
                    statistics.fmean(samples),
                    statuses.describe(),
                    size,
                )
            )
            print(
                f"  {name:<26} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms  "
                f"[{statuses.describe()}; up to {size:,} bytes]",
                flush=True,
            )
    cache = getattr(app.state, "dashboard_figures", None)
    if cache is not None:
        cache.wait()
    app.state.database.dispose()
    return figures


def _build_demo(url: str) -> float:
    started = time.perf_counter()
    command = [str(ROOT / ".venv" / "bin" / "lupus-msc"), "demo", "--no-serve"]
    subprocess.run([*command, "--database-url", url], check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.perf_counter() - started


def _build_bulk(url: str, patients: int) -> float:
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 10_000 == 0:
            print(f"  {done:,} patients cloned ({time.perf_counter() - started:.0f} s)", flush=True)

    report = build(url, patients, progress=progress)
    print(
        f"built {report.patients:,} patients, {report.visits:,} visits, {report.lab_results:,} labs"
    )
    return time.perf_counter() - started


def _dataset_note(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = [
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608
            for table in ("patients", "visits", "lab_results")
        ]
    engine.dispose()
    return f"{counts[0]:,} patients, {counts[1]:,} visits, {counts[2]:,} lab results"


def _start_postgres() -> Any:
    from tests.postgres_server import start_server

    return start_server()


def run(args: argparse.Namespace) -> tuple[list[PageFigures], str, float | None]:
    server = None
    built: float | None = None
    if args.database_url:
        url = args.database_url
    elif args.backend == "postgresql":
        server = _start_postgres()
        url = server.new_database(f"bench_{args.dataset}")
        print(f"PostgreSQL cluster on port {server.port}: {url}")
    else:
        data = Path(args.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        name = "demo.sqlite3" if args.dataset == "demo" else f"bulk-{args.patients}.sqlite3"
        url = f"sqlite:///{data / name}"
    try:
        fresh = server is not None or not Path(url.removeprefix("sqlite:///")).exists()
        if fresh and not args.database_url:
            built = _build_demo(url) if args.dataset == "demo" else _build_bulk(url, args.patients)
            print(f"built the {args.dataset} database in {built:.0f} s")
        login = DEMO_LOGIN if args.dataset == "demo" else (BENCH_USERNAME, BENCH_PASSWORD)
        figures = asyncio.run(_run_pages(url, login, args.requests, args.warmup, args.seed))
        note = _dataset_note(url)
    finally:
        if server is not None and not args.keep:
            server.stop()
            shutil.rmtree(server.base_dir, ignore_errors=True)
        elif server is not None:
            print(f"kept the cluster: {url} (data in {server.base_dir})")
    return figures, note, built


def markdown(
    args: argparse.Namespace,
    figures: list[PageFigures],
    note: str,
    built: float | None,
    command: str,
) -> str:
    slug = f"{args.backend}-{args.dataset}"
    start, end = f"<!-- bench:pages:{slug}:start -->", f"<!-- bench:pages:{slug}:end -->"
    backend = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = ["| page | path | requests | p50 ms | p95 ms | p99 ms | p95 ≤ 50 ms | responses |"]
    rows.append("|---|---|---|---|---|---|---|---|")
    for item in figures:
        verdict = "met" if item.p95 <= TARGET_P95_MS else "**missed**"
        rows.append(
            f"| {item.page} | `{item.path}` | {item.requests} | {item.p50:.1f} | {item.p95:.1f} | "
            f"{item.p99:.1f} | {verdict} | {item.status}; ≤ {item.bytes:,} B |"
        )
    build_line = f" Database built in {built:.0f} s (not timed in the figures)." if built else ""
    if args.database_url:
        canonical = f".venv/bin/python bench/pages.py --dataset {args.dataset}"
        canonical += " --backend postgresql" if args.backend == "postgresql" else ""
        command = f"{canonical}` (measured with `--database-url` on a database built earlier)"
        command = command.rstrip("`")
    else:
        command = f"{command}`"
    return "\n".join(
        [
            start,
            f"### {args.dataset} database on {backend}",
            "",
            f"Reproduce: `{command}  ",
            f"Measured {when} on {machine}, Python {platform.python_version()}; {note}; "
            f"in-process (httpx ASGI transport), signed in as a physician of every site, "
            f"{args.warmup} warm-up requests per page.{build_line}",
            "",
            *rows,
            end,
        ]
    )


def write_report(section: str, slug: str) -> None:
    start, end = f"<!-- bench:pages:{slug}:start -->", f"<!-- bench:pages:{slug}:end -->"
    text = REPORT.read_text("utf-8") if REPORT.exists() else "# Performance\n"
    heading = "## Page latency (`bench/pages.py`)"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    elif heading in text:
        before, rest = text.split(heading, 1)
        text = before + heading + "\n\n" + section + "\n" + rest.lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + heading + "\n\n" + section + "\n"
    REPORT.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("demo", "bulk"), required=True)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--patients", type=int, default=100_000, help="bulk dataset size")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "benchdata"), help="SQLite files")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL cluster")
    parser.add_argument(
        "--database-url", help="measure this database as it is (built by this script earlier)"
    )
    parser.add_argument("--no-report", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    if args.database_url and args.database_url.startswith("postgresql"):
        args.backend = "postgresql"
    figures, note, built = run(args)
    if not args.no_report:
        command = " ".join([".venv/bin/python", *sys.argv])
        write_report(
            markdown(args, figures, note, built, command), f"{args.backend}-{args.dataset}"
        )


if __name__ == "__main__":
    main()
