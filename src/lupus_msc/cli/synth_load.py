"""``lupus-msc synth load``: fill the database with a seeded synthetic cohort through the services
(DESIGN.md, Interfaces), so that the audit trail is complete."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from lupus_msc.cli import registry
from lupus_msc.store.models import PatientState


def _states(counts: Counter[PatientState]) -> str:
    order = list(PatientState)
    return ", ".join(f"{state.value} {counts[state]}" for state in sorted(counts, key=order.index))


def synth_load(
    patients: Annotated[int, typer.Option(min=1, help="Number of synthetic patients.")],
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same cohort.")
    ] = 0,
) -> None:
    """Load a seeded synthetic cohort into the database (LUPUS_MSC_DATABASE_URL) through the
    services: sites S01…, their synthetic staff, and each patient from referral to the last
    visit in the past, every step audited. Staff passwords are never printed."""
    from rich.console import Console
    from rich.progress import Progress

    from lupus_msc.services.cohort_loader import LoadError, load

    database = registry.open_database()
    try:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("loading patients", total=patients)
            result = load(database, patients, seed=seed, progress=lambda _: progress.advance(task))
    except LoadError as error:
        raise registry.fail(str(error)) from error
    finally:
        database.dispose()
    count = len(result.patients)
    each = result.seconds / count if count else 0.0
    typer.echo(
        f"loaded {count} synthetic patients (seed {seed}) in {result.seconds:.1f} s "
        f"({each:.2f} s per patient): {_states(result.states())}"
    )
    if result.skipped:
        typer.echo(
            f"skipped {len(result.skipped)} patients infused too long ago for a lot still "
            f"in date today: {', '.join(result.skipped)}"
        )
    sites = sorted({member.site for member in result.staff})
    typer.echo(
        f"synthetic staff: {len(result.staff)} users at {', '.join(sites)} "
        "(passwords are not shown; add your own login with `lupus-msc user add`)"
    )
