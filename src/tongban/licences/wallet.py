"""The holder's wallet (我的证照): every licence of the caller — and of the enterprises they act for —
found in the hub's directory by holder key, wherever it was issued."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from tongban.cases.views import iso, node_name
from tongban.errors import DomainError
from tongban.identity.actors import Actor
from tongban.licences.directory import holder_key
from tongban.licences.models import LicenceIndexEntry, LicenceState, LicenceType
from tongban.licences.services import holder_numbers


def holder_keys(actor: Actor) -> list[str]:
    """The directory's keys for the actor as a holder (see `services.holder_numbers`)."""
    return [holder_key(number) for number in sorted(holder_numbers(actor))]


def _at_the_hub() -> bool:
    return not settings.TONGBAN_NODE or settings.TONGBAN_NODE == settings.TONGBAN_HUB_NODE


def wallet(actor: Actor, request: HttpRequest) -> list[dict[str, Any]]:
    if _at_the_hub():
        return local_wallet(actor)
    return _from_the_hub(request)


def local_wallet(actor: Actor) -> list[dict[str, Any]]:
    keys = holder_keys(actor)
    if not keys:
        return []
    entries = (
        LicenceIndexEntry.objects.filter(node=settings.TONGBAN_HUB_NODE, holders__holder_key__in=keys)
        .distinct()
        .order_by("-state_changed_at", "identifier")
    )
    names = dict(LicenceType.objects.values_list("code", "name"))
    return [
        {
            "identifier": e.identifier,
            "type": {"code": e.licence_type, "name": names.get(e.licence_type, e.licence_type)},
            "issuer_node": e.issuer_node,
            "issuer_node_name": node_name(e.issuer_node),
            "state": e.state,
            "state_label": LicenceState(e.state).label,
            "state_changed_at": iso(e.state_changed_at) or "",
            "valid_until": e.valid_until.isoformat() if e.valid_until else None,
        }
        for e in entries
    ]


def _from_the_hub(request: HttpRequest) -> list[dict[str, Any]]:
    """A provincial node asks the hub with the caller's own hub-issued token."""
    url = settings.TONGBAN_HUB_URL.rstrip("/") + "/api/v1/me/licenses"
    asked = urllib.request.Request(url, headers={"Authorization": request.headers.get("Authorization", "")})
    try:
        with urllib.request.urlopen(asked, timeout=5) as response:
            return json.loads(response.read())["items"]
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):  # a session of this node, or a token the hub did not issue
            raise DomainError(
                "hub_token_required",
                "查看我的证照需要国家平台签发的访问令牌：请通过国家平台统一身份认证登录后再试。",
                status=401,
            ) from None
        raise DomainError("directory_unreachable", "暂时无法连接国家平台的证照目录，请稍后再试。", status=503) from None
    except (OSError, ValueError, KeyError):
        raise DomainError("directory_unreachable", "暂时无法连接国家平台的证照目录，请稍后再试。", status=503) from None
