"""The public verification page (公开核验页面): /licences/verify/, no login.

Whoever is shown a licence pastes the text of its QR code (`TBL1.…`, checked offline against the trust
list this node stored, docs/licences.md) or its identifier (checked online: the licence's own
signature where this deployment keeps it, else the issuer's signed report in the hub's directory).
The page shows the verdict and what it rests on — type, issuer, masked holder, validity, state and
when it was confirmed — and never an ID number or a person's full name: it uses exactly what the
public verification endpoints answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from tongban.cases.views import node_name
from tongban.clock import CHINA_TZ
from tongban.errors import DomainError
from tongban.identity.actors import NODE_HEADER
from tongban.licences.issuing import OPEN_ENDED
from tongban.licences.models import Licence, LicenceState, LicenceType
from tongban.licences.qr import MAX_TEXT, PREFIX, SEPARATOR, OfflineVerdict, verify_qr
from tongban.licences.verification import Checked, verify_identifier

FIELD_NAME = "text"
FIELD_ID = "licence-text"
TEMPLATE = "tongban/licence_verify.html"
# Twice what a QR code may hold: anything longer is refused before it is read, and not echoed back whole.
MAX_INPUT = 2 * MAX_TEXT
QR_START = PREFIX + SEPARATOR
REFUSED = ("forged", "untrusted_issuer")
TONES = {
    "valid": "ok",
    "suspended": "warn",
    "expired": "warn",
    "transferred_out": "warn",
    "other": "warn",
}
OFFLINE_STATE = "离线核验不能确认证照当前状态，证照当前状态以签发机构为准。"
SOURCES = {
    "qr": "离线核验：核对二维码的签名（本节点保存的信任列表），不查询签发机构",
    "issuer": "在线核验：核对签发机构对证照的签名，并读取证照当前状态",
    "directory": "在线核验：核对签发机构报送国家平台证照目录的签名报告",
}


@dataclass(frozen=True)
class Shown:
    """Everything the page says about a verified licence; the holder is already masked."""

    code: str
    label: str
    reason: str
    source: str  # "qr", "issuer" or "directory"
    identifier: str = ""
    type_name: str = ""
    issuer_name: str = ""
    issuer_node: str = ""
    issuer_node_name: str = ""
    holder: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    state_label: str = ""
    confirmed_at: str = ""
    stale: bool = False

    @property
    def tone(self) -> str:
        return TONES.get(self.code, "bad")

    @property
    def refused(self) -> bool:
        """Forged or untrusted: nothing it says about the licence is shown."""
        return self.code in REFUSED

    @property
    def offline(self) -> bool:
        return self.source == "qr"

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    @property
    def validity(self) -> str:
        """From–until, 长期 without an end; the directory does not say from when."""
        until = self.valid_until.isoformat() if self.valid_until else OPEN_ENDED
        if self.valid_from is not None:
            return f"{self.valid_from.isoformat()} 至 {until}"
        return f"至 {until}" if self.valid_until else OPEN_ENDED


def _minute(at: dt.datetime) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _node_label(node: str) -> str:
    if not node:
        return ""
    name = node_name(node)
    return f"{name}（{node}）" if name != node else node


def _offline(verdict: OfflineVerdict) -> Shown:
    claims = verdict.claims
    if claims is None:
        return Shown(verdict.code, verdict.label, verdict.reason, "qr")
    return Shown(
        code=verdict.code,
        label=verdict.label,
        reason=verdict.reason,
        source="qr",
        identifier=claims.identifier,
        type_name=claims.type_name,
        issuer_name=claims.issuer_name,
        issuer_node=claims.issuer_node,
        issuer_node_name=_node_label(claims.issuer_node),
        holder=claims.holder,
        valid_from=claims.valid_from,
        valid_until=claims.valid_until,
    )


def _online(checked: Checked) -> Shown:
    verdict = checked.verdict
    if verdict.code in REFUSED:
        return Shown(verdict.code, verdict.label, verdict.reason, checked.source, identifier=checked.identifier)
    valid_from = None
    if checked.source == "issuer":  # the licence is kept here; the directory does not carry the first day
        valid_from = Licence.objects.filter(identifier=checked.identifier).values_list("valid_from", flat=True).first()
    return Shown(
        code=verdict.code,
        label=verdict.label,
        reason=verdict.reason,
        source=checked.source,
        identifier=checked.identifier,
        type_name=LicenceType.objects.filter(code=checked.licence_type).values_list("name", flat=True).first() or "",
        issuer_name=checked.issuer_name,
        issuer_node=checked.issuer_node,
        issuer_node_name=_node_label(checked.issuer_node),
        holder=checked.holder,
        valid_from=valid_from,
        valid_until=checked.valid_until,
        state_label=LicenceState(checked.state).label if checked.state else "",
        confirmed_at=_minute(checked.confirmed_at),
        stale=checked.stale,
    )


def verify_text(text: str, node: str | None) -> Shown:
    """A QR code's text offline, anything else as an identifier online; DomainError when neither reads."""
    text = text.strip()
    if text.startswith(QR_START):
        return _offline(verify_qr(text))
    return _online(verify_identifier(text, node))


def _page(request: HttpRequest, text: str, *, result: Shown | None = None, error: str = "", status: int = 200):
    context = {
        "field_name": FIELD_NAME,
        "field_id": FIELD_ID,
        "max_input": MAX_INPUT,
        "text": text,
        "result": result,
        "error": error,
    }
    response = render(request, TEMPLATE, context, status=status)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def licence_verify(request: HttpRequest) -> HttpResponse:
    """GET: the empty form, or the verdict on `?id=`; POST: the verdict on the text entered."""
    posted = request.method == "POST"
    text = request.POST.get(FIELD_NAME, "") if posted else request.GET.get("id", "")
    if not posted and "id" not in request.GET:
        return _page(request, "")
    if not text.strip():
        return _page(request, text, error="请填写二维码内容或证照标识。", status=422)
    if len(text) > MAX_INPUT:
        return _page(request, text[:MAX_INPUT], error=f"内容不能超过 {MAX_INPUT} 个字符。", status=422)
    node = request.headers.get(NODE_HEADER) or settings.TONGBAN_NODE or None
    try:
        result = verify_text(text, node)
    except DomainError as error:
        return _page(request, text, error=error.detail, status=error.status)
    return _page(request, text, result=result)
