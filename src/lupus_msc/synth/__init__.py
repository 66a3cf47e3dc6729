"""Seeded synthetic cohorts (recorded items only) for the demo, tests and benchmarks (DESIGN.md).

``generate_visits(patients, seed)`` gives the visit table of ``clinical.batch.schema`` for a cohort
of SLE patients followed after MSC infusion; ``write_visits`` writes it as Parquet;
``generate_cohort`` also says which trajectory type each patient follows; ``patients_for`` gives
the number of patients for a table of a given length.
"""

from lupus_msc.synth.visits import (
    Cohort,
    generate_cohort,
    generate_visits,
    patients_for,
    write_visits,
)

__all__ = ["Cohort", "generate_cohort", "generate_visits", "patients_for", "write_visits"]
