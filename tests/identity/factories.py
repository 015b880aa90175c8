"""Plain factories and constants shared by the identity tests."""

from __future__ import annotations

from tongban.identity.models import Account
from tongban.identity.tokens import issue_token
from tongban.regions.models import Department, Node, Region

PASSWORD = "correct-horse-battery"
APPROVED_CODE = "91630100MA7K2Q3H85"  # domicile 西宁
PENDING_CODE = "91630100MA7L8N5C5L"  # domicile 西宁
NEW_CODE = "11100000000013338W"

PROVINCE_NAMES = {
    "11": "北京市",
    "14": "山西省",
    "23": "黑龙江省",
    "32": "江苏省",
    "33": "浙江省",
    "37": "山东省",
    "52": "贵州省",
    "63": "青海省",
}


def ensure_region(code: str, name: str | None = None) -> Region:
    """A region and its parents (province, prefecture), created on demand."""
    existing = Region.objects.filter(code=code).first()
    if existing is not None:
        return existing
    if code.endswith("0000"):
        return Region.objects.create(code=code, name=name or PROVINCE_NAMES.get(code[:2], code), level=1)
    if code.endswith("00"):
        parent = ensure_region(code[:2] + "0000")
        return Region.objects.create(code=code, name=name or f"地级{code}", level=2, parent=parent)
    parent = ensure_region(code[:4] + "00")
    return Region.objects.create(code=code, name=name or f"县级{code}", level=3, parent=parent)


def ensure_node(province_code: str) -> Node:
    region = ensure_region(province_code)
    node, _ = Node.objects.get_or_create(code=province_code, defaults={"name": f"{region.name}节点", "region": region})
    return node


def ensure_department(region_code: str, function: str) -> Department:
    region = ensure_region(region_code)
    node = ensure_node(region_code[:2] + "0000")
    department, _ = Department.objects.get_or_create(
        region=region, function=function, defaults={"node": node, "name": f"{region.name}{function}"}
    )
    return department


def bearer(account: Account, node: str | None = None) -> dict[str, str]:
    """Request headers carrying a fresh token (and optionally the node to act at)."""
    headers = {"Authorization": f"Bearer {issue_token(account).token}"}
    if node is not None:
        headers["X-Tongban-Node"] = node
    return headers
