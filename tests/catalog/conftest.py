"""Catalog fixtures: the nodes and regions the catalog refers to, created with the ORM, and the loaded catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tongban.catalog.loader import load_catalog
from tongban.regions.models import Node, Region

PROVINCES = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
}
# A few lower-level divisions the tests use as jurisdiction facts: (code, name, level, parent).
LOCAL_REGIONS = [
    ("110100", "市辖区", 2, "110000"),
    ("110101", "东城区", 3, "110100"),
    ("320100", "南京市", 2, "320000"),
    ("331000", "台州市", 2, "330000"),
    ("331024", "仙居县", 3, "331000"),
    ("370100", "济南市", 2, "370000"),
    ("520300", "遵义市", 2, "520000"),
    ("520324", "正安县", 3, "520300"),
]
CONTENT_DIR = Path(settings.CONTENT_DIR)


@pytest.fixture
def nodes(db) -> list[Node]:
    for code, name in PROVINCES.items():
        Region.objects.create(code=code, name=name, level=Region.Level.PROVINCE)
    for code, name, level, parent in LOCAL_REGIONS:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    created = [Node.objects.create(code="000000", name="国家政务服务平台", is_hub=True)]
    for code, name in PROVINCES.items():
        created.append(Node.objects.create(code=code, name=f"{name}政务服务平台", region_id=code))
    return created


@pytest.fixture
def catalog(nodes) -> dict[str, int]:
    return load_catalog(CONTENT_DIR)
