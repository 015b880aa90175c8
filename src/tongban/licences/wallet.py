"""The holder's wallet (我的证照): every licence of the caller — and of the enterprises they act for —
found in the hub's directory by holder key, wherever it was issued; and the whole licence, read from
the node that issued it and checked against its signature before it is shown."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from tongban import clock
from tongban.cases.views import iso, node_name
from tongban.errors import DomainError
from tongban.exchange import trust
from tongban.identity.actors import Actor
from tongban.licences.directory import holder_key
from tongban.licences.identifiers import parse_identifier
from tongban.licences.models import Licence, LicenceIndexEntry, LicenceState, LicenceType
from tongban.licences.services import holder_numbers
from tongban.licences.verification import DirectoryUnreachable, checked_statement, fetch_statement, verify_document


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


def issued_elsewhere(identifier: str) -> bool:
    """True where this node of a federation does not keep `identifier`: its issuer has it. (The embedded
    default keeps every node's licences in one database.)"""
    parse_identifier(identifier)
    return bool(settings.TONGBAN_NODE) and not Licence.objects.filter(identifier=identifier.strip()).exists()


def _unreachable(node: str) -> DomainError:
    return DomainError(
        "issuer_unreachable", f"暂时无法连接签发该证照的节点（{node_name(node)}），请稍后再试。", status=503
    )


def _invalid_answer(node: str, why: str) -> DomainError:
    return DomainError("issuer_answer_invalid", f"签发节点（{node_name(node)}）返回的证照未通过核验：{why}", status=502)


def _issuer_of(identifier: str) -> str:
    """The issuing node, as the issuer's own signed report in the hub's directory names it."""
    try:
        statement = fetch_statement(identifier.strip())
    except DirectoryUnreachable:
        raise DomainError("directory_unreachable", "暂时无法连接国家平台的证照目录，请稍后再试。", status=503) from None
    checked = checked_statement(statement, identifier.strip(), clock.now())
    if checked.verdict.code in ("forged", "untrusted_issuer"):
        why = checked.verdict.reason
        raise DomainError("directory_statement_invalid", f"国家平台目录中的证照记录未通过核验：{why}", status=502)
    return checked.issuer_node


def from_the_issuer(request: HttpRequest, identifier: str) -> dict[str, Any]:
    """The whole licence from the node that issued it, asked with the caller's own hub-issued token (so
    the issuer decides who may see it), and shown only if the issuer's key on the trust list signed it."""
    identifier = identifier.strip()
    node = _issuer_of(identifier)
    address = trust.node_address(node)
    if not address:
        raise _unreachable(node)
    asked = urllib.request.Request(
        f"{address}/api/v1/me/licenses/{identifier}",
        headers={"Authorization": request.headers.get("Authorization", ""), "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(asked, timeout=5) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise DomainError(
                "licence_not_found", f"没有标识为 {identifier} 的电子证照，或您无权查看。", status=404
            ) from None
        if error.code in (401, 403):
            raise DomainError(
                "hub_token_required",
                "在签发节点查看证照需要国家平台签发的访问令牌：请通过国家平台统一身份认证登录后再试。",
                status=401,
            ) from None
        raise _unreachable(node) from None
    except (OSError, ValueError):
        raise _unreachable(node) from None
    _check_signed(answer, identifier, node)
    return answer


def _check_signed(answer: Any, identifier: str, node: str) -> None:
    try:
        copy = {"document": signed_part(answer), "key_id": answer["key_id"], "signature": answer["signature"]}
    except (KeyError, TypeError, AttributeError):
        raise _invalid_answer(node, "内容不完整") from None
    verdict = verify_document(copy, identifier=identifier, issuer_node=node)
    if verdict is not None:
        raise _invalid_answer(node, verdict.reason)


def signed_part(licence: dict[str, Any]) -> dict[str, Any]:
    """The document a licence's signature covers (`issuing.signed_document`), read back from its API form."""
    return {
        "identifier": licence["identifier"],
        "issuer_node": licence["issuer"]["node"],
        "operation": licence["operation"],
        "previous": licence["previous"],
        "issued_at": licence["issued_at"],
        "valid_from": licence["valid_from"],
        "valid_until": licence["valid_until"],
        "holders": [{k: h[k] for k in ("kind", "label", "name", "id_kind", "id_number")} for h in licence["holders"]],
        "data": licence["data"],
    }
