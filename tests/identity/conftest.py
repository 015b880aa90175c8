"""Fixtures for identity tests: regions, nodes and departments built directly with the ORM."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from django.test import Client

from tongban.identity.models import Account, Enterprise, EnterpriseAgent, RealNameLevel, StaffBinding
from tongban.regions.models import Department, Node

from .factories import PASSWORD, PROVINCE_NAMES, ensure_department, ensure_node, ensure_region


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    # Argon2 is deliberately slow; these tests are about behaviour, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def geo(db: None) -> dict[str, Any]:
    """The hub and the provinces of the stories, with the departments the tests bind staff to."""
    hub, _ = Node.objects.get_or_create(code="000000", defaults={"name": "国家平台", "is_hub": True})
    for prefix in PROVINCE_NAMES:
        ensure_node(prefix + "0000")
    ensure_region("630100", "西宁市")
    ensure_region("370100", "济南市")
    ensure_region("331024", "仙居县")
    return {
        "hub": hub,
        "qh_shichang": ensure_department("630100", "shichang"),
        "sd_renshe": ensure_department("370100", "renshe"),
        "zj_yibao": ensure_department("331024", "yibao"),
    }


@pytest.fixture
def make_account(db: None) -> Callable[..., Account]:
    def make(username: str, *, level: int = RealNameLevel.STRONG, **fields: Any) -> Account:
        fields.setdefault("display_name", username)
        return Account.objects.create_user(username=username, password=PASSWORD, real_name_level=level, **fields)

    return make


@pytest.fixture
def bind(geo: dict[str, Any]) -> Callable[..., StaffBinding]:
    def make(
        account: Account, node: str, role: str, *, region: str | None = None, department: Department | None = None
    ) -> StaffBinding:
        region_code = region or (department.region_id if department else node)
        return StaffBinding.objects.create(
            account=account,
            node=ensure_node(node),
            region=ensure_region(region_code),
            department=department,
            role=role,
        )

    return make


@pytest.fixture
def make_enterprise(geo: dict[str, Any]) -> Callable[..., Enterprise]:
    def make(code: str, *, status: str = Enterprise.Status.PENDING, agent: Account | None = None) -> Enterprise:
        enterprise = Enterprise.objects.create(
            credit_code=code,
            name=f"企业{code[-4:]}",
            domicile=ensure_region("630100"),
            status=status,
            registered_by=agent,
        )
        if agent is not None:
            EnterpriseAgent.objects.create(enterprise=enterprise, account=agent)
        return enterprise

    return make


@cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    from tongban.api import api

    return [
        (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"), method, operation)
        for template, item in api.get_openapi_schema()["paths"].items()
        for method, operation in item.items()
    ]


class ContractClient(Client):
    """A test client that fails a test when the API answers a problem its OpenAPI operation does not declare."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        if response["Content-Type"].startswith("application/problem+json"):
            from tongban.problems import declared_codes

            method, path = request["REQUEST_METHOD"].lower(), request["PATH_INFO"]
            operations = [op for pattern, m, op in _operations() if m == method and pattern.match(path)]
            code = response.json()["code"]
            if not operations and code == "not_found":  # no endpoint at all
                return response
            [operation] = operations
            assert code in declared_codes(operation).get(response.status_code, set()), (
                f"{method} {path}: {response.status_code} {code} is not declared in the OpenAPI document"
            )
        return response


@pytest.fixture
def client() -> Client:
    return ContractClient()
