"""Staff list the enterprises they may review; agents and the legal representative manage the agents;
an approved establishment case creates its enterprise already approved."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from tongban.audit.models import AuditEntry
from tongban.errors import Conflict
from tongban.identity.enterprises import establish_enterprise
from tongban.identity.models import Enterprise, EnterpriseAgent, RealNameLevel, StaffRole
from tongban.identity.validators import credit_code_check_char

from .factories import APPROVED_CODE, NEW_CODE, PENDING_CODE, bearer, ensure_department, ensure_region

pytestmark = pytest.mark.django_db

FAN_ID = "230183197504102029"
LINA_ID = "370102198805163025"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    return body


def credit_code(region: str, serial: str) -> str:
    body = "91" + region + serial
    return body + credit_code_check_char(body)


@pytest.fixture
def qh_reviewer(geo, make_account, bind):
    staff = make_account("qh-reviewer")
    bind(staff, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    return staff


# ---- GET /enterprises --------------------------------------------------------------------------


@pytest.fixture
def registrations(geo, make_account, make_enterprise, fixed_clock) -> dict[str, Enterprise]:
    """Three 青海 enterprises in three states and one 山东 enterprise, registered a minute apart."""
    made = {}
    for key, code, status in [
        ("pending", PENDING_CODE, Enterprise.Status.PENDING),
        ("approved", APPROVED_CODE, Enterprise.Status.APPROVED),
        ("rejected", NEW_CODE, Enterprise.Status.REJECTED),
    ]:
        enterprise = make_enterprise(code, status=status, agent=make_account(f"agent-{key}"))
        enterprise.registered_at = fixed_clock.now()
        enterprise.save()
        fixed_clock.advance(minutes=1)
        made[key] = enterprise
    ensure_region("370100")
    made["shandong"] = Enterprise.objects.create(
        credit_code=credit_code("370100", "MA7K2Q3H8"), name="山东企业", domicile_id="370100"
    )
    return made


def listing(client: Client, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/enterprises", params, headers=headers)


def test_reviewers_list_the_enterprises_of_their_province_newest_first(client, registrations, qh_reviewer) -> None:
    body = listing(client, bearer(qh_reviewer)).json()
    assert body["total"] == 3
    assert [item["credit_code"] for item in body["items"]] == [NEW_CODE, APPROVED_CODE, PENDING_CODE]
    assert body["items"][0]["registered_at"]


@pytest.mark.parametrize(("status", "code"), [("pending", PENDING_CODE), ("approved", APPROVED_CODE)])
def test_the_list_filters_by_status(client, registrations, qh_reviewer, status: str, code: str) -> None:
    body = listing(client, bearer(qh_reviewer), status=status).json()
    assert (body["total"], [item["credit_code"] for item in body["items"]]) == (1, [code])
    assert body["items"][0]["status"] == status


def test_an_unknown_status_is_refused_with_the_allowed_values(client, registrations, qh_reviewer) -> None:
    body = problem(listing(client, bearer(qh_reviewer), status="bogus"), 422, "invalid_query")
    assert body["allowed"] == ["pending", "approved", "rejected"]
    assert "pending" in body["detail"]


def test_the_list_is_paginated(client, registrations, qh_reviewer) -> None:
    body = listing(client, bearer(qh_reviewer), limit=2, offset=1).json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 1)
    assert [item["credit_code"] for item in body["items"]] == [APPROVED_CODE, PENDING_CODE]
    body = listing(client, bearer(qh_reviewer), limit=0, offset=-5).json()
    assert (body["limit"], body["offset"], len(body["items"])) == (1, 0, 1)
    assert listing(client, bearer(qh_reviewer), limit=1000).json()["limit"] == 200


def test_only_those_who_may_review_see_the_list(client, geo, registrations, make_account, bind) -> None:
    renshe = make_account("qh-renshe")
    bind(renshe, "630000", StaffRole.REVIEWER, department=ensure_department("630100", "renshe"))
    problem(listing(client, bearer(renshe)), 403, "not_authorized")
    problem(listing(client, bearer(make_account("citizen"))), 403, "not_authorized")
    sd = make_account("sd-shichang")
    bind(sd, "370000", StaffRole.APPROVER, department=ensure_department("370100", "shichang"))
    assert [item["name"] for item in listing(client, bearer(sd)).json()["items"]] == ["山东企业"]
    admin = make_account("admin", is_superuser=True)
    assert listing(client, bearer(admin)).json()["total"] == 4


def test_the_list_leaves_out_enterprises_the_reviewer_acts_for(client, registrations, qh_reviewer) -> None:
    EnterpriseAgent.objects.create(enterprise=registrations["approved"], account=qh_reviewer)
    codes = [item["credit_code"] for item in listing(client, bearer(qh_reviewer)).json()["items"]]
    assert codes == [NEW_CODE, PENDING_CODE]


def test_the_list_shows_the_legal_representative_masked(client, registrations, qh_reviewer) -> None:
    registrations["pending"].legal_representative_id_number = LINA_ID
    registrations["pending"].save()
    [item] = listing(client, bearer(qh_reviewer), status="pending").json()["items"]
    assert item["legal_representative_id_number_masked"] == "370102********3025"


# ---- agents ------------------------------------------------------------------------------------------


@pytest.fixture
def company(geo, make_account, make_enterprise) -> Enterprise:
    """An approved 青海 company: 樊女士 is its legal representative, 李娜 its agent."""
    lina = make_account("lina", id_number=LINA_ID)
    enterprise = make_enterprise(APPROVED_CODE, status=Enterprise.Status.APPROVED, agent=lina)
    enterprise.legal_representative = "樊女士"
    enterprise.legal_representative_id_number = FAN_ID
    enterprise.save()
    return enterprise


AGENTS = f"/api/v1/enterprises/{APPROVED_CODE}/agents"


def add(client: Client, headers: dict[str, str], username: str, id_number: str) -> Any:
    return client.post(AGENTS, {"username": username, "id_number": id_number}, content_type="application/json",
                       headers=headers)  # fmt: skip


def active_agents(enterprise: Enterprise) -> list[str]:
    links = EnterpriseAgent.objects.filter(enterprise=enterprise, active=True)
    return sorted(links.values_list("account__username", flat=True))


def test_an_agent_adds_another_agent(client, company, make_account) -> None:
    new = make_account("zhao", id_number="110105196203152013", display_name="赵", level=RealNameLevel.BASIC)
    response = add(client, bearer(company.agents.get().account), "zhao", new.id_number)
    assert response.status_code == 201, response.content
    assert response.json() == {"username": "zhao", "name": "赵", "active": True}
    assert active_agents(company) == ["lina", "zhao"]
    entry = AuditEntry.objects.get(code="tongban.enterprise.agent_added")
    assert (entry.object_id, entry.actor, entry.role, entry.data) == (APPROVED_CODE, "lina", "agent", {"agent": "zhao"})


def test_the_legal_representative_manages_agents_once_verified(client, company, make_account) -> None:
    fan = make_account("fan", id_number=FAN_ID, level=RealNameLevel.BASIC)
    make_account("zhao", id_number="110105196203152013")
    problem(add(client, bearer(fan), "zhao", "110105196203152013"), 403, "not_authorized")  # L1 is self-declared
    fan.real_name_level = RealNameLevel.IN_PERSON
    fan.save()
    assert add(client, bearer(fan), "zhao", "110105196203152013").status_code == 201
    assert AuditEntry.objects.get(code="tongban.enterprise.agent_added").role == "representative"
    assert client.delete(f"{AGENTS}/lina", headers=bearer(fan)).status_code == 204
    assert active_agents(company) == ["zhao"]


def test_strangers_and_staff_cannot_manage_agents(client, geo, company, make_account, bind, qh_reviewer) -> None:
    make_account("zhao", id_number="110105196203152013")
    for outsider in (make_account("stranger"), qh_reviewer):
        problem(add(client, bearer(outsider), "zhao", "110105196203152013"), 403, "not_authorized")
        problem(client.delete(f"{AGENTS}/lina", headers=bearer(outsider)), 403, "not_authorized")
    assert active_agents(company) == ["lina"]
    assert not AuditEntry.objects.filter(code__startswith="tongban.enterprise.agent_").exists()


def test_the_username_and_id_number_must_name_the_same_account(client, company, make_account) -> None:
    make_account("zhao", id_number="110105196203152013")
    headers = bearer(company.agents.get().account)
    unknown = problem(add(client, headers, "nobody", "110105196203152013"), 404, "account_not_found")
    mismatch = problem(add(client, headers, "zhao", FAN_ID), 404, "account_not_found")
    assert unknown["detail"] == mismatch["detail"]  # nothing to tell an existing username from a missing one
    problem(add(client, headers, "zhao", "123"), 400, "invalid_id_number")
    assert active_agents(company) == ["lina"]


def test_an_unverified_account_cannot_become_an_agent(client, company, make_account) -> None:
    make_account("zhao", id_number="110105196203152013", level=RealNameLevel.NONE)
    problem(add(client, bearer(company.agents.get().account), "zhao", "110105196203152013"), 422,
            "agent_real_name_required")  # fmt: skip


def test_adding_twice_is_a_conflict_and_a_removed_agent_can_come_back(client, company, make_account) -> None:
    lina = company.agents.get().account
    zhao = make_account("zhao", id_number="110105196203152013")
    assert add(client, bearer(lina), "zhao", zhao.id_number).status_code == 201
    problem(add(client, bearer(lina), "zhao", zhao.id_number), 409, "agent_exists")
    assert client.delete(f"{AGENTS}/zhao", headers=bearer(lina)).status_code == 204
    assert add(client, bearer(lina), "zhao", zhao.id_number).status_code == 201
    assert EnterpriseAgent.objects.filter(enterprise=company, account=zhao).count() == 1


def test_the_last_agent_stays(client, company) -> None:
    lina = company.agents.get().account
    problem(client.delete(f"{AGENTS}/lina", headers=bearer(lina)), 409, "last_agent")
    problem(client.delete(f"{AGENTS}/nobody", headers=bearer(lina)), 404, "agent_not_found")
    assert active_agents(company) == ["lina"]


def test_a_removed_agent_can_no_longer_act(client, company, make_account) -> None:
    from django.test import RequestFactory

    from tongban.identity.actors import resolve_actor

    lina = company.agents.get().account
    zhao = make_account("zhao", id_number="110105196203152013")
    add(client, bearer(lina), "zhao", zhao.id_number)
    assert resolve_actor(RequestFactory().get("/"), zhao).acts_for(APPROVED_CODE)
    client.delete(f"{AGENTS}/zhao", headers=bearer(lina))
    assert not resolve_actor(RequestFactory().get("/"), zhao).acts_for(APPROVED_CODE)
    assert AuditEntry.objects.filter(code="tongban.enterprise.agent_removed").count() == 1


def test_agents_of_a_pending_enterprise_wait_for_approval(client, geo, make_account, make_enterprise) -> None:
    lina = make_account("lina")
    make_enterprise(PENDING_CODE, agent=lina)
    make_account("zhao", id_number="110105196203152013")
    response = client.post(
        f"/api/v1/enterprises/{PENDING_CODE}/agents",
        {"username": "zhao", "id_number": "110105196203152013"},
        content_type="application/json",
        headers=bearer(lina),
    )
    problem(response, 409, "enterprise_not_approved")


def test_agents_are_listed_for_those_who_may_view(client, company, make_account, qh_reviewer) -> None:
    rows = client.get(AGENTS, headers=bearer(company.agents.get().account)).json()
    assert rows == [{"username": "lina", "name": "lina", "active": True}]
    assert client.get(AGENTS, headers=bearer(qh_reviewer)).status_code == 200
    problem(client.get(AGENTS, headers=bearer(make_account("stranger"))), 403, "not_authorized")


# ---- establishment ---------------------------------------------------------------------------------


def establish(agent, **overrides: Any) -> Enterprise:
    arguments = {
        "credit_code": NEW_CODE,
        "name": "新设科技有限公司",
        "domicile_code": "630100",
        "legal_representative": "樊女士",
        "agent": agent,
        "decided_by": "qh-approver",
        "node": "630000",
        "case_no": "630000202506090000001",
        **overrides,
    }
    return establish_enterprise(**arguments)


def test_an_approved_establishment_case_creates_an_approved_enterprise(geo, make_account, fixed_clock) -> None:
    fan = make_account("fan")
    enterprise = establish(fan)
    assert (enterprise.status, enterprise.reviewed_by, enterprise.registered_by) == ("approved", None, fan)
    assert enterprise.review_note == "设立登记办件 630000202506090000001 核准"
    assert enterprise.reviewed_at == fixed_clock.now()
    assert (enterprise.domicile_id, enterprise.legal_representative) == ("630100", "樊女士")
    assert EnterpriseAgent.objects.get(enterprise=enterprise).account == fan
    entry = AuditEntry.objects.get(code="tongban.enterprise.established")
    assert (entry.node, entry.actor, entry.object_id) == ("630000", "qh-approver", NEW_CODE)
    assert entry.data["case_no"] == "630000202506090000001"
    from django.test import RequestFactory

    from tongban.identity.actors import resolve_actor

    assert resolve_actor(RequestFactory().get("/"), fan).acts_for(NEW_CODE)


def test_an_existing_code_is_a_conflict_and_the_caller_keeps_its_transaction(geo, make_account, make_enterprise):
    fan = make_account("fan")
    make_enterprise(NEW_CODE)
    with transaction.atomic():
        marker = AuditEntry.objects.create(code="tongban.test", node="630000", at=dt.datetime.now(dt.UTC))
        with pytest.raises(Conflict) as raised:
            establish(fan)
        assert raised.value.code == "enterprise_exists"
        assert AuditEntry.objects.filter(pk=marker.pk).exists()  # the caller's own writes survive
    assert not AuditEntry.objects.filter(code="tongban.enterprise.established").exists()
    assert not EnterpriseAgent.objects.filter(account=fan).exists()


def test_establishment_is_undone_with_the_callers_transaction(geo, make_account) -> None:
    fan = make_account("fan")
    with pytest.raises(RuntimeError), transaction.atomic():
        establish(fan)
        raise RuntimeError("the decision failed later")
    assert not Enterprise.objects.filter(credit_code=NEW_CODE).exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [({"credit_code": "123"}, "invalid_credit_code"), ({"domicile_code": "639999"}, "unknown_region")],
)
def test_establishment_checks_its_data(geo, make_account, overrides, code: str) -> None:
    from tongban.errors import DomainError

    with pytest.raises(DomainError) as raised:
        establish(make_account("fan"), **overrides)
    assert raised.value.code == code


def test_without_an_agent_the_verified_legal_representative_binds_the_first(client, geo, make_account) -> None:
    enterprise = establish(None, legal_representative_id_number=FAN_ID)
    assert (enterprise.status, enterprise.registered_by, list(enterprise.agents.all())) == ("approved", None, [])
    assert AuditEntry.objects.get(code="tongban.enterprise.established").data["agent"] == ""
    fan = make_account("fan", id_number=FAN_ID, level=RealNameLevel.IN_PERSON)
    response = client.post(
        f"/api/v1/enterprises/{NEW_CODE}/agents",
        {"username": "fan", "id_number": FAN_ID},
        content_type="application/json",
        headers=bearer(fan),
    )
    assert response.status_code == 201, response.content
    assert active_agents(enterprise) == ["fan"]
