"""Request validation errors are Chinese and name each field in the user's terms (golden files in golden/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.test import Client

from api_contract import assert_declared
from support import Api

GOLDEN = Path(__file__).parent / "golden"
# TONGBAN_UPDATE_GOLDEN=1 rewrites the files from the answers (then review the diff).
UPDATE = os.environ.get("TONGBAN_UPDATE_GOLDEN") == "1"


def post(path: str, body: str, client: Client | None = None):
    return (client or Client()).post("/api/v1" + path, data=body, content_type="application/json")


CASES = {
    "token_missing_password": lambda: post("/auth/token", json.dumps({"username": "zhangtao"})),
    "token_empty_name_and_number_password": lambda: post(
        "/auth/token", json.dumps({"username": "", "password": 20260101})
    ),
    "token_body_not_an_object": lambda: post("/auth/token", "[1, 2]"),
    "token_malformed_json": lambda: post("/auth/token", '{"username": "zhangtao",'),
    "eligibility_without_node": lambda: Client().get("/api/v1/items/TB-minzheng-001/eligibility"),
    "review_unknown_decision": lambda: Api("zhangtao").post(
        "/enterprises/91370100MA3C5KXX1W/review", {"decision": "maybe"}
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_validation_problem_matches_its_golden_file(name):
    response = CASES[name]()
    body = response.json()
    answer = {"status": response.status_code, "body": body}
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        path.write_text(json.dumps(answer, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert answer == json.loads(path.read_text(encoding="utf-8"))
    method = "GET" if "eligibility" in name else "POST"
    assert_declared(method, body["instance"], response)


def test_the_issue_example_names_the_password_in_chinese():
    body = CASES["token_missing_password"]().json()
    assert body["errors"] == [
        {
            "field": "password",
            "label": "密码",
            "code": "missing",
            "message": "“密码”为必填项。",
            "loc": ["body", "payload", "password"],
        }
    ]
    assert "Field required" not in json.dumps(body)
