"""GET /api/v1/items/{code}/eligibility: public, facts as query parameters, errors as problem details."""

from __future__ import annotations

import pytest
from django.test import Client

from support import ok, problem

pytestmark = pytest.mark.usefixtures("loaded")

URL = "/api/v1/items/{code}/eligibility"
WUHAN = {
    "party_a_hukou_region": "430102",
    "party_b_hukou_region": "520102",
    "permit_holder": "女方",
    "residence_permit_region": "420102",
    "chosen_region": "420102",
}


def get(code: str, **params):
    return Client().get(URL.format(code=code), params)


@pytest.mark.parametrize(
    ("on", "available", "version"),
    [
        ("2021-05-31", False, None),
        ("2021-06-01", True, 1),
        ("2023-05-11", True, 1),
        ("2023-05-12", True, 2),
        ("2025-05-09", True, 2),
        ("2025-05-10", True, 3),
    ],
)
def test_marriage_in_wuhan_on_each_boundary(on, available, version):
    body = ok(get("TB-minzheng-001", node="420000", on=on, **WUHAN))
    assert (body["available"], body["version"], body["on"]) == (available, version, on)


def test_divorce_in_wuhan_waits_for_the_extension():
    first = ok(get("TB-minzheng-002", node="420000", on="2021-06-01", **WUHAN))
    assert not first["available"]
    assert {r["code"] for r in first["reasons"]} == {"item_not_offered", "not_hukou_place", "not_pilot_place"}
    assert ok(get("TB-minzheng-002", node="420000", on="2023-05-12", **WUHAN))["available"]


def test_the_date_defaults_to_today():
    body = ok(get("TB-minzheng-001", node="620000", chosen_region="620102"))
    assert body["on"] == "2025-06-09" and body["available"] and body["version"] == 3
    assert body["trace"][-1]["rule"] == "marriage.registration_place"


def test_boolean_facts_are_read_from_the_query():
    base = {"node": "370000", "hukou_region": "370102", "follows": "随父"}
    married = ok(get("TB-gongan-004", parents_married="true", **base))
    unmarried = ok(get("TB-gongan-004", parents_married="否", **base))
    assert "marriage_cert" in [m["code"] for m in married["materials"]]
    assert "marriage_cert" not in [m["code"] for m in unmarried["materials"]]
    body = problem(get("TB-gongan-004", parents_married="也许", **base), 422, "invalid_request")
    assert body["errors"][0]["code"] == "invalid_fact"


def test_unknown_facts_are_refused():
    body = problem(get("TB-minzheng-001", node="420000", colour="红", hukou="x"), 422, "invalid_request")
    assert {e["field"] for e in body["errors"]} == {"colour", "hukou"}
    assert body["errors"][0]["code"] == "unknown_fact"
    assert "本事项不使用事实“colour”" in body["detail"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"on": "2025-13-01", "node": "420000"}, 422, "invalid_request"),
        ({"mode": "fax", "node": "420000"}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),  # node is required
    ],
)
def test_bad_queries_are_problems(params, status, code):
    problem(get("TB-minzheng-001", **params), status, code)


def test_unknown_item_is_a_404_problem():
    body = problem(get("NO-SUCH-ITEM", node="420000"), 404, "item_unknown")
    assert body["detail"] == "事项不存在：NO-SUCH-ITEM"


def test_the_catalog_guide_still_answers_beside_it():
    assert Client().get("/api/v1/items/TB-minzheng-001").json()["code"] == "TB-minzheng-001"


def test_openapi_documents_the_endpoint_in_chinese():
    spec = Client().get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/items/{code}/eligibility"]["get"]
    assert operation["summary"].startswith("资格与办理地答复")
    assert "不能办理不是错误" in operation["description"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"code", "node", "on", "mode", "facts"} <= set(parameters)
    assert parameters["node"]["required"] and "节点" in parameters["node"]["description"]
    assert parameters["facts"]["style"] == "form" and parameters["facts"]["explode"] is True
