"""The README's figure from the outcomes report, made from the demo database.

    .venv/bin/python scripts/readme_report_figure.py [--database-url URL] [--out docs/img]

Without ``--database-url`` it builds a fresh demo database in a temporary directory first
(``lupus-msc demo --no-serve``). It builds the outcomes report exactly as ``lupus-msc report
outcomes`` does, takes two of its figures (time to first LLDAS / remission / flare, and the
published results beside this program's cohort), lays them out as the PDF does (WeasyPrint) and
renders them to PNG with pdftoppm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from lupus_msc.analytics.dataset import build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.analytics.report_outcomes import outcomes_report
from lupus_msc.analytics.report_render import to_pdf
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database

FIGURES = {"time_to": "outcomes-time-to.png", "forest": "outcomes-forest.png"}


def demo_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'demo.sqlite3'}"
    command = [str(Path(sys.executable).parent / "lupus-msc"), "demo", "--no-serve"]
    subprocess.run([*command, "--database-url", url], check=True, capture_output=True)  # noqa: S603
    return url


def render(svg: str, png: Path, work: Path) -> None:
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page { size: 170mm 120mm; "
        "margin: 4mm } svg { width: 100%; height: auto }</style></head><body>"
        f"{svg}</body></html>"
    )
    pdf = work / f"{png.stem}.pdf"
    pdf.write_bytes(to_pdf(html))
    subprocess.run(  # noqa: S603 - our own file names
        [
            "/usr/bin/pdftoppm",
            "-r",
            "110",
            "-singlefile",
            "-png",
            str(pdf),
            str(png.with_suffix("")),
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        url = arguments.database_url or demo_database(work)
        database = Database(url)
        with database.reads() as session:
            dataset = build(read_registry(session), today())
        database.dispose()
        report = outcomes_report(dataset)
        arguments.out.mkdir(parents=True, exist_ok=True)
        for name, file_name in FIGURES.items():
            render(report.figures[name], arguments.out / file_name, work)
            print(arguments.out / file_name)


if __name__ == "__main__":
    main()
