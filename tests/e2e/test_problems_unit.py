"""The problems() declaration and how the document is completed from it."""

from __future__ import annotations

import pytest

from tongban.problems import DECLARED_KEY, complete_schema, declared_codes, problems


def test_problems_keeps_other_openapi_extra_and_meanings():
    extra = problems({404: ["item_unknown"], 422: {"invalid_query": "日期无效"}}, parameters=[{"name": "x"}])
    assert extra == {
        DECLARED_KEY: {"404": {"item_unknown": ""}, "422": {"invalid_query": "日期无效"}},
        "parameters": [{"name": "x"}],
    }


@pytest.mark.parametrize(("status", "code"), [(200, "ok"), (302, "moved"), (404, "Item-Unknown"), (404, "")])
def test_problems_refuses_what_is_not_an_error_status_or_a_snake_case_code(status, code):
    with pytest.raises(ValueError):
        problems({status: [code]})


def document(operation: dict) -> dict:
    return {"openapi": "3.1.0", "paths": {"/api/v1/x/{id}": {"post": operation}}, "components": {}}


def test_own_and_generic_codes_merge_per_status():
    operation = {
        "responses": {200: {"description": "OK"}},
        "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "security": [{"TokenAuth": []}],
        **problems({400: ["upload_invalid"], 422: {"invalid_query": "日期无效"}}),
    }
    done = complete_schema(document(operation))["paths"]["/api/v1/x/{id}"]["post"]
    assert DECLARED_KEY not in done
    assert done["responses"]["200"]["description"] == "成功"
    assert declared_codes(done) == {
        400: {"upload_invalid", "malformed_json", "unknown_node"},
        401: {"unauthenticated", "token_invalid", "token_expired", "token_revoked"},
        403: {"account_disabled", "token_wrong_audience", "csrf_failed"},
        421: {"wrong_node"},
        422: {"invalid_query", "invalid_request"},
        503: {"hub_unreachable", "trust_list_stale"},
    }
    assert [p["name"] for p in done["parameters"]] == ["id", "X-Tongban-Node"]
    example = done["responses"]["422"]["content"]["application/problem+json"]["examples"]["invalid_query"]
    assert example["value"]["detail"] == "日期无效。" and example["value"]["instance"] == "/api/v1/x/{id}"


def test_an_operation_without_parameters_body_or_login_declares_only_its_own():
    done = complete_schema(document({"responses": {200: {"description": "OK"}}}))["paths"]["/api/v1/x/{id}"]["post"]
    assert declared_codes(done) == {}
    assert "parameters" not in done
