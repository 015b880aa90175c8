"""Who may approve an enterprise: reviewers and approvers of the department function the content names,
at the node of its domicile province, and nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from tongban.audit.models import AuditEntry
from tongban.identity.actors import resolve_actor
from tongban.identity.models import Enterprise, StaffRole

from .factories import APPROVED_CODE, PENDING_CODE, bearer, ensure_department

pytestmark = pytest.mark.django_db

URL = f"/api/v1/enterprises/{PENDING_CODE}/review"


def review(client: Client, headers: dict[str, str], decision: str = "approve", note: str = "") -> Any:
    return client.post(URL, {"decision": decision, "note": note}, content_type="application/json", headers=headers)


@pytest.fixture
def pending(make_account, make_enterprise) -> Enterprise:
    return make_enterprise(PENDING_CODE, agent=make_account("lina"))


# (who, node, role, department region and function in that node, or None) -> may review?
MATRIX = [
    ("qh shichang reviewer", "630000", StaffRole.REVIEWER, ("630100", "shichang"), True),
    ("qh provincial shichang reviewer", "630000", StaffRole.REVIEWER, ("630000", "shichang"), True),
    ("qh shichang approver", "630000", StaffRole.APPROVER, ("630100", "shichang"), True),
    ("qh renshe reviewer", "630000", StaffRole.REVIEWER, ("630100", "renshe"), False),
    ("qh ziran approver", "630000", StaffRole.APPROVER, ("630000", "ziran"), False),
    ("qh shichang window clerk", "630000", StaffRole.WINDOW_CLERK, ("630100", "shichang"), False),
    ("qh shichang administrator", "630000", StaffRole.ADMINISTRATOR, ("630100", "shichang"), False),
    ("qh administrator", "630000", StaffRole.ADMINISTRATOR, None, False),
    ("qh supervisor", "630000", StaffRole.SUPERVISOR, None, False),
    ("sd shichang reviewer", "370000", StaffRole.REVIEWER, ("370100", "shichang"), False),
    ("sd renshe reviewer", "370000", StaffRole.REVIEWER, ("370100", "renshe"), False),
    ("sd administrator", "370000", StaffRole.ADMINISTRATOR, None, False),
    ("hub administrator", "000000", StaffRole.ADMINISTRATOR, None, False),
]


@pytest.mark.parametrize(("who", "node", "role", "post", "allowed"), MATRIX, ids=[row[0] for row in MATRIX])
def test_review_authorisation_matrix(client, geo, make_account, bind, pending, who, node, role, post, allowed):
    staff = make_account("staff")
    department = ensure_department(*post) if post else None
    bind(staff, node, role, department=department, region=post[0] if post else (node if node != "000000" else "630000"))
    response = review(client, bearer(staff))
    pending.refresh_from_db()
    if allowed:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "approved"
        assert pending.status == Enterprise.Status.APPROVED
        assert pending.reviewed_by == staff
        entry = AuditEntry.objects.get(code="tongban.enterprise.approved")
        assert (entry.node, entry.object_type, entry.object_id) == ("630000", "enterprise", PENDING_CODE)
        assert (entry.actor, entry.role) == ("staff", role)
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "not_authorized"
        assert pending.status == Enterprise.Status.PENDING
        assert not AuditEntry.objects.filter(code__startswith="tongban.enterprise.").exists()


def test_citizen_cannot_review(client, geo, make_account, pending) -> None:
    response = review(client, bearer(make_account("zhangtao")))
    assert (response.status_code, response.json()["code"]) == (403, "not_authorized")


def test_agent_cannot_review_their_own_enterprise(client, geo, make_account, bind, pending) -> None:
    lina = pending.registered_by
    bind(lina, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    response = review(client, bearer(lina))
    assert (response.status_code, response.json()["code"]) == (403, "not_authorized")


def test_staff_acting_at_another_node_cannot_review(client, geo, make_account, bind, pending) -> None:
    staff = make_account("two-hats")
    bind(staff, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    bind(staff, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    assert review(client, bearer(staff, "370000")).status_code == 403
    assert review(client, bearer(staff)).status_code == 403  # two nodes and no header: acts nowhere
    assert review(client, bearer(staff, "630000")).status_code == 200


def test_platform_superuser_may_review(client, geo, make_account, pending) -> None:
    admin = make_account("admin", is_superuser=True, is_staff=True)
    assert review(client, bearer(admin)).status_code == 200
    assert AuditEntry.objects.get(code="tongban.enterprise.approved").role == "administrator"


def test_the_refusal_names_the_reviewing_department(client, geo, make_account, bind, pending) -> None:
    staff = make_account("renshe")
    bind(staff, "630000", StaffRole.REVIEWER, department=ensure_department("630100", "renshe"))
    body = review(client, bearer(staff)).json()
    assert "市场监督管理部门的审查员或审批人" in body["detail"]


def use_review_content(monkeypatch, tmp_path, text: str) -> None:
    from tongban.identity import enterprises

    path = tmp_path / "enterprise-review.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(enterprises, "review_policy_path", lambda: path)


def test_the_reviewing_function_is_content(client, geo, make_account, bind, pending, monkeypatch, tmp_path) -> None:
    """Another function named in content/identity/enterprise-review.yaml takes over the review."""
    use_review_content(monkeypatch, tmp_path, "functions: [shenpi]\nsource: 测试\n")
    shichang = make_account("shichang")
    bind(shichang, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    shenpi = make_account("shenpi")
    bind(shenpi, "630000", StaffRole.REVIEWER, department=ensure_department("630100", "shenpi"))
    assert review(client, bearer(shichang)).status_code == 403
    assert review(client, bearer(shenpi)).status_code == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("functions: []\nsource: x\n", "非空"),
        ("functions: [nosuch]\nsource: x\n", "nosuch"),
        ("functions: [shichang]\n", "来源"),
        ("functions: [shichang\n", "无法读取"),
    ],
)
def test_broken_review_content_is_reported(monkeypatch, tmp_path, text: str, message: str) -> None:
    from tongban.identity.enterprises import ReviewContentError, review_policy

    use_review_content(monkeypatch, tmp_path, text)
    with pytest.raises(ReviewContentError, match=message):
        review_policy()


def test_the_shipped_review_content_names_market_regulation() -> None:
    from tongban.identity.enterprises import review_policy

    policy = review_policy()
    assert policy.functions == ("shichang",)
    assert policy.source and "functions" in policy.unverified


@pytest.fixture
def qh_reviewer(geo, make_account, bind):
    staff = make_account("qh-reviewer")
    bind(staff, "630000", StaffRole.REVIEWER, department=geo["qh_shichang"])
    return staff


def test_rejection_needs_a_reason(client, pending, qh_reviewer) -> None:
    response = review(client, bearer(qh_reviewer), "reject")
    assert (response.status_code, response.json()["code"]) == (422, "review_note_required")
    response = review(client, bearer(qh_reviewer), "reject", "经营范围与名称不符。")
    assert response.json()["status"] == "rejected"
    assert response.json()["review_note"] == "经营范围与名称不符。"
    assert AuditEntry.objects.filter(code="tongban.enterprise.rejected").count() == 1


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_a_decided_enterprise_cannot_be_reviewed_again(client, pending, qh_reviewer, first: str) -> None:
    assert review(client, bearer(qh_reviewer), first, "理由").status_code == 200
    response = review(client, bearer(qh_reviewer), "approve")
    assert (response.status_code, response.json()["code"]) == (409, "enterprise_already_reviewed")
    assert response["Content-Type"].startswith("application/problem+json")


def test_bad_decision_is_a_validation_problem(client, pending, qh_reviewer) -> None:
    response = review(client, bearer(qh_reviewer), "maybe")
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")


def test_unknown_enterprise_review_is_404(client, geo, qh_reviewer) -> None:
    response = client.post(
        f"/api/v1/enterprises/{APPROVED_CODE}/review",
        {"decision": "approve"},
        content_type="application/json",
        headers=bearer(qh_reviewer),
    )
    assert (response.status_code, response.json()["code"]) == (404, "enterprise_not_found")


def test_approval_lets_the_agent_act_for_the_enterprise(client, pending, qh_reviewer) -> None:
    lina = pending.registered_by
    request = RequestFactory().get("/")
    assert resolve_actor(request, lina).enterprises == ()
    review(client, bearer(qh_reviewer))
    assert [e.credit_code for e in resolve_actor(request, lina).enterprises] == [PENDING_CODE]
