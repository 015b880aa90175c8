"""The public catalog API: list with filters and pinyin search, 办事指南, problem details."""

from __future__ import annotations

import pytest
from django.test import Client

URL = "/api/v1/items"


@pytest.fixture
def client(catalog, fixed_clock) -> Client:
    return Client()


def codes(response) -> set[str]:
    return {item["code"] for item in response.json()["items"]}


def names(response) -> set[str]:
    return {item["name"] for item in response.json()["items"]}


def test_list_shows_items_in_force_today(client):
    body = client.get(URL).json()
    assert body["on"] == "2025-06-09"
    assert body["count"] == len(body["items"]) >= 20
    assert sum(t["count"] for t in body["theme_counts"]) == body["count"]
    pension = next(i for i in body["items"] if i["code"] == "TB-renshe-001")
    assert pension["applicant_type"] == {"code": "1", "label": "自然人"}
    assert pension["modes"] == [{"code": "multi_place", "label": "多地联办"}]
    assert pension["promised_limit"]["text"] == "45个工作日"


def test_filters(client):
    marriage_theme = client.get(URL, {"theme": "婚育"}).json()
    assert {i["theme"] for i in marriage_theme["items"]} == {"婚育"}
    # Theme counts ignore the theme filter so every theme's count stays visible.
    assert len(marriage_theme["theme_counts"]) > 1
    enterprise = client.get(URL, {"applicant_type": "2"}).json()["items"]
    assert enterprise and {i["applicant_type"]["label"] for i in enterprise} == {"企业法人"}
    multi = client.get(URL, {"mode": "multi_place"})
    assert {"企业职工基本养老保险关系转移接续", "基本医疗保险关系转移接续", "户口迁移"} <= names(multi)
    assert all(any(m["code"] == "multi_place" for m in i["modes"]) for i in multi.json()["items"])


def test_node_and_mode_filter_use_coverage_on_the_date(client):
    assert "TB-minzheng-001" in codes(client.get(URL, {"node": "620000", "mode": "proxy"}))
    assert "TB-minzheng-001" not in codes(client.get(URL, {"node": "110000", "on": "2022-01-01"}))
    assert "TB-minzheng-001" in codes(client.get(URL, {"node": "210000", "on": "2022-01-01"}))
    northeast = client.get(URL, {"node": "230000", "mode": "proxy"})
    assert "TB-shuiwu-004" in codes(northeast)
    assert "TB-shuiwu-004" not in codes(client.get(URL, {"node": "110000", "mode": "proxy"}))
    reimbursement = codes(client.get(URL, {"node": "330000"}))
    assert "TB-yibao-005" in reimbursement
    assert "TB-yibao-005" not in codes(client.get(URL, {"node": "110000"}))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("jhdj", "内地居民结婚登记"),
        ("JHDJ", "内地居民结婚登记"),
        ("结婚", "内地居民结婚登记"),
        ("hkqy", "户口迁移"),
        ("gongjijin", "住房公积金异地转移接续"),
    ],
)
def test_search_by_name_or_pinyin(client, q, expected):
    assert expected in names(client.get(URL, {"q": q}))


def test_search_narrows(client):
    assert names(client.get(URL, {"q": "lhdj"})) == {"内地居民离婚登记"}


def test_invalid_filter_is_a_problem(client):
    response = client.get(URL, {"mode": "fax"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_query"
    assert client.get(URL, {"on": "2025-13-01"}).json()["code"] == "invalid_query"


def test_guide_shows_everything_an_applicant_needs(client):
    body = client.get(f"{URL}/TB-renshe-001").json()
    assert body["name"] == "企业职工基本养老保险关系转移接续"
    assert body["jurisdiction_rule"] == {"code": "destination", "label": "迁入地（转入地）"}
    assert body["legal_limit"]["text"] == "45个工作日"
    assert [(leg["place"]["label"], leg["limit"]["text"]) for leg in body["legs"]] == [
        ("转入地", "15个工作日"),
        ("转出地", "15个工作日"),
        ("转入地", "15个工作日"),
    ]
    assert body["materials"][0]["licence_type"] == "jumin_shenfenzheng"
    assert body["materials"][0]["form"] == {"code": "original", "label": "原件"}
    assert "国办发〔2009〕66号" in body["source"]
    assert "code" in body["unverified"]
    assert len(body["coverage"]) == 32
    assert body["coverage"][0]["node_name"] == "国家政务服务平台"
    assert body["form_fields"][1]["type"] == {"code": "id_number", "label": "公民身份号码"}


def test_guide_for_a_past_date_shows_the_version_then_in_force(client):
    body = client.get(f"{URL}/TB-minzheng-001", {"on": "2022-01-01"}).json()
    assert body["version"] == 1
    assert body["jurisdiction_rule"]["label"] == "居住证发放地"
    assert {c["node"] for c in body["coverage"]} == {
        "210000",
        "370000",
        "440000",
        "500000",
        "510000",
        "320000",
        "410000",
        "420000",
        "610000",
    }
    assert [v["version"] for v in body["versions"]] == [1, 2, 3]
    today = client.get(f"{URL}/TB-minzheng-001").json()
    assert today["version"] == 3 and today["fees"] == "不收费"
    assert today["legal_limit"]["unit_label"] == "工作日"


def test_divorce_limit_in_calendar_days(client):
    body = client.get(f"{URL}/TB-minzheng-002").json()
    assert body["legal_limit"]["text"] == "30个自然日"


def test_unknown_item_is_a_404_problem(client):
    response = client.get(f"{URL}/NO-SUCH-ITEM")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert (body["code"], body["detail"]) == ("item_unknown", "事项不存在：NO-SUCH-ITEM")


def test_guide_before_any_version_is_not_in_force(client):
    response = client.get(f"{URL}/TB-minzheng-001", {"on": "2020-01-01"})
    assert response.status_code == 422
    assert response.json()["code"] == "item_not_in_force"


def test_search_by_code(client):
    assert codes(client.get(URL, {"q": "TB-renshe-001"})) == {"TB-renshe-001"}
