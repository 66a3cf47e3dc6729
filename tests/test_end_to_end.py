"""One patient through the whole pathway over HTTP, referral to the 12-month visit (issue 5).

It runs on SQLite and on PostgreSQL (the ``api`` fixture is parametrized over both). The first
infusion is placed 400 days ago, so that the 12-month visit (day 360 of the default protocol)
is in the past and can be recorded today.
"""

from __future__ import annotations

from tests.course_builder import infuse_on, on, screen_and_consent, visit_body
from tests.pathway_helpers import ok, register
from tests.registry_fixtures import PASSWORD, Api


def test_one_patient_from_referral_to_the_12_month_visit(api: Api) -> None:
    patient = register(api)
    screen_and_consent(api, patient)
    first = infuse_on(api, patient, 0)
    infuse_on(api, patient, 7)
    pid = patient["id"]
    with api.as_("nurse") as client:
        ok(
            client.post(
                f"/api/v1/patients/{pid}/adverse-events",
                json={
                    "term": "Infusion related reaction",
                    "onset_on": on(0),
                    "resolved_on": on(0),
                    "grade": 1,
                    "relatedness": "probable",
                    "expected": True,
                    "action": "infusion-slowed",
                    "outcome": "recovered",
                    "infusion_id": first["id"],
                },
            ),
            201,
        )
    with api.as_("coordinator") as client:
        schedule = {v["code"]: v for v in ok(client.get(f"/api/v1/patients/{pid}/visits"))}
        trajectory = {
            "month1": ("arthritis", "rash", "low_complement"),
            "month3": ("arthritis", "low_complement"),
            "month6": ("low_complement",),
            "month9": (),
            "month12": (),
        }
        for code, present in trajectory.items():
            visit = schedule[code]
            body = visit_body(visit["study_day"], *present, pga=0.5, creatinine=0.9)
            ok(client.put(f"/api/v1/visits/{visit['id']}", json=body))
    with api.as_("physician") as client:
        month12 = schedule["month12"]
        ok(client.post(f"/api/v1/visits/{month12['id']}/sign", json={"password": PASSWORD}))
        unreasoned = client.put(
            f"/api/v1/visits/{month12['id']}", json=visit_body(360, "rash", pga=1, creatinine=0.9)
        )
        assert unreasoned.status_code == 422
    with api.as_("monitor") as client:
        final = ok(client.get(f"/api/v1/patients/{pid}"))
        visits = {v["code"]: v for v in ok(client.get(f"/api/v1/patients/{pid}/visits"))}
        infusions = ok(client.get(f"/api/v1/patients/{pid}/infusions"))
        events = ok(client.get(f"/api/v1/patients/{pid}/adverse-events"))
    with api.as_("admin") as client:
        chain = ok(client.get("/api/v1/audit/verify"))
    assert final["state"] == "follow-up"
    assert [i["number"] for i in infusions] == [1, 2]
    assert visits["month12"]["status"] == "done" and visits["month12"]["signed_at"]
    assert visits["month1"]["scores"]["sledai2k"]["total"] == 4 + 2 + 2
    assert visits["month12"]["scores"]["sledai2k"]["total"] == 0
    assert visits["month18"]["status"] == "upcoming"
    assert events[0]["infusion_id"] == first["id"]
    assert chain["intact"] is True and chain["rows"] > 100
