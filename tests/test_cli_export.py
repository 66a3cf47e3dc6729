"""``lupus-msc export csv|parquet`` (issue 8) on a real registry, as a subprocess.

A seeded two-site cohort is loaded through the services into a SQLite registry. Each format must
write the three tables and ``dataset.json``; a de-identified export must hold no study code,
name, record number or date of birth of any patient anywhere in its files' text, and give the
same files twice; ``--site`` must limit the patients; bad options exit 2 naming the option, with
nothing written. An export in batches of a few patients must write what one batch of every
patient writes, and what ``dataset.build`` (and ``deidentify_dataset``) give for the whole
registry in one go; its progress bar must step through the batches.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from lupus_msc.analytics.dataset import FRAMES, build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.interop.dataset_export import export_batches
from lupus_msc.interop.deidentify import deidentify_dataset
from lupus_msc.interop.free_text import REDACTED, scrub_terms
from lupus_msc.services.deidentification import keys_for
from lupus_msc.store.database import Database
from lupus_msc.store.models import Infusion, Site
from tests.cli_fixtures import (
    Identity,
    assert_no_identifier,
    files_text,
    registry_fixtures,
    run_cli,
)

AS_OF = "2026-06-30"

registry_url, identities = registry_fixtures("export", patients=20, seed=3)


def run(command: list[str], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, url, "export", *args)


def read_frame(path: Path) -> pl.DataFrame:
    return pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_each_format_writes_the_three_tables_and_the_description(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path, kind: str
) -> None:
    done = run(lupus_msc_command, registry_url, kind, "--out", str(tmp_path), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    names = {f"{name}.{kind}" for name in FRAMES} | {"dataset.json"}
    assert {path.name for path in tmp_path.iterdir()} == names
    assert read_frame(tmp_path / f"visits.{kind}").height > 0
    assert read_frame(tmp_path / f"patients.{kind}")["patient_id"].str.starts_with("S").all()
    assert json.loads((tmp_path / "dataset.json").read_text())["as_of"] == AS_OF
    assert f"in {tmp_path}" in done.stdout


@pytest.mark.parametrize(("kind", "dates"), [("csv", "shift"), ("parquet", "days")])
def test_a_deidentified_export_holds_no_identifier_and_is_stable(
    lupus_msc_command: list[str],
    registry_url: str,
    identities: list[Identity],
    tmp_path: Path,
    kind: str,
    dates: str,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        done = run(
            lupus_msc_command, registry_url, kind, "--deidentify", "--dates", dates,
            "--out", str(out), "--as-of", AS_OF,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    text = files_text(first)
    assert "P-" in text
    assert_no_identifier(text, identities)
    about = json.loads((first / "dataset.json").read_text())
    assert about["as_of_year"] == 2026 and "as_of" not in about and about["dates"] == dates
    patients = read_frame(first / f"patients.{kind}")
    assert patients["patient_id"].str.contains(r"^P-[A-Z2-7]{10}$").all()
    if dates == "days":
        assert "visit_date" not in read_frame(first / f"visits.{kind}").columns
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_identifying_words_of_a_free_text_term_are_redacted() -> None:
    events = pl.DataFrame({"term": ["Rash after visit with Maria", "Anaemia", None]})
    scrubbed = scrub_terms(events, {"maria", "ana"})
    assert scrubbed["term"].to_list() == [f"Rash after visit with {REDACTED}", "Anaemia", None]


def test_site_limits_the_patients(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    database = Database(registry_url)
    with database.reads() as session:
        sites = sorted(session.scalars(select(Site.code)))
    database.dispose()
    assert len(sites) >= 2
    everyone, one = tmp_path / "all", tmp_path / "one"
    assert run(lupus_msc_command, registry_url, "csv", "--out", str(everyone)).returncode == 0
    done = run(
        lupus_msc_command, registry_url, "csv", "--deidentify", "--site", sites[0],
        "--out", str(one),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    all_sites = pl.read_csv(everyone / "patients.csv")["site"]
    chosen = pl.read_csv(one / "patients.csv")
    assert chosen["site"].unique().to_list() == [sites[0]]
    assert 0 < chosen.height == (all_sites == sites[0]).sum() < all_sites.len()
    visits = pl.read_csv(one / "visits.csv")
    assert set(visits["patient_id"]) <= set(chosen["patient_id"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--deidentify", "--dates", "weeks"), "'--dates'"),
        (("--dates", "days"), "--dates: only when de-identifying"),
        (("--site", "NOWHERE"), "--site: no site 'NOWHERE'"),
        (("--as-of", "30/06/2026"), "--as-of: '30/06/2026' is not a date"),
        (("--batch-size", "0"), "'--batch-size'"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    lupus_msc_command: list[str],
    registry_url: str,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    out = tmp_path / "export"
    done = run(lupus_msc_command, registry_url, "parquet", *args, "--out", str(out))
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists()


def one_go(url: str, deidentified: bool) -> dict[str, pl.DataFrame]:
    """The dataset of every patient built in one go, de-identified with the stored keys."""
    database = Database(url)
    with database.reads() as session:
        data = build(read_registry(session), dt.date.fromisoformat(AS_OF))
    frames = {name: getattr(data, name) for name in FRAMES}
    if deidentified:
        keys = keys_for(database, None, data.patients["patient_id"].to_list())
        frames = deidentify_dataset(data, keys, dates="days").frames()
    database.dispose()
    return frames


@pytest.mark.parametrize(("kind", "deidentified"), [("csv", True), ("parquet", False)])
def test_an_export_in_small_batches_equals_one_in_a_single_batch(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path, kind: str, deidentified: bool
) -> None:
    private = ("--deidentify", "--dates", "days") if deidentified else ()
    outs = {size: tmp_path / f"batch-{size}" for size in (3, 1000)}
    for size, out in outs.items():
        done = run(
            lupus_msc_command, registry_url, kind, *private, "--batch-size", str(size),
            "--out", str(out), "--as-of", AS_OF,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    small, single = outs[3], outs[1000]
    assert sorted(p.name for p in small.iterdir()) == sorted(p.name for p in single.iterdir())
    for path in single.iterdir():
        if kind == "csv" or path.suffix == ".json":
            assert (small / path.name).read_bytes() == path.read_bytes(), path.name
    expected = one_go(registry_url, deidentified)
    for name in FRAMES:
        written = read_frame(small / f"{name}.{kind}")
        assert written.height == expected[name].height > 0, name
        if kind == "parquet":
            assert written.equals(expected[name]), name
        else:
            assert written.columns == expected[name].columns, name
            assert written["patient_id"].to_list() == expected[name]["patient_id"].to_list()


def test_the_progress_steps_through_the_keys_and_every_batch(
    registry_url: str, tmp_path: Path
) -> None:
    shown: list[str] = []
    planned: list[tuple[str, ...]] = []

    def progress(steps: tuple[str, ...]) -> tuple[Callable[[str], None], Callable[[], None]]:
        planned.append(steps)
        return shown.append, lambda: shown.append("closed")

    database = Database(registry_url)
    with database.reads() as session:
        infused = session.scalar(select(func.count(func.distinct(Infusion.patient_id))))
    totals = export_batches(
        database, tmp_path, "parquet", cut_off=dt.date.fromisoformat(AS_OF),
        dates="shift", sites=[], batch_size=6, progress=progress,
    )  # fmt: skip
    database.dispose()
    batches = -(-infused // 6)
    keys = [f"keys {i}/{batches}" for i in range(1, batches + 1)]
    steps = [f"batch {i}/{batches}" for i in range(1, batches + 1)]
    assert planned == [(*keys, *steps, "write files")]
    assert shown == [*keys[1:], *steps, "write files", "done", "closed"]
    assert totals.patients == pl.read_parquet(tmp_path / "patients.parquet").height > 0


def test_the_progress_bar_is_drawn_on_a_terminal(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    database = Database(registry_url)
    with database.reads() as session:
        infused = session.scalar(select(func.count(func.distinct(Infusion.patient_id))))
    database.dispose()
    done = run_cli(
        lupus_msc_command, registry_url, "export", "csv", "--batch-size", "2",
        "--out", str(tmp_path), env={"FORCE_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    batches = -(-infused // 2)
    assert f"batch 1/{batches}" in done.stderr and "━" in done.stderr, done.stderr
