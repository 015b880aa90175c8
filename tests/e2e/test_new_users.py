"""A new citizen and a new company register, are approved, apply and are served by a department that has
staff — all through the API, without the admin."""

from __future__ import annotations

import json

from django.test import Client

from tongban.identity.validators import make_credit_code
from tongban.stories import story

from support import Api, dispatch, ok

PASSWORD = "Xining-2026-new"


def register(body: dict) -> dict:
    response = Client().post("/api/v1/accounts", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content.decode()
    return response.json()


def test_a_new_citizen_registers_applies_and_is_served():
    register(
        {
            "username": "xinmin",
            "name": "郑垂禄",
            "id_number": "52032419780623051X",
            "phone": "13900009999",
            "password": PASSWORD,
        }
    )
    citizen = Api("xinmin", node="330000", password=PASSWORD)
    body = story("online")["request"]
    body["form"] = {**body["form"], "applicant_id_number": "52032419780623051X"}
    case_no = ok(citizen.post("/cases", body), 201)["case_no"]
    for code in ("id_card", "commitment"):
        ok(citizen.upload(case_no, code), 201)
    ok(citizen.act(case_no, "submit"))
    dispatch()
    # The owning department's reviewers have it in their queue.
    reviewer = Api("gz-yibao-reviewer", node="520000")
    assert case_no in [c["case_no"] for c in ok(reviewer.get("/cases", queue="mine"))["items"]]
    assert reviewer.case(case_no)["unassigned"] is False


def test_a_new_company_registers_is_approved_by_generated_staff_and_applies():
    code = make_credit_code("630100", 424242)
    register(
        {
            "username": "gaoyuan",
            "name": "马高原",
            "id_number": "630102198001010035",
            "phone": "13900008888",
            "password": PASSWORD,
            "enterprise": {
                "credit_code": code,
                "name": "西宁高原科技有限公司",
                "domicile": "630100",
                "legal_representative": "马高原",
            },
        }
    )
    reviewer = Api("630000-shichang-630100-reviewer", node="630000")
    pending = ok(reviewer.get("/enterprises", status="pending"))
    assert code in [e["credit_code"] for e in pending["items"]]
    ok(reviewer.post(f"/enterprises/{code}/review", {"decision": "approve"}))

    agent = Api("gaoyuan", node="630000", password=PASSWORD)
    body = {
        "item_code": "TB-shichang-001",
        "mode": "online",
        "enterprise_credit_code": code,
        "form": {
            "application_kind": "遗失补领",
            "enterprise_name": "西宁高原科技有限公司",
            "credit_code": code,
            "domicile_region": "630100",
            "agent_name": "马高原",
            "agent_id_number": "630102198001010035",
            "phone": "13900008888",
        },
    }
    case_no = ok(agent.post("/cases", body), 201)["case_no"]
    for material in ("application", "agent_id_card", "authorisation"):
        ok(agent.upload(case_no, material), 201)
    ok(agent.act(case_no, "submit"))
    dispatch()
    owner = Api("630000-shichang-630100-reviewer", node="630000")
    ok(owner.act(case_no, "accept"))
    assert agent.case(case_no)["status"] == "accepted"
