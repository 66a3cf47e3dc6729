"""``POST /api/v1/score/{instrument}`` over real HTTP against a uvicorn subprocess (§16)."""

from __future__ import annotations

import json
import subprocess

import httpx

from lupus_msc.scoring.registry import INSTRUMENTS


def post(base_url: str, instrument: str, body: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/v1/score/{instrument}",
        content=body,
        headers={"content-type": "application/json"},
        timeout=10,
    )


def test_api_and_cli_give_the_same_result(live_server: str, lupus_msc_command: list[str]) -> None:
    body = '{"arthritis": true, "labs": {"platelets_10e9_l": 80}, "attribution_confirmed": true}'
    response = post(live_server, "sledai2k", body)
    assert response.status_code == 200
    cli = subprocess.run(
        [*lupus_msc_command, "score", "sledai2k"],
        input=body,
        capture_output=True,
        text=True,
        check=True,
    )
    assert response.json() == json.loads(cli.stdout)
    assert response.json()["total"] == 5


def test_an_array_gives_an_array(live_server: str) -> None:
    response = post(live_server, "sledai2k", '[{"cva": true}, {"fever": true}]')
    assert [item["total"] for item in response.json()] == [8, 1]


def test_numbers_are_read_exactly_over_http(live_server: str) -> None:
    body = '{"sledai_baseline": 10, "sledai_current": 4, "pga_baseline": 1.5, "pga_current": 1.8}'
    result = post(live_server, "sri", body).json()
    assert result["pga_change"] == 0.3
    assert result["components"]["no_pga_worsening"] is False


def test_bad_input_is_422_with_one_error_shape(live_server: str) -> None:
    response = post(live_server, "sledai2k", '[{}, {"labs": {"platelets_10e9_l": 5000}}]')
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["status"] == 422
    assert [entry["field"] for entry in error["fields"]] == ["[1].labs.platelets_10e9_l"]
    assert "2000" in error["fields"][0]["message"]


def test_malformed_json_is_422(live_server: str) -> None:
    response = post(live_server, "sledai2k", "{not json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "(body)"


def test_unknown_instrument_is_404_in_the_same_shape(live_server: str) -> None:
    response = post(live_server, "bilag", "{}")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_openapi_documents_every_instrument_with_its_models(live_server: str) -> None:
    schema = httpx.get(f"{live_server}/openapi.json", timeout=10).json()
    components = schema["components"]["schemas"]
    for name, instrument in INSTRUMENTS.items():
        operation = schema["paths"][f"/api/v1/score/{name}"]["post"]
        request = operation["requestBody"]["content"]["application/json"]["schema"]
        reference = request["oneOf"][0]["$ref"]
        assert reference.rsplit("/", 1)[1] == instrument.input_model.__name__
        assert instrument.input_model.__name__ in components
        assert instrument.result_model.__name__ in components
        assert "422" in operation["responses"]


def test_the_list_endpoint_names_every_instrument(live_server: str) -> None:
    listed = httpx.get(f"{live_server}/api/v1/score", timeout=10).json()
    assert {item["name"] for item in listed} == set(INSTRUMENTS)


def test_interactive_docs_load_nothing_from_outside_this_server(live_server: str) -> None:
    """Closed clinic networks: every script and style of /docs comes from this server."""
    import re

    page = httpx.get(f"{live_server}/docs", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/") for asset in assets), assets
    for asset in assets:
        assert httpx.get(f"{live_server}{asset}", timeout=10).status_code == 200, asset


def test_a_body_that_is_not_unicode_is_422_not_a_server_error(live_server: str) -> None:
    """Found by Schemathesis: bytes no UTF encoding can decode gave a 500."""
    response = httpx.post(
        f"{live_server}/api/v1/score/sri",
        content=b"\xa7n\xff\x0c.G1",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["error"]["fields"]
    assert problem["field"] == "(body)"
    assert "not valid JSON" in problem["message"]
