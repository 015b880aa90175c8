"""The API documents itself: OpenAPI at /api/v1/openapi.json that tools accept, every operation's error responses
and the codes raised in the source, and a Chinese docs page from vendored assets."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from django.test import Client
from openapi_spec_validator import validate

from tongban.errors import DomainError
from tongban.identity.actors import NODE_HEADER
from tongban.problems import PROBLEM_MEDIA_TYPE, declared_codes

PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/regions": {"get"},
    "/api/v1/items": {"get"},
    "/api/v1/items/{code}": {"get"},
    "/api/v1/items/{code}/eligibility": {"get"},
    "/api/v1/cases": {"get", "post"},
    "/api/v1/cases/{case_no}": {"get"},
    "/api/v1/cases/{case_no}/actions": {"post"},
    "/api/v1/cases/{case_no}/materials": {"post"},
    "/api/v1/cases/{case_no}/supplements": {"post"},
    "/api/v1/trust-list": {"get"},
}

# The modules (a package stands for all its modules) whose raised codes must all be declared in the document.
# The cases router declares its codes next: then add "tongban.cases" and the modules it reaches that other
# routers do not ("tongban.catalog.services", "tongban.regions.queries", …), and list apart the codes that are
# never an HTTP answer (eligibility reasons, refusals between nodes, command-line errors).
COVERED_MODULES = (
    "tongban.api",
    "tongban.urls",
    "tongban.identity",
    "tongban.catalog.api",
    "tongban.rules.api",
    "tongban.regions.api",
    "tongban.exchange.api",
    "tongban.cases.api",
    "tongban.cases.services",
    "tongban.cases.policy",
    "tongban.cases.applicants",
    "tongban.cases.hub_api",
    "tongban.licences",
)
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_openapi_lists_every_path(spec):
    for path, methods in PATHS.items():
        assert methods <= set(spec["paths"][path]), path


def test_openapi_document_is_valid(spec):
    validate(spec)  # raises on the first problem; the regions' parameter examples used to be one


def test_parameter_examples_are_example_objects(spec):
    parent = next(p for p in spec["paths"]["/api/v1/regions"]["get"]["parameters"] if p["name"] == "parent")
    assert parent["examples"] == {"示例": {"value": "370000"}}


def test_every_operation_declares_problem_responses(spec):
    for path, method, operation in operations(spec):
        problems = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert problems, f"{method} {path}"
        for status, response in problems.items():
            media = response["content"][PROBLEM_MEDIA_TYPE]
            assert media["schema"]["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
            codes = media["schema"]["allOf"][1]["properties"]["code"]["enum"]
            assert set(media["examples"]) == set(codes)
            assert all(f"`{code}`" in response["description"] for code in codes), (path, status)
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail", "instance"} == set(problem["required"])
    assert {"errors", "missing", "reasons"} <= set(problem["properties"])


def test_generic_problems_follow_what_an_operation_has(spec):
    token = declared_codes(spec["paths"]["/api/v1/auth/token"]["post"])
    assert "malformed_json" in token[400] and "invalid_request" in token[422]
    assert 401 not in token or "unauthenticated" not in token[401]
    trust = declared_codes(spec["paths"]["/api/v1/trust-list"]["get"])
    assert trust == {404: {"trust_list_missing"}}  # no parameters, no body, no login
    cases = declared_codes(spec["paths"]["/api/v1/cases"]["post"])
    assert {"unauthenticated", "token_expired"} <= cases[401]
    assert {"csrf_failed", "account_disabled"} <= cases[403]
    assert cases[421] == {"wrong_node"} and "unknown_node" in cases[400]
    assert "csrf_failed" not in declared_codes(spec["paths"]["/api/v1/cases"]["get"])[403]


def test_node_header_is_declared_on_every_authenticated_operation(spec):
    for path, method, operation in operations(spec):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == NODE_HEADER]
        if operation.get("security"):
            assert len(headers) == 1, f"{method} {path}"
            assert "办理节点" in headers[0]["description"]
        else:
            assert not headers, f"{method} {path}"


def _error_classes() -> dict[str, int]:
    classes: dict[str, int] = {}
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        classes[cls.__name__] = cls.status
        pending += cls.__subclasses__()
    return classes


def _constant(node: ast.expr | None):
    return node.value if isinstance(node, ast.Constant) else None


def raised_codes(module: str) -> set[tuple[str, int | None]]:
    """(code, status) of every DomainError (or subclass) built with a literal code, and every `problem(…)` answer,
    in a module's source; the status is None where the source computes it."""
    classes = _error_classes()
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    found: set[tuple[str, int | None]] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name in classes and node.args and isinstance(_constant(node.args[0]), str):
            status = next((_constant(k.value) for k in node.keywords if k.arg == "status"), classes[name])
            found.add((node.args[0].value, status))
        elif name == "problem" and len(node.args) >= 3 and isinstance(_constant(node.args[2]), str):
            found.add((node.args[2].value, _constant(node.args[1])))
    return found


def documented(spec: dict) -> dict[int | None, set[str]]:
    """Status → every code the document declares, on an operation or as an answer of no operation."""
    by_status: dict[int | None, set[str]] = {}
    responses = [op["responses"] for _, _, op in operations(spec)]
    responses.append(spec["components"]["responses"])
    for group in responses:
        for response in group.values():
            media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
            if not media:
                continue
            status = media["schema"]["allOf"][1]["properties"].get("status", {}).get("const")
            codes = set(media["schema"]["allOf"][1]["properties"]["code"]["enum"])
            by_status.setdefault(status, set()).update(codes)
            by_status.setdefault(None, set()).update(codes)
    return by_status


def test_the_static_scan_finds_codes():
    assert ("invalid_query", 422) in raised_codes("tongban.catalog.api")
    assert ("wrong_node", 421) in raised_codes("tongban.identity.actors")
    assert ("token_expired", 401) in raised_codes("tongban.identity.tokens")
    assert ("malformed_json", 400) in raised_codes("tongban.api")


def modules(names: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for name in names:
        module = importlib.import_module(name)
        found.append(name)
        if hasattr(module, "__path__"):
            found += [f"{name}.{info.name}" for info in pkgutil.walk_packages(module.__path__) if not info.ispkg]
    return found


@pytest.mark.parametrize("module", modules(COVERED_MODULES))
def test_every_code_raised_in_the_source_is_declared(spec, module):
    declared = documented(spec)
    missing = sorted(
        f"{code} ({status})" for code, status in raised_codes(module) if code not in declared.get(status, set())
    )
    assert not missing, f"{module} raises codes the OpenAPI document does not declare: {missing}"


def test_docs_page_is_chinese_and_uses_local_assets_only():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-CN">' in page
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert page.index("/static/tongban/swagger-ui-zh.js") < page.index("/static/ninja/swagger-ui-init.js")
    assert "/static/tongban/swagger-ui-zh.css" in page
    assert "cdn" not in page.lower()
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_translation_script_and_stylesheet_are_served():
    script = b"".join(Client().get("/static/tongban/swagger-ui-zh.js").streaming_content).decode()
    for english, chinese in [("Try it out", "试一试"), ("Execute", "执行"), ("Responses", "响应")]:
        assert f'"{english}": "{chinese}"' in script
    assert "MutationObserver" in script
    style = b"".join(Client().get("/static/tongban/swagger-ui-zh.css").streaming_content).decode()
    assert 'content: "必填"' in style


def test_security_schemes_and_successes_are_described_in_chinese(spec):
    schemes = spec["components"]["securitySchemes"]
    assert all(scheme["description"] for scheme in schemes.values())
    assert spec["paths"]["/api/v1/items"]["get"]["responses"]["200"]["description"] == "成功"


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_every_success_answer_has_a_typed_schema(spec):
    # An answer typed `dict` is `{"type": "object", "additionalProperties": true}`: tools learn nothing from it.
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) >= 400 or "content" not in response:
                continue
            if "application/json" not in response["content"]:
                # A document (a licence's PDF) is binary, and says so.
                assert all(m["schema"].get("format") == "binary" for m in response["content"].values()), path
                continue
            schema = _resolve(spec, response["content"]["application/json"]["schema"])
            if schema.get("type") == "array":
                schema = _resolve(spec, schema["items"])
            assert schema.get("properties"), f"{method} {path} {status}"
            assert schema.get("additionalProperties") is not True, f"{method} {path} {status}"


def test_the_case_detail_schema_names_the_timeline_and_deadlines(spec):
    detail = spec["components"]["schemas"]["CaseDetail"]
    assert detail["additionalProperties"] is False
    assert {"timeline", "deadlines", "jurisdiction", "allowed_actions", "parties"} <= set(detail["required"])
    entry = _resolve(spec, detail["properties"]["timeline"]["items"])
    assert {"seq", "action", "label", "at", "node"} <= set(entry["properties"])
    answers = spec["paths"]["/api/v1/cases/{case_no}/actions"]["post"]["responses"]
    assert answers["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CaseDetail"}
    assert answers["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Forwarded"}
