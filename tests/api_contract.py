"""Checks an API answer against the OpenAPI document: an error must be one its operation declares."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tongban.api import api
from tongban.problems import declared_codes


@cache
def spec() -> dict[str, Any]:
    return api.get_openapi_schema()


def operation_for(method: str, path: str) -> dict[str, Any]:
    """The operation of the document that serves `method path` (a concrete path such as /api/v1/items/X)."""
    for template, item in spec()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"no operation for {method} {path}")


def assert_declared(method: str, path: str, response: Any) -> dict[str, Any]:
    """The problem body of `response`, after checking its status and code are declared for the operation."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body = response.json()
    declared = declared_codes(operation_for(method, path))
    assert body["code"] in declared.get(response.status_code, set()), (
        f"{method} {path} answered {response.status_code} {body['code']}, which its operation does not declare "
        f"(declared: {declared})"
    )
    return body
