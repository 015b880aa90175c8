"""API authentication: the hub's bearer token, or a Django session for the portal pages.

Use `token_or_session` as the `auth=` of an operation. A request that carries a bad token is
refused outright (401) rather than silently falling back to its session cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from tongban.errors import Forbidden
from tongban.identity.actors import NODE_HEADER
from tongban.identity.models import Account
from tongban.identity.tokens import verify_token


def ensure_active(account: Account) -> Account:
    if not account.is_active:
        raise Forbidden("account_disabled", "账号已停用，请联系平台管理员。")
    return account


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` issued by POST /api/v1/auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> Account:
        # The node the request acts at: this process's, else the one the header names (the embedded
        # default serves every node), else the hub; resolve_node refuses a mismatch later.
        node = settings.TONGBAN_NODE or (request.headers.get(NODE_HEADER) or "").strip() or settings.TONGBAN_HUB_NODE
        return ensure_active(verify_token(token, node))


class SessionAuth(APIKeyCookie):
    """The logged-in Django session; unsafe methods must pass the CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Account | None:
        user = getattr(request, "user", None)
        # Without a session there is nothing to protect: answer 401, not a CSRF 403.
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)

    def _get_key(self, request: HttpRequest) -> str | None:
        try:
            return super()._get_key(request)
        except HttpError:
            raise Forbidden("csrf_failed", "安全校验未通过（CSRF），请刷新页面后重试。") from None

    def authenticate(self, request: HttpRequest, key: str | None) -> Account | None:
        return ensure_active(request.user)  # type: ignore[arg-type]


token_auth = TokenAuth()
session_auth = SessionAuth()
token_or_session = [token_auth, session_auth]
