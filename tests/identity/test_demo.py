"""`tongban load_demo`: every story has its logins, and running it twice changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.identity import demo
from tongban.identity.models import Account, Enterprise, StaffBinding
from tongban.identity.tokens import issue_token, verify_token
from tongban.regions.models import Department, Node

from .factories import ensure_department, ensure_node, ensure_region

pytestmark = pytest.mark.django_db

DEMO_FILE = Path(__file__).resolve().parents[2] / "content" / "demo" / "accounts.yaml"


@pytest.fixture
def content(geo, monkeypatch) -> None:
    """What `tongban load_content` would provide, with some functions only at prefecture level."""
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    for entry in data["accounts"]:
        for post in entry.get("posts", []):
            ensure_node(str(post["node"]))
            ensure_region(str(post["region"]))
    for entry in data["enterprises"]:
        ensure_region(str(entry["domicile"]))
    for region, function in [
        ("370100", "renshe"),
        ("110000", "renshe"),
        ("110105", "renshe"),
        ("331000", "yibao"),
        ("520300", "yibao"),  # 正安 has none of its own here: the 遵义 bureau serves it
        ("230183", "shichang"),
        ("630100", "shichang"),  # no 行政审批服务局 here: the second choice is used
        ("320100", "minzheng"),
    ]:
        ensure_department(region, function)

    def find(code: str, function: str) -> Department | None:
        return Department.objects.filter(region_id=code, function=function).first()

    monkeypatch.setattr(demo, "find_department", find)


def run() -> str:
    out = io.StringIO()
    call_command("load_demo", "--file", str(DEMO_FILE), stdout=out)
    return out.getvalue()


def test_demo_loads_every_story(content) -> None:
    output = run()
    assert "tongban-demo-2026" in output
    assert "zhangtao" in output and "sd-renshe-reviewer" in output
    admin = Account.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("tongban-demo-2026")
    zhangtao = Account.objects.get(username="zhangtao")
    assert (zhangtao.display_name, zhangtao.real_name_level, zhangtao.id_number[:6]) == ("张涛", 3, "110105")
    clerk = StaffBinding.objects.get(account__username="zj-yibao-clerk")
    assert clerk.is_cross_province_window and clerk.region_id == "331024"
    assert clerk.department.function == "yibao"
    zhengan = StaffBinding.objects.get(account__username="gz-yibao-reviewer")
    assert (zhengan.region_id, zhengan.department.region_id) == ("520324", "520300")
    assert StaffBinding.objects.get(account__username="qh-shichang-reviewer").department.function == "shichang"
    supervisor = StaffBinding.objects.get(account__username="gz-supervisor")
    assert (supervisor.role, supervisor.region_id, supervisor.department) == ("supervisor", "520000", None)
    szr = Enterprise.objects.get(name="盛之瑞新能源科技有限公司")
    assert (szr.status, szr.domicile_id) == ("approved", "630100")
    assert szr.agents.get().account.username == "fan"
    assert szr.reviewed_by.username == "qh-shichang-reviewer"
    assert Enterprise.objects.filter(status="pending").count() == 1
    assert set(StaffBinding.objects.values_list("node_id", flat=True)) == {
        "370000",
        "110000",
        "330000",
        "520000",
        "230000",
        "630000",
        "320000",
    }


def test_demo_is_idempotent_and_keeps_tokens(content) -> None:
    run()
    counts = (Account.objects.count(), StaffBinding.objects.count(), Enterprise.objects.count())
    token = issue_token(Account.objects.get(username="fan")).token
    run()
    assert (Account.objects.count(), StaffBinding.objects.count(), Enterprise.objects.count()) == counts
    assert verify_token(token).username == "fan"


def test_demo_needs_the_content_first(geo, monkeypatch) -> None:
    monkeypatch.setattr(demo, "find_department", lambda code, function: None)
    with pytest.raises(CommandError, match="load_content"):
        run()
    assert not Account.objects.filter(username="zhangtao").exists()  # one transaction: nothing half-loaded


def test_adding_an_account_is_only_yaml(content, tmp_path) -> None:
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["accounts"].append(
        {
            "username": "sd-renshe-admin",
            "name": "山东人社管理员",
            "posts": [{"node": "370000", "region": "370100", "department": "renshe", "role": "administrator"}],
        }
    )
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    call_command("load_demo", "--file", str(path), stdout=io.StringIO())
    assert StaffBinding.objects.get(account__username="sd-renshe-admin").role == "administrator"


def test_invalid_id_number_in_yaml_is_reported(content, tmp_path) -> None:
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    data["accounts"][1]["id_number"] = "110105196203152014"
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match=r"zhangtao.*校验码"):
        call_command("load_demo", "--file", str(path), stdout=io.StringIO())


def test_every_node_in_the_demo_exists_in_the_fixture(content) -> None:
    assert Node.objects.filter(code="000000", is_hub=True).exists()
