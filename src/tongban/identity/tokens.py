"""Access tokens: issued by the hub, signed with its SM2 key, accepted by every node.

A token is `<claims>.<signature>`, both base64url without padding: the claims are the canonical JSON
of sub, iss, aud, iat, exp, jti, ver and kid; the signature is SM2 (with SM3) by the hub key `kid`
over `tongban-token.v1.` followed by the claims part. Every node checks it against the hub keys of
its trust list (pinned to the hub), so no node needs a shared secret or a call to the hub to accept
a token. `ver` is the account's token version: logout, a password change or a disabled account
raises it at the hub, and every node learns the new version from the account's facts
(`identity.facts`) — that per-account version is the revocation list.

Validity is checked against the injected clock, never the wall clock, so expiry is reproducible.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F

from tongban import clock, crypto
from tongban.errors import DomainError, Forbidden, Unauthorized
from tongban.exchange import trust
from tongban.identity.models import Account

PREFIX = b"tongban-token.v1."
EVERY_NODE = "*"  # the audience of a token good at every node (全国漫游)

# A token is verified once and then remembered for a while: SM2 verification costs about 0.6 ms and a
# person's pages call the API many times with the same token. Expiry is still checked every time.
_VERIFIED_SECONDS = 30.0
_VERIFIED_MAX = 4096
_verified: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
_verified_lock = threading.Lock()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    audience: tuple[str, ...]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 4096:
        raise ValueError("empty or oversized part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid() -> Unauthorized:
    return Unauthorized("token_invalid", "访问令牌无效，请重新登录。")


def hub_node() -> str:
    return settings.TONGBAN_HUB_NODE


def issues_tokens() -> bool:
    """Only the hub (or the embedded default, which hosts it) holds the accounts' passwords."""
    return not settings.TONGBAN_NODE or hub_node() == settings.TONGBAN_NODE


def issue_token(account: Account, audience: Iterable[str] = (EVERY_NODE,)) -> IssuedToken:
    issued_at = clock.now()
    expires_at = issued_at + dt.timedelta(seconds=settings.TONGBAN_TOKEN_TTL_SECONDS)
    key_id, key = trust.signing_key(hub_node())
    aud = tuple(dict.fromkeys(audience)) or (EVERY_NODE,)
    claims = {
        "sub": account.username,
        "iss": hub_node(),
        "aud": list(aud),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": account.token_version,
        "kid": key_id,
    }
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    signature = crypto.sign(key, PREFIX + body.encode("ascii"))
    return IssuedToken(
        token=f"{body}.{_b64(signature)}",
        expires_at=dt.datetime.fromtimestamp(claims["exp"], tz=clock.CHINA_TZ),
        audience=aud,
    )


def _hub_public_key(key_id: str) -> crypto.SM2PublicKey | None:
    """An active, unexpired hub key: from the trust list, or at the hub from the keys it publishes."""
    now = clock.now()
    entry = (trust.current_entries() or {}).get(key_id)
    if entry is None and issues_tokens():
        from tongban.exchange.models import NodeKey

        row = NodeKey.objects.filter(key_id=key_id).first()
        if row is not None:
            entry = {
                "node": row.node,
                "status": row.status,
                "public_key": row.public_key,
                "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            }
    if entry is None or entry["node"] != hub_node() or entry["status"] != "active":
        return None
    until = entry.get("valid_until")
    if until and dt.datetime.fromisoformat(until) <= now:
        return None
    return trust.public_key(entry["public_key"])


def _remembered(token: str) -> dict[str, Any] | None:
    with _verified_lock:
        seen = _verified.get(token)
        if seen is None:
            return None
        if time.monotonic() - seen[0] > _VERIFIED_SECONDS:
            del _verified[token]
            return None
        return seen[1]


def _remember(token: str, claims: dict[str, Any]) -> None:
    with _verified_lock:
        _verified[token] = (time.monotonic(), claims)
        while len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)


def forget_verified() -> None:
    with _verified_lock:
        _verified.clear()


def _checked_signature(token: str) -> dict[str, Any]:
    body, _, signature_part = token.partition(".")
    try:
        claims = json.loads(_unb64(body))
        signature = _unb64(signature_part)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    if not isinstance(claims, dict) or claims.get("iss") != hub_node() or not isinstance(claims.get("kid"), str):
        raise _invalid()
    if not issues_tokens() and trust.is_stale():
        raise DomainError("trust_list_stale", "本节点的信任列表已过期，暂时无法核验访问令牌，请稍后重试。", status=503)
    public = _hub_public_key(claims["kid"])
    if public is None or not crypto.verify(public, PREFIX + body.encode("ascii"), signature):
        raise _invalid()
    return claims


def read_claims(token: str) -> dict[str, Any]:
    """The verified claims of a token, or token_invalid / token_expired. Touches no account row."""
    claims = _remembered(token)
    if claims is None:
        claims = _checked_signature(token)
        exp, sub, ver, aud = claims.get("exp"), claims.get("sub"), claims.get("ver"), claims.get("aud")
        well_formed = (
            isinstance(exp, int)
            and isinstance(sub, str)
            and isinstance(ver, int)
            and isinstance(aud, list)
            and bool(aud)
            and all(isinstance(node, str) for node in aud)
        )
        if not well_formed:
            raise _invalid()
        _remember(token, claims)
    if clock.now().timestamp() >= claims["exp"]:
        raise Unauthorized("token_expired", "访问令牌已过期，请重新登录。")
    return claims


def check_audience(claims: dict[str, Any], node: str) -> None:
    """The token was issued for this node, or for every node."""
    if EVERY_NODE not in claims["aud"] and node not in claims["aud"]:
        raise Forbidden(
            "token_wrong_audience",
            f"该访问令牌只适用于节点 {'、'.join(claims['aud'])}，不适用于本节点 {node}；"
            "请重新登录并申请本节点可用的令牌。",
        )


def check_version(claims: dict[str, Any], account: Account) -> Account:
    if claims["ver"] != account.token_version:
        raise Unauthorized("token_revoked", "访问令牌已失效（已退出登录或修改了密码），请重新登录。")
    if not account.is_active:
        raise Forbidden("account_disabled", "账号已停用，请联系平台管理员。")
    return account


def verify_token(token: str, node: str | None = None) -> Account:
    """The account a valid, unexpired, unrevoked token speaks for, at `node` (default: this node).

    At a node other than the hub the account is the replica its facts built; an unknown or stale
    replica, or a token newer than it, is brought up to date from the hub first."""
    claims = read_claims(token)
    here = node or settings.TONGBAN_NODE or hub_node()
    check_audience(claims, here)
    if issues_tokens():
        account = Account.objects.filter(username=claims["sub"]).first()
        if account is None:
            raise _invalid()
        return check_version(claims, account)
    from tongban.identity import facts

    return check_version(claims, facts.replica_for(token, claims))


def revoke_tokens(account: Account) -> None:
    """Invalidate every token issued to the account so far (logout everywhere)."""
    Account.objects.filter(pk=account.pk).update(token_version=F("token_version") + 1)
    account.refresh_from_db(fields=["token_version"])
    from tongban.identity import facts

    facts.announce(account)
