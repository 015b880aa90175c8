"""The REST API root: /api/v1. Each domain app contributes a router; errors are RFC 9457."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from tongban.errors import DomainError
from tongban.problems import PROBLEM_TYPE_BASE, complete_schema
from tongban.validation import readable_error, summary

log = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class TongbanAPI(NinjaAPI):
    """NinjaAPI whose document declares every operation's problem responses and whose validation errors
    name fields in Chinese."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return complete_schema(schema)

    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> ValidationError:
        errors = []
        for context in error_contexts:
            model = context.model
            source = model.__ninja_param_source__
            flatten = model.__ninja_flatten_map_reverse__
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = tuple(error["loc"])
                errors.append(readable_error(model, source, error, tuple(flatten.get(loc, loc))))
        return ValidationError(errors)


class ChineseSwagger(Swagger):
    """Swagger UI from vendored assets, with the page in zh-CN and its own labels translated."""

    template = "tongban/swagger.html"


api = TongbanAPI(
    title="通办 跨省通办平台 API",
    version="1",
    description=(
        "统一身份认证、事项目录、跨省办件与办理时限。错误按 RFC 9457 返回 problem+json，含稳定的 code 与中文 detail。"
    ),
    renderer=ChineseJSONRenderer(),
    urls_namespace="api-v1",
    docs=ChineseSwagger(settings={"persistAuthorization": True, "displayRequestDuration": True}),
)


def problem(request: HttpRequest, status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": code,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json; charset=utf-8"
    if status == 503:  # unavailable for now: say when to come back (clients and load balancers retry)
        response["Retry-After"] = str(extra.get("retry_after", 5))
    response.problem_code = code  # counted by code in /metrics and named in the request's log line
    return response


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(request, exc.status, exc.code, exc.detail, **exc.extra)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = list(exc.errors)
    if any(e.get("code") == "json_invalid" for e in errors):
        return problem(request, 400, "malformed_json", "请求体不是合法的 JSON。", errors=errors)
    return problem(request, 422, "invalid_request", summary(errors), errors=errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "unauthenticated", "请先登录：缺少或无效的访问令牌。")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "not_found", "请求的资源不存在。")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return problem(request, 400, "malformed_json", "请求体不是合法的 JSON。")
    return problem(request, exc.status_code, "http_error", str(exc))


def _register_routers() -> None:
    from tongban.cases.api import router as cases_router
    from tongban.cases.hub_api import router as hub_router
    from tongban.catalog.api import router as catalog_router
    from tongban.exchange.api import router as exchange_router
    from tongban.identity.api import router as identity_router
    from tongban.licences.api import directory_router, wallet_router
    from tongban.licences.api import router as licences_router
    from tongban.licences.documents import router as documents_router
    from tongban.licences.uses_api import holder_router as licence_consents_router
    from tongban.licences.uses_api import router as licence_uses_router
    from tongban.regions.api import router as regions_router
    from tongban.rules.api import router as rules_router

    api.add_router("/", identity_router)
    api.add_router("/regions", regions_router)
    api.add_router("/items", catalog_router)
    # /items/{code}/eligibility: a second router under /items; its paths do not overlap the catalog's.
    api.add_router("/items", rules_router)
    api.add_router("/cases", cases_router)
    api.add_router("/cases", licence_uses_router)
    api.add_router("/case-summaries", hub_router)
    api.add_router("/licenses", documents_router)
    api.add_router("/licenses", licences_router)
    api.add_router("/me/licenses", wallet_router)
    api.add_router("/me/licence-uses", licence_consents_router)
    api.add_router("/licence-directory", directory_router)
    api.add_router("/", exchange_router)


_register_routers()
