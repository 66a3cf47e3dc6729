"""``synth.demo_plan``: which patients of the demo cohort stop where on the pathway (seeded)."""

from __future__ import annotations

import datetime as dt

from lupus_msc.synth.demo_plan import PART_WAY, Stop, demo_stops, open_serious_events
from lupus_msc.synth.registry_plan import CohortPlan, plan_cohort
from lupus_msc.synth.visits import generate_cohort

TODAY = dt.date(2026, 11, 26)


def _plan(patients: int, seed: int = 0) -> CohortPlan:
    return plan_cohort(
        generate_cohort(patients, seed),
        seed=seed,
        today=TODAY,
        shelf_life_days=3650,
        infusion_days=(0,),
    )


def test_every_stop_is_given_and_the_same_seed_gives_the_same_stops() -> None:
    plan = _plan(200)
    stops = demo_stops(plan.patients, seed=0)
    assert set(stops.values()) == set(Stop)
    assert demo_stops(plan.patients, seed=0) == stops
    assert 40 <= len(stops) <= 60  # under a third; the rest walk the whole pathway


def test_early_stops_go_to_the_most_recently_infused_patients() -> None:
    plan = _plan(200)
    stops = demo_stops(plan.patients, seed=0)
    first = {patient.synth_id: patient.infusions[0] for patient in plan.patients}
    early = [first[key] for key, stop in stops.items() if stop not in PART_WAY]
    part_way = [first[key] for key, stop in stops.items() if stop in PART_WAY]
    assert min(early) >= max(part_way)


def test_a_small_cohort_still_gets_one_patient_per_stop() -> None:
    stops = demo_stops(_plan(20).patients, seed=3)
    assert set(stops.values()) == set(Stop)


def test_open_serious_events_are_recent_unresolved_and_need_hospital() -> None:
    plan = _plan(200)
    stops = demo_stops(plan.patients, seed=0)
    events = open_serious_events(plan.patients, stops, seed=0, today=TODAY)
    assert 1 <= len(events) <= 5
    assert not set(events) & set(stops)
    for event in events.values():
        assert event.resolved_on is None and event.serious_criteria == ("hospitalisation",)
        assert TODAY - dt.timedelta(days=120) <= event.onset_on <= TODAY
