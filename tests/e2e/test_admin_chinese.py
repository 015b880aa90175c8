"""The administration is Chinese throughout: Django's own labels, record titles, and modes by their names."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tongban.catalog.models import Coverage, ItemVersion, Leg

ENGLISH = ["Add link", "Model name", "Change or view list link", " object (", '["online', '["proxy', '["multi_place']
# Apps whose admin pages this covers (identity and cases are checked by their own tests).
APPS = ("catalog", "regions", "worktime", "audit", "exchange", "licences")


@pytest.fixture
def staff() -> Client:
    client = Client()
    user = get_user_model().objects.create(username="admin-zh", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def pages() -> list[str]:
    urls = ["/admin/"]
    for model in admin.site._registry:
        if model._meta.app_label not in APPS:
            continue
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(base + "_changelist"))
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(reverse(base + "_change", args=[first.pk]))
    return urls


def test_no_english_labels_or_codes_in_the_admin(staff):
    for url in pages():
        response = staff.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert '<html lang="zh-hans"' in page, url
        found = [text for text in ENGLISH if text in page]
        assert not found, (url, found)


def test_modes_and_functions_are_shown_by_their_chinese_names(staff):
    coverage = staff.get("/admin/catalog/coverage/", {"q": "TB-renshe-001"}).content.decode()
    assert "多地联办" in coverage
    versions = staff.get("/admin/catalog/itemversion/", {"q": "TB-minzheng-001"}).content.decode()
    assert "异地代收代办" in versions
    items = staff.get("/admin/catalog/item/", {"q": "TB-yibao"}).content.decode()
    assert "医疗保障" in items


def test_record_titles_are_chinese():
    leg = Leg.objects.filter(item_version__item_id="TB-renshe-001").order_by("order").first()
    assert str(leg) == f"第 1 环节：{leg.name}"
    coverage = Coverage.objects.filter(item_id="TB-renshe-001", node_id="110000").first()
    assert str(coverage).startswith("TB-renshe-001 在节点 110000 的通办范围（")
    version = ItemVersion.objects.get(item_id="TB-renshe-001", version=1)
    assert str(version) == "企业职工基本养老保险关系转移接续（第 1 版）"
