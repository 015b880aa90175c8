"""Access tokens: issued by the hub, accepted by every node.

The signature scheme stays behind `issue_token` and `verify_token`, so moving from the shared
HMAC key to the hub's SM2 key changes this module only. Validity is checked against the injected
clock, never the wall clock, so expiry is reproducible in tests.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import F

from tongban import clock
from tongban.errors import Forbidden, Unauthorized
from tongban.identity.models import Account

SALT = "tongban.identity.access-token"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime


def _signer() -> signing.Signer:
    # A plain Signer: Django's TimestampSigner would stamp the wall clock into the token.
    return signing.Signer(key=settings.TONGBAN_TOKEN_KEY, salt=SALT, sep=".", algorithm="sha256")


def _invalid() -> Unauthorized:
    return Unauthorized("token_invalid", "访问令牌无效，请重新登录。")


def issue_token(account: Account) -> IssuedToken:
    issued_at = clock.now()
    expires_at = issued_at + dt.timedelta(seconds=settings.TONGBAN_TOKEN_TTL_SECONDS)
    claims = {
        "sub": account.username,
        "iss": settings.TONGBAN_HUB_NODE,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": account.token_version,
    }
    token = _signer().sign_object(claims)
    return IssuedToken(token=token, expires_at=dt.datetime.fromtimestamp(claims["exp"], tz=clock.CHINA_TZ))


def read_claims(token: str) -> dict[str, Any]:
    """The verified claims of a token, or token_invalid / token_expired. Does not touch the database."""
    try:
        claims = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(claims, dict) or claims.get("iss") != settings.TONGBAN_HUB_NODE:
        raise _invalid()
    exp, sub, ver = claims.get("exp"), claims.get("sub"), claims.get("ver")
    if not (isinstance(exp, int) and isinstance(sub, str) and isinstance(ver, int)):
        raise _invalid()
    if clock.now().timestamp() >= exp:
        raise Unauthorized("token_expired", "访问令牌已过期，请重新登录。")
    return claims


def verify_token(token: str) -> Account:
    """The account a valid, unexpired, unrevoked token speaks for."""
    claims = read_claims(token)
    account = Account.objects.filter(username=claims["sub"]).first()
    if account is None:
        raise _invalid()
    if claims["ver"] != account.token_version:
        raise Unauthorized("token_revoked", "访问令牌已失效（已退出登录或修改了密码），请重新登录。")
    if not account.is_active:
        raise Forbidden("account_disabled", "账号已停用，请联系平台管理员。")
    return account


def revoke_tokens(account: Account) -> None:
    """Invalidate every token issued to the account so far (logout everywhere)."""
    Account.objects.filter(pk=account.pk).update(token_version=F("token_version") + 1)
    account.refresh_from_db(fields=["token_version"])
