"""Actor resolution: which node a request acts at, and which posts and enterprises come with it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from tongban.errors import DomainError
from tongban.identity.actors import resolve_actor, system_actor
from tongban.identity.models import Enterprise, StaffRole

from .factories import APPROVED_CODE, PENDING_CODE, ensure_department

pytestmark = pytest.mark.django_db


def request(node: str | None = None):
    headers = {"X-Tongban-Node": node} if node else {}
    return RequestFactory().get("/api/v1/me", headers=headers)


def test_header_names_the_node(geo, make_account, bind) -> None:
    account = make_account("sd-reviewer")
    bind(account, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    bind(account, "630000", StaffRole.SUPERVISOR)
    actor = resolve_actor(request("370000"), account)
    assert actor.node == "370000"
    assert actor.roles == {"reviewer"}
    assert [b.node_id for b in actor.bindings] == ["370000"]
    assert actor.has_role("reviewer", geo["sd_renshe"])
    assert actor.has_role("reviewer", geo["sd_renshe"].pk)
    assert not actor.has_role("reviewer", geo["qh_shichang"])
    assert not actor.has_role("supervisor")


def test_unknown_node_header_is_refused(geo, make_account) -> None:
    with pytest.raises(DomainError) as caught:
        resolve_actor(request("999999"), make_account("zhangtao"))
    assert (caught.value.code, caught.value.status) == ("unknown_node", 400)


def test_staff_with_posts_at_one_node_act_there_by_default(geo, make_account, bind) -> None:
    account = make_account("qh-reviewer")
    bind(account, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    bind(account, "630000", StaffRole.APPROVER, department=geo["qh_shichang"])
    actor = resolve_actor(request(), account)
    assert actor.node == "630000"
    assert actor.roles == {"reviewer", "approver"}
    assert actor.is_staff_member


def test_staff_with_posts_at_several_nodes_must_choose(geo, make_account, bind) -> None:
    account = make_account("roaming")
    bind(account, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    bind(account, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    actor = resolve_actor(request(), account)
    assert actor.node is None
    assert actor.bindings == ()
    assert not actor.is_staff_member


def test_inactive_posts_do_not_count(geo, make_account, bind) -> None:
    account = make_account("former")
    binding = bind(account, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    binding.active = False
    binding.save()
    actor = resolve_actor(request("630000"), account)
    assert actor.bindings == ()
    assert resolve_actor(request(), account).node is None


def test_citizen_without_header_acts_nowhere(geo, make_account) -> None:
    actor = resolve_actor(request(), make_account("zhangtao", display_name="张涛"))
    assert actor.node is None
    assert actor.name == "张涛"
    assert actor.roles == set()
    assert not actor.is_staff_member


@override_settings(TONGBAN_NODE="370000")
def test_a_node_process_acts_at_its_own_node(geo, make_account, bind) -> None:
    account = make_account("qh-reviewer")
    bind(account, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    actor = resolve_actor(request(), account)
    assert actor.node == "370000"
    assert actor.bindings == ()  # posts elsewhere give no power here
    assert resolve_actor(request("370000"), account).node == "370000"


@override_settings(TONGBAN_NODE="370000")
def test_a_node_process_refuses_requests_for_another_node(geo, make_account) -> None:
    with pytest.raises(DomainError) as caught:
        resolve_actor(request("630000"), make_account("zhangtao"))
    assert (caught.value.code, caught.value.status) == ("wrong_node", 421)


def test_only_approved_enterprises_can_be_acted_for(make_account, make_enterprise) -> None:
    fan = make_account("fan")
    make_enterprise(APPROVED_CODE, status=Enterprise.Status.APPROVED, agent=fan)
    make_enterprise(PENDING_CODE, status=Enterprise.Status.PENDING, agent=fan)
    make_enterprise("11100000000013338W", status=Enterprise.Status.REJECTED, agent=fan)
    actor = resolve_actor(request(), fan)
    assert [e.credit_code for e in actor.enterprises] == [APPROVED_CODE]
    assert actor.acts_for(APPROVED_CODE)
    assert not actor.acts_for(PENDING_CODE)


def test_inactive_agents_cannot_act(make_account, make_enterprise) -> None:
    fan = make_account("fan")
    enterprise = make_enterprise(APPROVED_CODE, status=Enterprise.Status.APPROVED, agent=fan)
    enterprise.agents.update(active=False)
    assert resolve_actor(request(), fan).enterprises == ()


def test_system_actor(geo) -> None:
    actor = system_actor("330000")
    assert (actor.username, actor.node, actor.account) == ("system", "330000", None)
    assert actor.roles == {"system"}
    assert actor.has_role("system")
    assert not actor.has_role("reviewer")


def test_bindings_carry_department_and_region(geo, make_account, bind, django_assert_num_queries) -> None:
    account = make_account("zj-clerk")
    bind(account, "330000", StaffRole.WINDOW_CLERK, department=ensure_department("331024", "yibao"))
    actor = resolve_actor(request("330000"), account)
    with django_assert_num_queries(0):
        assert actor.bindings[0].department.function == "yibao"
        assert actor.bindings[0].region.code == "331024"
