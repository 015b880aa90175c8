"""Test helpers: the content fixture, an HTTP client that logs in as demo users and acts at a node,
and the dispatcher."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from tongban.exchange.dispatcher import run_until_idle

DEMO_PASSWORD = "tongban-demo-2026"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def hub_token_at_this_node(username: str) -> str:
    """A test that plays a provincial node in the one test database: the hub issues the token, and the
    account stands for the replica this node already holds (fresh, so no facts are asked for)."""
    from django.test import override_settings

    from tongban import clock
    from tongban.identity.models import Account
    from tongban.identity.tokens import issue_token

    account = Account.objects.get(username=username)
    Account.objects.filter(pk=account.pk).update(home_node=settings.TONGBAN_HUB_NODE, facts_at=clock.now())
    with override_settings(TONGBAN_NODE=""):  # signed where the hub's key is: the hub
        return issue_token(account).token


class Api:
    """Calls /api/v1 as one user; `node` is sent as X-Tongban-Node when given."""

    def __init__(self, username: str, node: str | None = None, password: str = DEMO_PASSWORD) -> None:
        self.client = Client()
        self.node = node
        self.credentials = {"username": username, "password": password}
        self.login()

    def login(self) -> None:
        if settings.TONGBAN_NODE and settings.TONGBAN_NODE != settings.TONGBAN_HUB_NODE:
            self.token = hub_token_at_this_node(self.credentials["username"])
            return
        response = self.client.post(
            "/api/v1/auth/token", data=json.dumps(self.credentials), content_type="application/json"
        )
        assert response.status_code == 200, response.content
        self.token = response.json()["access_token"]

    def _headers(self) -> dict[str, str]:
        # Tests move the clock across days; log in again like a person whose token ran out.
        from tongban.errors import Unauthorized
        from tongban.identity.tokens import read_claims

        try:
            read_claims(self.token)
        except Unauthorized:
            self.login()
        return self._auth_headers()

    def _auth_headers(self) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if self.node:
            headers["HTTP_X_TONGBAN_NODE"] = self.node
        return headers

    def get(self, path: str, **params: Any):
        return self.client.get("/api/v1" + path, params, **self._headers())

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(
            "/api/v1" + path, data=json.dumps(body or {}), content_type="application/json", **self._headers()
        )

    def post_raw(self, path: str, raw: bytes, content_type: str = "application/json"):
        return self.client.post("/api/v1" + path, data=raw, content_type=content_type, **self._headers())

    def upload(self, case_no: str, code: str, data: bytes = PDF, filename: str = "m.pdf"):
        return self.client.post(
            f"/api/v1/cases/{case_no}/materials",
            data={"material_code": code, "file": SimpleUploadedFile(filename, data)},
            **self._headers(),
        )

    def supplement(self, case_no: str, files: dict[str, tuple[str, bytes]]):
        payload = {code: SimpleUploadedFile(name, data) for code, (name, data) in files.items()}
        return self.client.post(f"/api/v1/cases/{case_no}/supplements", data=payload, **self._headers())

    def act(self, case_no: str, action: str, reason: str = "", **data: Any):
        return self.post(f"/cases/{case_no}/actions", {"action": action, "reason": reason, **data})

    def case(self, case_no: str) -> dict[str, Any]:
        response = self.get(f"/cases/{case_no}")
        assert response.status_code == 200, response.content
        return response.json()


def ok(response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    return response.json()


def problem(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"], body
    return body


def dispatch() -> None:
    stats = run_until_idle()
    if stats.failed:
        from tongban.exchange.models import InboxMessage, OutboxMessage

        errors = [(m.type, str(m.created_at), m.last_error) for m in OutboxMessage.objects.exclude(last_error="")]
        errors += [m.last_error for m in InboxMessage.objects.filter(status="failed")]
        raise AssertionError(f"{stats}: {errors[:5]}")


@pytest.fixture(scope="package")
def content(django_db_setup, django_db_blocker):
    """The real content and demo accounts, loaded once per test package.

    Committed outside the per-test transactions, so each test still rolls back its own writes; at
    the end the package empties the database again, as other packages expect to find it.
    """
    with django_db_blocker.unblock():
        call_command("load_content", stdout=io.StringIO())
        call_command("load_demo", stdout=io.StringIO())
    yield settings.CONTENT_DIR
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
