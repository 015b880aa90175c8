"""`tongban load_demo`: every story has its logins, every owning department has staff, and running it
twice changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import hashers
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.catalog.models import Coverage, Item, ItemVersion, Leg
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
            if post["node"] == "000000":
                Node.objects.get_or_create(code="000000", defaults={"name": "国家政务服务平台", "is_hub": True})
                continue
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
        ("130600", "ziran"),
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
    national = StaffBinding.objects.get(account__username="hub-supervisor")
    assert (national.node_id, national.region_id, national.role) == ("000000", None, "supervisor")
    supervisor = StaffBinding.objects.get(account__username="gz-supervisor")
    assert (supervisor.role, supervisor.region_id, supervisor.department) == ("supervisor", "520000", None)
    szr = Enterprise.objects.get(name="盛之瑞新能源科技有限公司")
    assert (szr.status, szr.domicile_id) == ("approved", "630100")
    assert szr.agents.get().account.username == "fan"
    assert szr.reviewed_by.username == "qh-shichang-reviewer"
    assert Enterprise.objects.filter(status="pending").count() == 1
    assert szr.legal_representative_id_number == Account.objects.get(username="fan").id_number
    story_posts = StaffBinding.objects.exclude(account__username__regex=demo.GENERATED_PATTERN)
    assert set(story_posts.values_list("node_id", flat=True)) == {
        "000000",
        "370000",
        "110000",
        "330000",
        "520000",
        "230000",
        "630000",
        "320000",
        "130000",
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


# ---- staff generated for every owning department --------------------------------------------------


def add_item(code: str, function: str, nodes: list[str], legs: tuple[str, ...] = ()) -> Item:
    item = Item.objects.create(
        code=code, name=code, theme="社保", applicant_type="1", department_function=function, item_type="20"
    )
    version = ItemVersion.objects.create(
        item=item,
        version=1,
        valid_from=dt.date(2021, 1, 1),
        jurisdiction_rule="insured",
        legal_limit=20,
        promised_limit=10,
        result_type="结果",
        source="测试",
    )
    for order, leg_function in enumerate(legs, start=1):
        Leg.objects.create(
            item_version=version, order=order, name="环节", place="origin", department_function=leg_function, limit=5
        )
    for node in nodes:
        Coverage.objects.create(item=item, node_id=node, modes=["online"], valid_from=dt.date(2021, 1, 1))
    return item


@pytest.fixture
def catalog(content) -> None:
    """An item owned by 市场监管 covered at 青海, a 人社 item with a 公积金 leg covered at 山东, and a
    民政 department at 江苏 that owns nothing covered there."""
    for region, function in [
        ("630000", "shichang"),
        ("630102", "shichang"),  # a county department: not generated (the unassigned queue covers it)
        ("370000", "renshe"),
        ("370100", "gongjijin"),
        ("320000", "minzheng"),
    ]:
        ensure_department(region, function)
    add_item("TB-test-001", "shichang", ["630000", "000000"])
    add_item("TB-test-002", "renshe", ["370000"], legs=("gongjijin",))
    add_item("TB-test-003", "minzheng", ["110000"])


def generated(username: str) -> StaffBinding:
    return StaffBinding.objects.select_related("account", "department").get(account__username=username)


def test_every_owning_department_gets_a_reviewer_and_an_approver(catalog) -> None:
    run()
    for region, function in [
        ("630000", "shichang"),
        ("630100", "shichang"),
        ("370000", "renshe"),
        ("370100", "renshe"),
    ]:
        node = region[:2] + "0000"
        for role in ("reviewer", "approver"):
            post = generated(f"{node}-{function}-{region}-{role}")
            assert (post.department.region_id, post.department.function) == (region, function)
            assert (post.role, post.active, post.node_id, post.region_id) == (role, True, node, region)
    # a leg's function is worked at the node too
    assert generated("370000-gongjijin-370100-approver").department.function == "gongjijin"
    reviewer = generated("630000-shichang-630100-reviewer").account
    assert reviewer.display_name == "西宁市shichang审查员"  # the department's name and the role
    assert (reviewer.real_name_level, reviewer.is_staff, reviewer.is_superuser) == (0, False, False)
    assert reviewer.id_number == ""


def test_nothing_is_generated_for_counties_or_functions_a_node_does_not_own(catalog) -> None:
    run()
    usernames = set(Account.objects.filter(username__regex=demo.GENERATED_PATTERN).values_list("username", flat=True))
    assert not any("630102" in name for name in usernames)
    assert not any("-minzheng-" in name for name in usernames)  # 民政 is covered at 北京, which has no 民政 department
    assert not any(name.startswith("000000") for name in usernames)  # the hub has no departments


def test_every_provincial_node_gets_an_administrator(catalog) -> None:
    run()
    for node in Node.objects.filter(is_hub=False):
        post = generated(f"{node.code}-administrator")
        assert (post.role, post.department, post.region_id) == ("administrator", None, node.code)
        assert post.account.display_name == f"{node.name}管理员"


def test_generated_staff_share_the_demo_password_hashed_once(catalog, monkeypatch) -> None:
    calls = []
    real = hashers.make_password
    monkeypatch.setattr(demo, "make_password", lambda password: calls.append(password) or real(password))
    run()
    assert calls == ["tongban-demo-2026"]
    hashes = set(Account.objects.values_list("password", flat=True))
    assert len(hashes) == 1
    assert Account.objects.get(username="630000-administrator").check_password("tongban-demo-2026")


def test_rerunning_hashes_nothing_changes_nothing_and_keeps_tokens(catalog, monkeypatch) -> None:
    run()
    rows = lambda: (  # noqa: E731
        sorted(Account.objects.values_list("username", "password", "token_version", "display_name", "is_active")),
        sorted(StaffBinding.objects.values_list("account__username", "node_id", "department_id", "role", "active")),
    )
    before = rows()
    names = ("fan", "370000-renshe-370000-reviewer")
    tokens = [issue_token(Account.objects.get(username=name)).token for name in names]
    monkeypatch.setattr(demo, "make_password", lambda password: pytest.fail("hashed again"))
    run()
    assert rows() == before
    assert tuple(verify_token(token).username for token in tokens) == names


def test_rerunning_restores_what_was_changed_by_hand(catalog) -> None:
    run()
    account = Account.objects.get(username="630000-shichang-630000-reviewer")
    token = issue_token(account).token
    account.set_password("changed-by-hand")
    account.is_active = False
    account.save()
    StaffBinding.objects.filter(account=account).update(active=False)
    run()
    account.refresh_from_db()
    assert account.is_active and account.check_password("tongban-demo-2026")
    assert generated(account.username).active
    with pytest.raises(Exception, match="token_revoked"):
        verify_token(token)


def test_posts_end_when_the_catalog_no_longer_needs_them(catalog) -> None:
    run()
    Coverage.objects.filter(item_id="TB-test-001").delete()
    run()
    assert not generated("630000-shichang-630100-reviewer").active
    assert generated("370000-renshe-370100-reviewer").active


def test_stories_only_generates_nobody(catalog) -> None:
    out = io.StringIO()
    call_command("load_demo", "--file", str(DEMO_FILE), "--stories-only", stdout=out)
    assert not Account.objects.filter(username__regex=demo.GENERATED_PATTERN).exists()
    assert "生成" not in out.getvalue()


def test_the_output_names_the_pattern_not_every_account(catalog) -> None:
    output = run()
    assert "<节点>-<部门职能>-<区划>-<角色>" in output and "<节点>-administrator" in output
    assert "370000-renshe-370000-reviewer" not in output.split("另为")[0]
    assert len(output.splitlines()) < 60
    total = Account.objects.count()
    assert f"已加载 {total} 个演示账号" in output


def test_a_provincial_node_of_a_federation_loads_no_accounts(catalog, settings) -> None:
    settings.TONGBAN_NODE = "370000"
    with pytest.raises(CommandError, match="国家平台加载"):
        run()
    assert not Account.objects.exists()


def test_the_hub_of_a_federation_keeps_every_nodes_staff(catalog, settings) -> None:
    settings.TONGBAN_NODE = "000000"
    run()
    nodes = set(
        StaffBinding.objects.filter(account__username__regex=demo.GENERATED_PATTERN).values_list("node_id", flat=True)
    )
    assert {"370000", "630000", "230000"} <= nodes
