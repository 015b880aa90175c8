"""Admin pages render in Chinese and the approval action goes through the same write function."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.audit.models import AuditEntry
from tongban.identity.models import Enterprise, StaffRole

from .factories import PENDING_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(make_account) -> Client:
    client = Client()
    client.force_login(make_account("admin", is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/identity/account/",
        "/admin/identity/enterprise/",
        "/admin/identity/enterpriseagent/",
        "/admin/identity/staffbinding/",
        "/admin/identity/account/add/",
        "/admin/identity/realnameverification/",
    ],
)
def test_admin_pages_render(admin_client_, geo, url: str) -> None:
    assert admin_client_.get(url).status_code == 200


# Sentences Django itself leaves untranslated on these pages, and the default object names.
ENGLISH = [
    "After you’ve created a user",
    "If disabled, the current password",
    "EnterpriseAgent object",
    "Whether the user",
]


def test_identity_pages_say_nothing_in_english(admin_client_, make_account, make_enterprise) -> None:
    lina = make_account("lina")
    enterprise = make_enterprise(PENDING_CODE, agent=lina)
    agent = enterprise.agents.get()
    pages = [
        "/admin/identity/account/add/",
        f"/admin/identity/account/{lina.pk}/change/",
        f"/admin/identity/account/{lina.pk}/password/",
        f"/admin/identity/enterprise/{enterprise.pk}/change/",
        "/admin/identity/enterpriseagent/",
        f"/admin/identity/enterpriseagent/{agent.pk}/change/",
    ]
    for url in pages:
        page = admin_client_.get(url).content.decode()
        assert not [text for text in ENGLISH if text in page], url
    assert "lina · 企业5C5L" in admin_client_.get("/admin/identity/enterpriseagent/").content.decode()


def test_real_name_verifications_are_read_only(admin_client_) -> None:
    assert admin_client_.get("/admin/identity/realnameverification/add/").status_code == 403


def test_account_list_masks_id_numbers(admin_client_, make_account) -> None:
    make_account("zhangtao", id_number="110105196203152013")
    page = admin_client_.get("/admin/identity/account/").content.decode()
    assert "110105********2013" in page
    assert "110105196203152013" not in page


def test_approve_action_reviews_and_audits(admin_client_, make_account, make_enterprise) -> None:
    enterprise = make_enterprise(PENDING_CODE, agent=make_account("lina"))
    response = admin_client_.post(
        "/admin/identity/enterprise/",
        {"action": "approve_selected", "_selected_action": [enterprise.pk]},
        follow=True,
    )
    assert response.status_code == 200
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.APPROVED
    assert enterprise.reviewed_by.username == "admin"
    assert AuditEntry.objects.filter(code="tongban.enterprise.approved", object_id=PENDING_CODE).exists()


def test_admin_action_respects_province_scope(geo, make_account, bind, make_enterprise) -> None:
    staff = make_account("sd-staff", is_staff=True)
    bind(staff, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_enterprise", "view_enterprise"]))
    enterprise = make_enterprise(PENDING_CODE, agent=make_account("lina"))
    client = Client()
    client.force_login(staff)
    response = client.post(
        "/admin/identity/enterprise/",
        {"action": "approve_selected", "_selected_action": [enterprise.pk]},
        follow=True,
    )
    assert "只有企业住所地所在省份" in response.content.decode()
    enterprise.refresh_from_db()
    assert enterprise.status == Enterprise.Status.PENDING
