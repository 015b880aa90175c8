"""The error contract in OpenAPI: which problem codes each operation can answer, as application/problem+json.

A router declares the codes of its own operation with `openapi_extra=problems({404: {"item_unknown": "事项不存在"}})`
(a list of codes will do where no meaning is given). `complete_schema` then writes every operation's error
responses into the document, adding the codes any operation can meet because of what it has: parameters or a
body (422 `invalid_request`), a JSON body (400 `malformed_json`), a login (401, 403) and — with a login — the
acting node (the `X-Tongban-Node` header, 400 `unknown_node`, 421 `wrong_node`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

from tongban.identity.actors import NODE_HEADER

PROBLEM_TYPE_BASE = "https://tongban.org.cn/problems/"
# Where an operation's own codes wait (inside the operation object) until `complete_schema` renders them.
DECLARED_KEY = "x-tongban-problems"
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SAFE_METHODS = {"get", "head", "options"}

Codes = Sequence[str] | Mapping[str, str]
S = TypeVar("S", bound=MutableMapping[str, Any])

VALIDATION = {422: {"invalid_request": "请求参数不符合要求；errors 逐项列出字段（field、label）及原因"}}
MALFORMED = {400: {"malformed_json": "请求体不是合法的 JSON"}}
LOGIN = {
    401: {
        "unauthenticated": "未登录：缺少访问令牌或会话",
        "token_invalid": "访问令牌无效（不是国家平台签发的）",
        "token_expired": "访问令牌已过期",
        "token_revoked": "访问令牌已作废（已退出登录或修改了密码）",
    },
    403: {
        "account_disabled": "账号已停用",
        "token_wrong_audience": "访问令牌只适用于其他节点（登录时限定了适用节点）",
    },
    503: {
        "hub_unreachable": "省级节点暂时无法向国家平台核实账号信息（有 Retry-After）",
        "trust_list_stale": "本节点的信任列表已过期，暂时无法核验访问令牌（有 Retry-After）",
    },
}
CSRF = {403: {"csrf_failed": "以会话登录提交时未通过 CSRF 校验（令牌登录不涉及）"}}
NODE = {
    400: {"unknown_node": "X-Tongban-Node 指定的节点不存在或未启用"},
    421: {"wrong_node": "本进程只服务一个节点，请求头指定了其他节点"},
}
# Answers that belong to no operation: an unknown path, and any other HTTP error raised by the framework.
UNBOUND = {
    "UnknownPath": (404, {"not_found": "/api/ 下不存在的接口路径"}),
    "FrameworkError": (None, {"http_error": "框架抛出的其他 HTTP 错误，detail 为其说明（状态码随错误而定）"}),
}

# ninja describes a success by its HTTP reason phrase ("OK"); the docs page shows Chinese.
SUCCESS_DESCRIPTIONS = {
    "OK": "成功",
    "Created": "已创建",
    "Accepted": "已接收，待处理",
    "No Content": "成功，无返回内容",
}
SECURITY_DESCRIPTIONS = {
    "http": "国家平台签发的访问令牌（POST /api/v1/auth/token），放在 Authorization: Bearer <令牌> 请求头中。",
    "apiKey": "管理后台登录后的会话 Cookie；以会话提交（POST 等）时须在 X-CSRFToken 请求头中带上 csrftoken 的值。",
}

NODE_PARAMETER = {
    "name": NODE_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "本次请求的办理节点：国家平台 000000 或省级区划代码（如 370000）。决定读取哪个节点的办件副本、"
        "新办件在哪里收件、哪些岗位有效。不填时：只服务一个节点的进程按本节点办理；岗位都在同一节点的工作人员"
        "在该节点办理；否则本次请求没有办理节点。"
    ),
    "schema": {"type": "string", "pattern": "^[0-9]{6}$", "examples": ["370000"]},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 问题详情：稳定的错误代码 code 与中文说明 detail。",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "https://tongban.org.cn/problems/ 加错误代码"},
        "title": {"type": "string", "description": "同 code"},
        "status": {"type": "integer", "description": "HTTP 状态码"},
        "code": {"type": "string", "pattern": CODE_RE.pattern, "description": "稳定的错误代码，程序据此判断"},
        "detail": {"type": "string", "description": "中文说明，指出哪里不对"},
        "instance": {"type": "string", "description": "请求路径"},
        "errors": {
            "type": "array",
            "description": "逐项列出的问题：invalid_request、invalid_form、invalid_facts 及资格查询的事实错误",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
        },
        "missing": {
            "type": "array",
            "description": (
                "materials_missing：缺少的材料 [{code, name, licence_type, how, path, note}]，how 为 upload（上传）"
                "或 licence_use（可授权使用电子证照代替）；supplement_incomplete：仍缺的材料编码"
            ),
            "items": {
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "licence_type": {"type": "string"},
                            "how": {"enum": ["upload", "licence_use"]},
                            "path": {"type": "string"},
                            "note": {"type": "string"},
                        },
                        "required": ["code", "name"],
                    },
                ]
            },
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "查询参数取值无效时：该参数的可选值",
        },
        "reasons": {
            "type": "array",
            "description": "not_eligible：不能在此办理的每个原因",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
                "required": ["code", "detail"],
            },
        },
    },
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemFieldError",
    "description": "一处字段问题。",
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": "string", "description": "字段名（机器可读），嵌套字段以点分隔，如 applicant.id_number"},
        "code": {"type": "string", "description": "问题代码，如 missing、string_too_short、required、unknown_fact"},
        "message": {"type": "string", "description": "中文说明，以字段的中文名称指称字段"},
        "label": {"type": "string", "description": "字段的中文名称（invalid_request）"},
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "description": "字段在请求中的位置：body、query、path、header 加字段路径（invalid_request）",
        },
        "allowed": {"type": "array", "items": {"type": "string"}, "description": "该字段的可选值（取值无效时）"},
    },
}


def problems(codes: Mapping[int, Codes], **openapi_extra: Any) -> dict[str, Any]:
    """`openapi_extra` for an operation: the problem codes it raises itself, per HTTP status.

    Each status maps to codes, or to codes with their Chinese meaning. Other `openapi_extra` keys pass through.
    """
    declared: dict[str, dict[str, str]] = {}
    for status, entries in codes.items():
        if not 400 <= int(status) <= 599:
            raise ValueError(f"not an error status: {status}")
        meanings = dict(entries) if isinstance(entries, Mapping) else dict.fromkeys(entries, "")
        for code in meanings:
            if not CODE_RE.match(code):
                raise ValueError(f"not a snake_case problem code: {code!r}")
        declared[str(status)] = meanings
    return {DECLARED_KEY: declared, **openapi_extra}


def complete_schema(schema: S) -> S:
    """Add every operation's problem responses, the node header and the Problem schemas to a freshly generated
    document (in place; returned for convenience)."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _complete_operation(path, method, operation)
    components = schema.setdefault("components", {})
    for scheme in components.get("securitySchemes", {}).values():
        scheme.setdefault("description", SECURITY_DESCRIPTIONS.get(scheme.get("type"), ""))
    components.setdefault("schemas", {}).update({"Problem": PROBLEM_SCHEMA, "ProblemFieldError": FIELD_ERROR_SCHEMA})
    components.setdefault("responses", {}).update(
        {name: _response(status, codes, "/api/v1/…") for name, (status, codes) in UNBOUND.items()}
    )
    _fix_parameter_examples(schema)
    return schema


def declared_codes(operation: Mapping[str, Any]) -> dict[int, set[str]]:
    """Status → the problem codes an operation of the finished document declares."""
    result: dict[int, set[str]] = {}
    for status, response in operation.get("responses", {}).items():
        codes = _response_codes(response)
        if codes:
            result[int(status)] = codes
    return result


def _response_codes(response: Mapping[str, Any]) -> set[str]:
    media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
    if not media:
        return set()
    return set(media["schema"]["allOf"][1]["properties"]["code"]["enum"])


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    codes: dict[int, dict[str, str]] = {}
    for status, meanings in operation.pop(DECLARED_KEY, {}).items():
        _merge(codes, {int(status): meanings})
    parameters = operation.setdefault("parameters", [])
    body = operation.get("requestBody", {}).get("content", {})
    if parameters or body:
        _merge(codes, VALIDATION)
    if "application/json" in body:
        _merge(codes, MALFORMED)
    if operation.get("security"):
        _merge(codes, LOGIN)
        if method not in SAFE_METHODS:
            _merge(codes, CSRF)
        _merge(codes, NODE)
        if not any(p.get("in") == "header" and p.get("name") == NODE_HEADER for p in parameters):
            parameters.append(dict(NODE_PARAMETER))
    if not parameters:
        operation.pop("parameters")
    # ninja keys responses by int; JSON keys are strings, and one status must not appear twice.
    responses = {str(status): response for status, response in operation["responses"].items()}
    for response in responses.values():
        response["description"] = SUCCESS_DESCRIPTIONS.get(
            response.get("description", ""), response.get("description", "")
        )
    operation["responses"] = responses
    for status in sorted(codes):
        responses[str(status)] = _response(status, codes[status], path)


def _merge(into: dict[int, dict[str, str]], codes: Mapping[int, Mapping[str, str]]) -> None:
    for status, meanings in codes.items():
        target = into.setdefault(status, {})
        for code, meaning in meanings.items():
            target[code] = target.get(code) or meaning


def _response(status: int | None, meanings: Mapping[str, str], path: str) -> dict[str, Any]:
    """The response object for one status (None: the status varies) and its codes, with an example of each."""
    fixed = {"status": {"type": "integer", "const": status}} if status else {}
    lines = [f"- `{code}`" + (f"：{meaning}" if meaning else "") for code, meaning in meanings.items()]
    return {
        "description": "问题详情（application/problem+json），错误代码：\n\n" + "\n".join(lines),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "allOf": [
                        {"$ref": PROBLEM_REF},
                        {
                            "type": "object",
                            "properties": {**fixed, "code": {"type": "string", "enum": list(meanings)}},
                        },
                    ]
                },
                "examples": {code: _example(status, code, meaning, path) for code, meaning in meanings.items()},
            }
        },
    }


def _example(status: int | None, code: str, meaning: str, path: str) -> dict[str, Any]:
    value = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": code,
        "status": status or 400,
        "code": code,
        "detail": f"{meaning}。" if meaning else "（中文说明）",
        "instance": path,
    }
    return {"summary": f"{code}：{meaning}" if meaning else code, "value": value}


def _fix_parameter_examples(schema: dict[str, Any]) -> None:
    """A parameter's `examples` is a map of Example Objects; ninja copies a field's list of values there."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                examples = parameter.get("examples")
                if isinstance(examples, list):
                    parameter["examples"] = {
                        _example_name(i, len(examples)): {"value": v} for i, v in enumerate(examples)
                    }


def _example_name(index: int, count: int) -> str:
    return "示例" if count == 1 else f"示例{index + 1}"
