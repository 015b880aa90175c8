"""The identity API over HTTP: tokens, /me, logout and enterprise registration."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tongban.audit.models import AuditEntry
from tongban.identity.models import Enterprise, EnterpriseAgent, RealNameLevel, StaffRole

from .factories import APPROVED_CODE, NEW_CODE, PASSWORD, bearer

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    return body


def login(client: Client, username: str, password: str = PASSWORD) -> Any:
    payload = {"username": username, "password": password}
    return client.post("/api/v1/auth/token", payload, content_type="application/json")


# ---- tokens -----------------------------------------------------------------------------------


def test_login_returns_a_bearer_token(client, make_account, fixed_clock, settings) -> None:
    make_account("zhangtao")
    response = login(client, "zhangtao")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.TONGBAN_TOKEN_TTL_SECONDS
    assert body["expires_at"].startswith("2025-06-09T17:00:00")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "zhangtao"
    assert AuditEntry.objects.filter(code="tongban.account.token_issued", actor="zhangtao").count() == 1


def test_wrong_password_and_unknown_user_look_the_same(client, make_account) -> None:
    make_account("zhangtao")
    wrong = assert_problem(login(client, "zhangtao", "not-the-password"), 401, "invalid_credentials")
    unknown = assert_problem(login(client, "nobody"), 401, "invalid_credentials")
    assert wrong["detail"] == unknown["detail"] == "用户名或密码错误。"


def test_disabled_account_cannot_log_in(client, make_account) -> None:
    make_account("zhangtao", is_active=False)
    assert_problem(login(client, "zhangtao"), 403, "account_disabled")
    # Without the right password a disabled account is indistinguishable from a wrong one.
    assert_problem(login(client, "zhangtao", "guess"), 401, "invalid_credentials")


def test_login_body_is_validated(client) -> None:
    response = client.post("/api/v1/auth/token", {"username": "x"}, content_type="application/json")
    assert_problem(response, 422, "invalid_request")


def test_requests_without_credentials_are_401(client, db) -> None:
    assert_problem(client.get("/api/v1/me"), 401, "unauthenticated")
    assert_problem(client.post("/api/v1/enterprises", {}, content_type="application/json"), 401, "unauthenticated")


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b"])
def test_bad_token_is_a_problem(client, db, header: str) -> None:
    assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401, "token_invalid")


def test_expired_token_is_a_problem(client, make_account, fixed_clock, settings) -> None:
    headers = bearer(make_account("zhangtao"))
    fixed_clock.advance(seconds=settings.TONGBAN_TOKEN_TTL_SECONDS)
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "token_expired")


@pytest.mark.parametrize("node", [None, "000000", "370000", "630000"])
def test_a_token_is_accepted_whichever_node_is_named(client, geo, make_account, node: str | None) -> None:
    response = client.get("/api/v1/me", headers=bearer(make_account("zhangtao"), node))
    assert response.status_code == 200
    assert response.json()["node"] == node


def test_unknown_node_header_is_a_problem(client, geo, make_account) -> None:
    assert_problem(client.get("/api/v1/me", headers=bearer(make_account("zhangtao"), "990000")), 400, "unknown_node")


def test_logout_revokes_every_token(client, make_account) -> None:
    account = make_account("zhangtao")
    first, second = bearer(account), bearer(account)
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=first), 401, "token_revoked")
    assert_problem(client.get("/api/v1/me", headers=second), 401, "token_revoked")
    account.refresh_from_db()
    assert client.get("/api/v1/me", headers=bearer(account)).status_code == 200
    assert AuditEntry.objects.filter(code="tongban.account.logout").count() == 1


def test_changing_the_password_revokes_every_token_and_the_new_one_logs_in(client, make_account) -> None:
    account = make_account("zhangtao")
    headers = bearer(account)
    change = "/api/v1/me/password"
    wrong = client.post(change, {"current_password": "nope", "new_password": "x"}, "application/json", headers=headers)
    assert_problem(wrong, 401, "invalid_credentials")
    weak = client.post(
        change, {"current_password": PASSWORD, "new_password": "123"}, "application/json", headers=headers
    )
    assert_problem(weak, 400, "weak_password")
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # nothing changed yet
    body = {"current_password": PASSWORD, "new_password": "a-new-horse-battery-2026"}
    assert client.post(change, body, "application/json", headers=headers).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "token_revoked")
    login = {"username": "zhangtao", "password": "a-new-horse-battery-2026"}
    assert client.post("/api/v1/auth/token", login, "application/json").status_code == 200
    assert AuditEntry.objects.filter(code="tongban.account.password_changed").count() == 1


def test_disabled_account_token_is_refused(client, make_account) -> None:
    account = make_account("zhangtao")
    headers = bearer(account)
    account.is_active = False
    account.save()
    assert_problem(client.get("/api/v1/me", headers=headers), 403, "account_disabled")


# ---- session (portal pages) -------------------------------------------------------------------


def test_session_is_accepted(make_account) -> None:
    account = make_account("zhangtao")
    client = Client(enforce_csrf_checks=True)
    client.force_login(account)
    assert client.get("/api/v1/me").json()["username"] == "zhangtao"


def test_session_writes_need_the_csrf_token(make_account, geo) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_account("zhangtao"))
    response = client.post("/api/v1/auth/logout")
    assert_problem(response, 403, "csrf_failed")


def test_session_logout_ends_the_session(make_account) -> None:
    client = Client()
    client.force_login(make_account("zhangtao"))
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert_problem(client.get("/api/v1/me"), 401, "unauthenticated")


# ---- /me --------------------------------------------------------------------------------------


def test_me_masks_personal_data_and_lists_posts_and_enterprises(client, geo, make_account, bind, make_enterprise):
    account = make_account(
        "fan", display_name="樊女士", id_number="230183197504102029", phone="13900000105", level=RealNameLevel.STRONG
    )
    bind(account, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    make_enterprise(APPROVED_CODE, status=Enterprise.Status.APPROVED, agent=account)
    body = client.get("/api/v1/me", headers=bearer(account)).json()
    assert body["name"] == "樊女士"
    assert body["id_number_masked"] == "230183********2029"
    assert body["phone_masked"] == "139****0105"
    assert (body["real_name_level"], body["real_name_level_label"]) == (3, "L3 多要素核验")
    assert body["node"] == "630000"
    assert body["roles"] == ["reviewer"]
    [post] = body["staff_bindings"]
    assert post["node"] == "630000"
    assert post["region_name"] == "西宁市"
    assert post["department_function"] == "shichang"
    assert post["role_label"] == "审查员"
    [agency] = body["enterprises"]
    assert agency == {
        "credit_code": APPROVED_CODE,
        "name": "企业3H85",
        "status": "approved",
        "status_label": "已通过",
        "can_act": True,
    }
    assert "230183197504102029" not in client.get("/api/v1/me", headers=bearer(account)).content.decode()


# ---- enterprise registration ------------------------------------------------------------------


def register(client: Client, headers: dict[str, str], **overrides: str) -> Any:
    payload = {"credit_code": NEW_CODE, "name": "示例科技有限公司", "domicile": "630100", **overrides}
    return client.post("/api/v1/enterprises", payload, content_type="application/json", headers=headers)


def test_registering_an_enterprise_makes_it_pending_with_the_caller_as_agent(client, geo, make_account) -> None:
    account = make_account("fan")
    response = register(client, bearer(account), legal_representative="樊女士", credit_code=NEW_CODE.lower())
    assert response.status_code == 201
    body = response.json()
    assert (body["credit_code"], body["status"], body["status_label"]) == (NEW_CODE, "pending", "待审核")
    assert body["domicile_name"] == "西宁市"
    enterprise = Enterprise.objects.get(credit_code=NEW_CODE)
    assert enterprise.registered_by == account
    assert EnterpriseAgent.objects.filter(enterprise=enterprise, account=account, active=True).exists()
    entry = AuditEntry.objects.get(code="tongban.enterprise.registered")
    assert (entry.object_id, entry.actor) == (NEW_CODE, "fan")
    me = client.get("/api/v1/me", headers=bearer(account)).json()
    assert me["enterprises"][0]["can_act"] is False


def test_invalid_credit_code_is_refused(client, geo, make_account) -> None:
    response = register(client, bearer(make_account("fan")), credit_code=NEW_CODE[:-1] + "X")
    body = assert_problem(response, 400, "invalid_credit_code")
    assert "校验码" in body["detail"]
    assert not Enterprise.objects.exists()


def test_unknown_domicile_is_refused(client, geo, make_account) -> None:
    assert_problem(register(client, bearer(make_account("fan")), domicile="639999"), 400, "unknown_region")


def test_duplicate_enterprise_is_a_conflict(client, geo, make_account, make_enterprise) -> None:
    make_enterprise(NEW_CODE)
    assert_problem(register(client, bearer(make_account("fan"))), 409, "enterprise_exists")
    assert AuditEntry.objects.filter(code="tongban.enterprise.registered").count() == 0


def test_unverified_person_cannot_register(client, geo, make_account) -> None:
    account = make_account("anon", level=RealNameLevel.NONE)
    assert_problem(register(client, bearer(account)), 403, "real_name_required")


def test_agent_and_province_staff_can_see_an_enterprise_others_cannot(client, geo, make_account, bind, make_enterprise):
    fan = make_account("fan")
    make_enterprise(NEW_CODE, agent=fan)
    qh_clerk = make_account("qh-clerk")
    bind(qh_clerk, "630000", StaffRole.WINDOW_CLERK, department=geo["qh_shichang"])
    sd_reviewer = make_account("sd-reviewer")
    bind(sd_reviewer, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    url = f"/api/v1/enterprises/{NEW_CODE}"
    assert client.get(url, headers=bearer(fan)).json()["status"] == "pending"
    assert client.get(url, headers=bearer(qh_clerk)).status_code == 200
    assert_problem(client.get(url, headers=bearer(sd_reviewer)), 403, "not_authorized")
    assert_problem(client.get(url, headers=bearer(make_account("lina"))), 403, "not_authorized")


def test_unknown_enterprise_is_404(client, geo, make_account) -> None:
    headers = bearer(make_account("fan"))
    assert_problem(client.get(f"/api/v1/enterprises/{NEW_CODE}", headers=headers), 404, "enterprise_not_found")
    assert_problem(client.get("/api/v1/enterprises/123", headers=headers), 400, "invalid_credit_code")
