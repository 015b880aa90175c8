"""Catalog admin pages render, in Chinese, with versions, materials, legs and coverage."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tongban.catalog.models import Coverage, ItemVersion


@pytest.fixture
def admin_client_(catalog) -> Client:
    client = Client()
    user = get_user_model().objects.create(username="catalog-admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_pages_render(admin_client_):
    version = ItemVersion.objects.get(item_id="TB-renshe-001", version=1)
    coverage = Coverage.objects.filter(item_id="TB-renshe-001").first()
    pages = {
        "/admin/catalog/item/": "事项",
        "/admin/catalog/item/TB-renshe-001/change/": "版本列表",
        "/admin/catalog/itemversion/": "事项版本",
        f"/admin/catalog/itemversion/{version.pk}/change/": "联办环节",
        "/admin/catalog/coverage/": "通办范围",
        f"/admin/catalog/coverage/{coverage.pk}/change/": "代收代办交接时限",
    }
    for url, text in pages.items():
        response = admin_client_.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_admin_item_search_by_pinyin_initials(admin_client_):
    page = admin_client_.get("/admin/catalog/item/", {"q": "jhdj"}).content.decode()
    assert "内地居民结婚登记" in page
