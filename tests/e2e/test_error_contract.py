"""Every error the catalog, eligibility, regions and trust-list endpoints answer is one their operation declares;
so are the answers any authenticated operation can give."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tongban.exchange.models import TrustListDocument

from api_contract import assert_declared
from support import Api

PUBLIC_ERRORS = [
    ("/api/v1/items", {"mode": "fax"}, 422, "invalid_query"),
    ("/api/v1/items", {"node": "990000"}, 422, "invalid_query"),
    ("/api/v1/items", {"on": "2025-02-30"}, 422, "invalid_query"),
    ("/api/v1/items/NO-SUCH-ITEM", {}, 404, "item_unknown"),
    ("/api/v1/items/TB-minzheng-001", {"on": "2020-01-01"}, 422, "item_not_in_force"),
    ("/api/v1/items/TB-minzheng-001", {"on": "yesterday"}, 422, "invalid_query"),
    ("/api/v1/items/NO-SUCH-ITEM/eligibility", {"node": "420000"}, 404, "item_unknown"),
    ("/api/v1/items/TB-minzheng-001/eligibility", {}, 422, "invalid_request"),
    ("/api/v1/items/TB-minzheng-001/eligibility", {"node": "420000", "colour": "红"}, 422, "invalid_request"),
    ("/api/v1/regions", {"parent": "999999"}, 404, "region_unknown"),
    ("/api/v1/regions/12", {}, 404, "region_unknown"),
]


@pytest.mark.parametrize(("path", "params", "status", "code"), PUBLIC_ERRORS)
def test_public_errors_are_declared(path, params, status, code):
    response = Client().get(path, params)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert_declared("GET", path, response)


def test_a_node_without_a_trust_list_answers_a_declared_404():
    TrustListDocument.objects.all().delete()  # rolled back with the test
    response = Client().get("/api/v1/trust-list")
    assert response.status_code == 404
    assert assert_declared("GET", "/api/v1/trust-list", response)["code"] == "trust_list_missing"


def test_login_and_node_errors_are_declared_on_authenticated_operations(settings):
    anonymous = Client().get("/api/v1/me")
    assert assert_declared("GET", "/api/v1/me", anonymous)["code"] == "unauthenticated"
    bad_token = Client().get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert assert_declared("GET", "/api/v1/cases", bad_token)["code"] == "token_invalid"
    unknown = Api("zhangtao", node="990000").get("/me")
    assert assert_declared("GET", "/api/v1/me", unknown)["code"] == "unknown_node"
    user = Api("zhangtao")
    settings.TONGBAN_NODE = "370000"
    user.login()  # at a provincial node the account is the replica of the hub's
    user.node = "110000"
    wrong = user.get("/cases")
    assert (wrong.status_code, assert_declared("GET", "/api/v1/cases", wrong)["code"]) == (421, "wrong_node")


def test_body_errors_are_declared():
    malformed = Client().post("/api/v1/auth/token", data="{", content_type="application/json")
    assert assert_declared("POST", "/api/v1/auth/token", malformed)["code"] == "malformed_json"
    invalid = Client().post("/api/v1/auth/token", data=json.dumps({}), content_type="application/json")
    assert assert_declared("POST", "/api/v1/auth/token", invalid)["code"] == "invalid_request"
