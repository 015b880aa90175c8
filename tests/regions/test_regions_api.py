from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("regions_loaded")]


@pytest.fixture
def client() -> Client:
    return Client()


def test_without_parent_lists_the_provinces(client: Client):
    response = client.get("/api/v1/regions")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 31
    assert body[0] == {"code": "110000", "name": "北京市", "level": 1, "level_name": "省级", "parent": None}


def test_with_parent_lists_its_children(client: Client):
    body = client.get("/api/v1/regions", {"parent": "370000"}).json()
    jinan = next(region for region in body if region["code"] == "370100")
    assert jinan == {"code": "370100", "name": "济南市", "level": 2, "level_name": "地级", "parent": "370000"}
    assert all(region["parent"] == "370000" for region in body)


def test_unknown_parent_is_a_problem(client: Client):
    response = client.get("/api/v1/regions", {"parent": "999999"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "region_unknown"
    assert "999999" in body["detail"]


def test_region_detail_has_ancestors_and_node(client: Client):
    body = client.get("/api/v1/regions/370102").json()
    assert (body["code"], body["name"], body["level"], body["parent"]) == ("370102", "历下区", 3, "370100")
    assert [a["code"] for a in body["ancestors"]] == ["370000", "370100"]
    assert body["node"] == {"code": "370000", "name": "山东省政务服务平台", "is_hub": False, "active": True}


def test_region_detail_accepts_a_padded_code(client: Client):
    assert client.get("/api/v1/regions/370102000000").json()["code"] == "370102"


def test_unknown_region_detail_is_a_problem(client: Client):
    response = client.get("/api/v1/regions/999999")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "region_unknown"
