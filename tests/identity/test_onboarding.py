"""Citizens register themselves (L1), optionally with their unit; window clerks verify them (L4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tongban.audit.models import AuditEntry
from tongban.errors import DomainError
from tongban.identity import onboarding
from tongban.identity.models import Account, Enterprise, EnterpriseAgent, RealNameLevel, RealNameVerification, StaffRole
from tongban.identity.validators import citizen_id_check_char

from .factories import NEW_CODE, PASSWORD, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts"


def citizen_id(body: str) -> str:
    return body + citizen_id_check_char(body)


LIU_ID = citizen_id("11010519900307123")  # 朝阳区, 1990-03-07
OTHER_ID = citizen_id("37010219851122004")  # 历下区, 1985-11-22


def payload(**overrides: Any) -> dict[str, Any]:
    return {
        "username": "liuyang",
        "name": "刘洋",
        "id_number": LIU_ID,
        "phone": "13912345678",
        "password": "a-long-enough-secret",
        **overrides,
    }


def register(client: Client, **overrides: Any) -> Any:
    return client.post(URL, payload(**overrides), content_type="application/json")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def nothing_written() -> None:
    assert not Account.objects.filter(username__iexact="liuyang").exists()
    assert not Enterprise.objects.exists()
    assert not AuditEntry.objects.filter(code__in=["tongban.account.registered", "tongban.enterprise.registered"])


# ---- registration ---------------------------------------------------------------------------------


def test_a_citizen_registers_at_l1_and_can_log_in(client, fixed_clock) -> None:
    response = register(client, phone="+86 139-1234-5678")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "username": "liuyang",
        "name": "刘洋",
        "id_number_masked": LIU_ID[:6] + "********" + LIU_ID[-4:],
        "phone_masked": "139****5678",
        "real_name_level": 1,
        "real_name_level_label": "L1 基本实名",
        "node": None,
        "roles": [],
        "staff_bindings": [],
        "enterprises": [],
    }
    account = Account.objects.get(username="liuyang")
    assert (account.id_number, account.phone, account.display_name) == (LIU_ID, "13912345678", "刘洋")
    assert account.password != "a-long-enough-secret" and account.check_password("a-long-enough-secret")
    assert not account.is_staff and not account.is_superuser
    assert account.date_joined == fixed_clock.now()
    entry = AuditEntry.objects.get(code="tongban.account.registered")
    assert (entry.object_id, entry.actor, entry.node) == (str(account.pk), "liuyang", "000000")
    assert LIU_ID not in str(entry.data)
    token = client.post(
        "/api/v1/auth/token",
        {"username": "liuyang", "password": "a-long-enough-secret"},
        content_type="application/json",
    )
    assert token.status_code == 200


def test_lower_case_x_in_the_id_number_is_stored_upper_case(client) -> None:
    number = next(
        citizen_id(f"1101051990030712{d}") for d in range(10) if citizen_id(f"1101051990030712{d}")[-1] == "X"
    )
    assert register(client, id_number=number.lower()).status_code == 201
    assert Account.objects.get(username="liuyang").id_number == number


def test_a_taken_username_is_a_conflict_whatever_its_case(client, make_account) -> None:
    make_account("LiuYang")
    problem(register(client), 409, "username_taken")
    assert Account.objects.count() == 1
    assert not AuditEntry.objects.filter(code="tongban.account.registered").exists()


def test_one_person_has_one_account(client, make_account) -> None:
    make_account("liu-old", id_number=LIU_ID)
    body = problem(register(client), 409, "id_number_registered")
    assert "liu-old" not in body["detail"]  # the answer names no account
    assert not Account.objects.filter(username="liuyang").exists()


def test_the_database_refuses_a_second_account_for_an_id_number(make_account) -> None:
    make_account("first", id_number=LIU_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(username="second", id_number=LIU_ID)
    Account.objects.create(username="staff-a")
    Account.objects.create(username="staff-b")  # accounts without an ID number are not one person


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("username", "1abc", "invalid_username"),
        ("username", "abc", "invalid_username"),
        ("username", "a" * 33, "invalid_username"),
        ("username", "刘洋abc", "invalid_username"),
        ("username", "li yang", "invalid_username"),
        ("username", "370000-administrator", "invalid_username"),
        ("name", "   ", "invalid_name"),
        ("name", "刘洋1", "invalid_name"),
        ("name", "刘\u200b洋", "invalid_name"),
        ("name", "刘" * 65, "invalid_name"),
        ("id_number", LIU_ID[:-1] + ("0" if LIU_ID[-1] != "0" else "1"), "invalid_id_number"),
        ("id_number", "1101051990", "invalid_id_number"),
        ("phone", "12345678901", "invalid_phone"),
        ("phone", "1391234567", "invalid_phone"),
        ("phone", "010-12345678", "invalid_phone"),
        ("password", "short", "weak_password"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_written(client, field: str, value: str, code: str) -> None:
    problem(register(client, **{field: value}), 400, code)
    nothing_written()


def test_a_short_password_is_explained_in_chinese(client) -> None:
    body = problem(register(client, password="short"), 400, "weak_password")
    assert body["detail"] == "密码太短，至少需要 8 个字符。"


def test_every_field_is_checked_before_any_conflict(client, make_account) -> None:
    """Probing whether a username or ID number is taken needs a complete, valid request."""
    make_account("liuyang", id_number=LIU_ID)
    problem(register(client, password="short"), 400, "weak_password")
    problem(register(client, phone="123"), 400, "invalid_phone")
    problem(register(client, username="other", enterprise={"credit_code": "1", "name": "x", "domicile": "630100"}),
            400, "invalid_credit_code")  # fmt: skip


@pytest.mark.parametrize(("field", "length"), [("username", 151), ("password", 129), ("name", 129), ("phone", 33)])
def test_lengths_are_bounded(client, field: str, length: int) -> None:
    problem(register(client, **{field: "a" * length}), 422, "invalid_request")
    nothing_written()


def test_registration_needs_no_login_but_every_field(client) -> None:
    body = payload()
    del body["phone"]
    problem(client.post(URL, body, content_type="application/json"), 422, "invalid_request")


# ---- registering the unit in the same request ------------------------------------------------------


UNIT = {"credit_code": NEW_CODE, "name": "刘洋测绘有限公司", "domicile": "630100", "legal_representative": "刘洋"}


def test_the_contact_person_registers_account_and_unit_together(client, geo) -> None:
    response = register(client, enterprise={**UNIT, "legal_representative_id_number": LIU_ID})
    assert response.status_code == 201, response.content
    [agency] = response.json()["enterprises"]
    assert (agency["credit_code"], agency["status"], agency["can_act"]) == (NEW_CODE, "pending", False)
    account = Account.objects.get(username="liuyang")
    enterprise = Enterprise.objects.get(credit_code=NEW_CODE)
    assert enterprise.registered_by == account and enterprise.legal_representative_id_number == LIU_ID
    assert EnterpriseAgent.objects.filter(enterprise=enterprise, account=account, active=True).exists()
    codes = list(AuditEntry.objects.order_by("id").values_list("code", flat=True))
    assert codes == ["tongban.account.registered", "tongban.enterprise.registered"]


@pytest.mark.parametrize(
    ("unit", "status", "code"),
    [
        ({**UNIT, "credit_code": NEW_CODE[:-1] + "X"}, 400, "invalid_credit_code"),
        ({**UNIT, "domicile": "639999"}, 400, "unknown_region"),
        ({**UNIT, "name": "  "}, 400, "enterprise_name_required"),
        ({**UNIT, "legal_representative_id_number": "123"}, 400, "invalid_id_number"),
    ],
)
def test_a_bad_unit_leaves_no_account_behind(client, geo, unit, status: int, code: str) -> None:
    problem(register(client, enterprise=unit), status, code)
    nothing_written()


def test_a_unit_already_registered_leaves_no_account_behind(client, geo, make_enterprise) -> None:
    make_enterprise(NEW_CODE)
    problem(register(client, enterprise=UNIT), 409, "enterprise_exists")
    assert not Account.objects.filter(username="liuyang").exists()
    assert not AuditEntry.objects.filter(code="tongban.account.registered").exists()


# ---- the cleaners, for every input ------------------------------------------------------------------


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["{}", "+86{}", "0086 {}", "{0:.3} {1}"]))
def test_every_mainland_mobile_number_is_accepted_however_written(number: str, layout: str) -> None:
    written = layout.format(number, number[3:]) if "{1}" in layout else layout.format(number)
    assert onboarding.clean_phone(written) == number


@given(st.text(alphabet="0123456789+- x１", max_size=20))
def test_nothing_but_a_mobile_number_passes(text: str) -> None:
    digits = text.replace(" ", "").replace("-", "")
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    looks_mobile = (
        len(digits) == 11 and all(ch in "0123456789" for ch in digits) and digits[0] == "1" and digits[1] in "3456789"
    )
    try:
        onboarding.clean_phone(text)
        accepted = True
    except DomainError as error:
        assert error.code == "invalid_phone"
        accepted = False
    assert accepted == looks_mobile


@given(st.text(min_size=1, max_size=40))
def test_usernames_start_with_a_letter_and_stay_ascii(text: str) -> None:
    try:
        username = onboarding.clean_username(text)
    except DomainError as error:
        assert error.code == "invalid_username"
        return
    assert username[0].isascii() and username[0].isalpha()
    assert 4 <= len(username) <= 32 and username.isascii()


# ---- real-name verification at the window ---------------------------------------------------------


def verify(client: Client, headers: dict[str, str], username: str = "liuyang", **overrides: str) -> Any:
    body = {"method": "window", "id_number": LIU_ID, "name": "刘洋", **overrides}
    return client.post(
        f"/api/v1/accounts/{username}/real-name-verifications", body, content_type="application/json", headers=headers
    )


@pytest.fixture
def citizen(make_account) -> Account:
    return make_account("liuyang", display_name="刘洋", id_number=LIU_ID, level=RealNameLevel.BASIC)


@pytest.fixture
def clerk(geo, make_account, bind) -> Account:
    clerk = make_account("sd-clerk")
    bind(clerk, "370000", StaffRole.WINDOW_CLERK, department=geo["sd_renshe"])
    return clerk


def test_a_window_clerk_raises_the_level_after_seeing_the_id_card(client, citizen, clerk, fixed_clock) -> None:
    response = verify(client, bearer(clerk), id_number=LIU_ID.lower(), name=" 刘洋 ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["level_before"], body["real_name_level"], body["real_name_level_label"]) == (1, 4, "L4 窗口现场核验")
    assert (body["method"], body["method_label"], body["node"]) == ("window", "窗口现场核验", "370000")
    citizen.refresh_from_db()
    assert citizen.real_name_level == RealNameLevel.IN_PERSON
    record = RealNameVerification.objects.get()
    assert (record.account, record.verified_by, record.node_id) == (citizen, clerk, "370000")
    assert record.verified_at == fixed_clock.now()
    entry = AuditEntry.objects.get(code="tongban.account.real_name_verified")
    assert (entry.node, entry.actor, entry.role, entry.object_id) == (
        "370000",
        "sd-clerk",
        "window_clerk",
        str(citizen.pk),
    )
    assert client.get("/api/v1/me", headers=bearer(citizen)).json()["real_name_level"] == 4


def test_verification_never_lowers_a_level(client, citizen, clerk) -> None:
    citizen.real_name_level = RealNameLevel.IN_PERSON
    citizen.save()
    assert verify(client, bearer(clerk)).json()["real_name_level"] == 4


@pytest.mark.parametrize(("field", "value"), [("id_number", OTHER_ID), ("name", "刘阳")])
def test_the_card_must_match_the_account(client, citizen, clerk, field: str, value: str) -> None:
    problem(verify(client, bearer(clerk), **{field: value}), 422, "identity_mismatch")
    citizen.refresh_from_db()
    assert citizen.real_name_level == RealNameLevel.BASIC
    assert not RealNameVerification.objects.exists()
    assert not AuditEntry.objects.filter(code="tongban.account.real_name_verified").exists()


def test_an_account_without_id_number_cannot_be_verified(client, make_account, clerk) -> None:
    make_account("noid", display_name="刘洋", level=RealNameLevel.NONE)
    problem(verify(client, bearer(clerk), "noid"), 422, "identity_mismatch")


def test_only_a_window_clerk_at_the_acting_node_verifies(client, geo, citizen, make_account, bind) -> None:
    reviewer = make_account("sd-reviewer")
    bind(reviewer, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    problem(verify(client, bearer(reviewer)), 403, "window_clerk_required")
    problem(verify(client, bearer(make_account("zhangtao"))), 403, "window_clerk_required")
    two_nodes = make_account("two-nodes")
    bind(two_nodes, "370000", StaffRole.WINDOW_CLERK, department=geo["sd_renshe"])
    bind(two_nodes, "330000", StaffRole.REVIEWER, department=geo["zj_yibao"])
    problem(verify(client, bearer(two_nodes, "330000")), 403, "window_clerk_required")
    assert verify(client, bearer(two_nodes, "370000")).status_code == 201


def test_a_clerk_cannot_verify_themself(client, geo, make_account, bind) -> None:
    clerk = make_account("liuyang", display_name="刘洋", id_number=LIU_ID)
    bind(clerk, "370000", StaffRole.WINDOW_CLERK, department=geo["sd_renshe"])
    problem(verify(client, bearer(clerk)), 403, "not_authorized")


def test_unknown_or_disabled_accounts_are_404(client, clerk, make_account) -> None:
    problem(verify(client, bearer(clerk), "nobody"), 404, "account_not_found")
    make_account("gone", is_active=False, id_number=LIU_ID, display_name="刘洋")
    problem(verify(client, bearer(clerk), "gone"), 404, "account_not_found")


def test_bad_verification_requests(client, citizen, clerk) -> None:
    problem(verify(client, bearer(clerk), method="licence"), 422, "invalid_request")
    problem(verify(client, bearer(clerk), id_number="123"), 400, "invalid_id_number")
    problem(verify(client, {}), 401, "unauthenticated")


def test_a_verified_account_can_register_what_needs_a_higher_level(client, citizen, clerk) -> None:
    """Registration gives L1 only; the window raises it, and the account keeps its password and tokens."""
    headers = bearer(citizen)
    verify(client, bearer(clerk))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert Account.objects.get(username="liuyang").check_password(PASSWORD)
