"""After `load_content` and `load_demo`, every item has someone to work it at every covered node."""

from __future__ import annotations

import pytest

from tongban.catalog.models import Coverage
from tongban.errors import NotFound
from tongban.identity.models import StaffBinding, StaffRole
from tongban.regions.models import Department, Node, Region
from tongban.regions.queries import department_for

from support import Api, ok

ROLES = {StaffRole.REVIEWER, StaffRole.APPROVER}


def test_every_covered_item_has_a_reviewer_and_an_approver_at_the_owners_own_region() -> None:
    provinces = dict(Node.objects.filter(is_hub=False).values_list("code", "region_id"))
    covered = Coverage.objects.exclude(node__is_hub=True).values_list("item_id", "item__department_function", "node_id")
    items: dict[tuple[str, str], list[str]] = {}
    for item, function, node in covered.distinct():
        items.setdefault((node, function), []).append(item)
    posts = StaffBinding.objects.filter(active=True, account__is_active=True).exclude(department=None)
    staffed: dict[tuple[int, str], set[str]] = {}
    for department, node, role in posts.values_list("department_id", "node_id", "role"):
        staffed.setdefault((department, node), set()).add(role)
    unstaffed = []
    for (node, function), codes in items.items():
        try:
            owners = [department_for(provinces[node], function)]
        except NotFound:
            # No province-level department of this function (公积金 is run by the prefectures):
            # then every prefecture's own department must be staffed.
            owners = list(
                Department.objects.filter(node_id=node, function=function, region__level=Region.Level.PREFECTURE)
            )
            assert owners, (node, function, codes)
        unstaffed += [(node, d.name, codes[0]) for d in owners if not staffed.get((d.pk, d.node_id), set()) >= ROLES]
    assert not unstaffed, unstaffed[:10]
    assert sum(len(codes) for codes in items.values()) > 3000  # every item at every province, not a handful


def test_the_surveying_case_owned_by_beijing_has_staff() -> None:
    """The observation behind it: a 测绘资质 case owned by 北京 waited in no queue."""
    owner = department_for("110000", "ziran")
    assert owner.name == "北京市规划和自然资源委员会"
    reviewer = StaffBinding.objects.get(account__username="110000-ziran-110000-reviewer")
    assert (reviewer.department, reviewer.role, reviewer.active) == (owner, StaffRole.REVIEWER, True)


def test_every_provincial_node_has_an_administrator() -> None:
    nodes = set(Node.objects.filter(is_hub=False).values_list("code", flat=True))
    administrators = StaffBinding.objects.filter(role=StaffRole.ADMINISTRATOR, active=True, department=None)
    assert nodes <= set(administrators.values_list("node_id", flat=True))


@pytest.mark.parametrize("username", ["110000-ziran-110000-approver", "630000-administrator", "qh-shichang-reviewer"])
def test_generated_and_story_staff_log_in_with_the_shared_password(username: str) -> None:
    me = ok(Api(username).get("/me"))
    assert me["staff_bindings"]


def test_a_generated_market_regulation_reviewer_reviews_the_pending_demo_enterprise() -> None:
    reviewer = Api("630000-shichang-630100-reviewer", node="630000")
    [pending] = ok(reviewer.get("/enterprises", status="pending"))["items"]
    assert pending["name"] == "西宁通办示范光伏材料有限公司"
    body = ok(reviewer.post(f"/enterprises/{pending['credit_code']}/review", {"decision": "approve"}))
    assert body["status"] == "approved"
