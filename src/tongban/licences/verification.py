"""Is this licence genuine, and is it in force? Every answer rests on a signature checked against the
trust list: the licence's own where this deployment keeps it, else the issuer's signed report in the
hub's directory (confirmed at most TONGBAN_LICENCE_STATE_FRESHNESS_SECONDS ago, or marked stale)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from tongban import clock
from tongban.clock import CHINA_TZ
from tongban.crypto import CryptoError, verify
from tongban.errors import DomainError, NotFound
from tongban.exchange.envelope import Envelope, NotEncodable, canonical_bytes, canonical_json
from tongban.exchange.trust import current_entries, is_stale, public_key
from tongban.licences.identifiers import parse_identifier
from tongban.licences.issuing import signed_document
from tongban.licences.models import Licence, LicenceIndexEntry, LicenceState, LicenceStatusCache
from tongban.masking import mask_text

# What a verifier is told, by code: the licence's own states, and two that say it cannot be trusted.
VERDICTS = {
    "valid": "有效",
    "suspended": "暂扣",
    "revoked": "撤销",
    "cancelled": "注销",
    "expired": "失效",
    "transferred_out": "办理转出",
    "withdrawn": "吊销",
    "other": "其他",
    "forged": "伪造或篡改",
    "untrusted_issuer": "签发机构不受信任",
}
STATE_VERDICTS = {
    LicenceState.VALID: "valid",
    LicenceState.SUSPENDED: "suspended",
    LicenceState.REVOKED: "revoked",
    LicenceState.CANCELLED: "cancelled",
    LicenceState.EXPIRED: "expired",
    LicenceState.TRANSFERRED_OUT: "transferred_out",
    LicenceState.WITHDRAWN: "withdrawn",
    LicenceState.OTHER: "other",
}


@dataclass(frozen=True)
class Verdict:
    code: str
    reason: str

    @property
    def label(self) -> str:
        return VERDICTS[self.code]


@dataclass(frozen=True)
class Checked:
    """A verdict and what it rests on."""

    verdict: Verdict
    identifier: str
    licence_type: str
    issuer_node: str
    state: str
    state_changed_at: dt.datetime
    valid_until: dt.date | None
    confirmed_at: dt.datetime
    source: str  # "issuer": the licence itself; "directory": the issuer's signed report via the hub
    stale: bool = False
    issuer_name: str = ""  # known only where the licence is kept
    holder: str = ""  # masked; known only where the licence is kept


def _trusted_key(key_id: str, node: str, signed_at: dt.datetime) -> Any:
    """The public key of `node` that may have signed at `signed_at`, or the Verdict that it may not."""
    if is_stale():
        return STALE_TRUST
    entry = (current_entries() or {}).get(key_id)
    if entry is None or entry["node"] != node:
        return Verdict("untrusted_issuer", "签名密钥不在信任列表中，或不属于签发节点。")
    if entry["status"] == "revoked":
        return Verdict("untrusted_issuer", "签发节点的签名密钥已被吊销。")
    valid_from = dt.datetime.fromisoformat(entry["valid_from"])
    valid_until = dt.datetime.fromisoformat(entry["valid_until"]) if entry["valid_until"] else None
    if signed_at < valid_from or (valid_until is not None and signed_at >= valid_until):
        return Verdict("untrusted_issuer", "签名时间不在签发节点签名密钥的有效期内。")
    return public_key(entry["public_key"])


def _genuine(key: Any, content: bytes, signature_b64: str) -> bool:
    try:
        return verify(key, content, base64.b64decode(signature_b64, validate=True))
    except (ValueError, CryptoError):
        return False


STALE_TRUST = Verdict("untrusted_issuer", "本节点的信任列表已超过宽限期未更新，暂不能确认任何签名。")
FORGED = Verdict("forged", "签名与证照内容不符：证照被伪造或篡改。")


def _state_verdict(state: str, valid_until: dt.date | None, reason: str, today: dt.date) -> Verdict:
    if state == LicenceState.VALID and valid_until is not None and valid_until < today:
        return Verdict("expired", f"有效期已于 {valid_until.isoformat()} 届满。")
    code = STATE_VERDICTS[LicenceState(state)]
    if code == "valid":
        return Verdict("valid", "签名有效，证照在有效期内且状态正常。")
    return Verdict(code, reason or f"签发机构已将证照置为“{LicenceState(state).label}”。")


def _today() -> dt.date:
    return clock.now().astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class SignedLicence:
    """What never changes once a licence is issued: its signed bytes and what answers quote from it."""

    pk: int
    signature_text: str
    node: str
    key_id: str
    issued_at: dt.datetime
    content: bytes
    signature: bytes | None
    licence_type: str
    valid_until: dt.date | None
    issuer_name: str
    holder: str


# Issued content is immutable, so a node keeps what it read; the state is read afresh every time.
_SIGNED: dict[str, SignedLicence] = {}
_SIGNED_MAX = 10_000


def _signed_licence(identifier: str, row: tuple) -> SignedLicence | None:
    cached = _SIGNED.get(identifier)
    if cached is not None and (cached.pk, cached.signature_text) == row[:2]:
        return cached
    licence = Licence.objects.filter(identifier=identifier).prefetch_related("holders").first()
    if licence is None:
        return None
    try:
        signature = base64.b64decode(licence.signature, validate=True)
    except ValueError:
        signature = None
    signed = SignedLicence(
        pk=licence.pk,
        signature_text=licence.signature,
        node=licence.node,
        key_id=licence.key_id,
        issued_at=licence.issued_at,
        content=canonical_json(signed_document(licence), path="licence"),
        signature=signature,
        licence_type=licence.licence_type_id,
        valid_until=licence.valid_until,
        issuer_name=licence.issuer_name,
        holder=masked_holders(licence),
    )
    if len(_SIGNED) >= _SIGNED_MAX:
        _SIGNED.pop(next(iter(_SIGNED)))
    _SIGNED[identifier] = signed
    return signed


def forget_signed(identifier: str | None = None) -> None:
    if identifier is None:
        _SIGNED.clear()
    else:
        _SIGNED.pop(identifier, None)


def masked_holders(licence: Licence) -> str:
    shown = []
    for holder in licence.holders.all():
        name = holder.name if holder.kind == "enterprise" else mask_text(holder.name)
        shown.append(f"{holder.label}{name}" if holder.label else name)
    return "、".join(shown)


def _current_row(identifier: str) -> tuple | None:
    """(id, signature, state, reason, state time) now: one read by the unique identifier, without the
    ORM's query building (the hot path). The id and signature tell whether what is cached is this row."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [identifier])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, signature, state, reason, changed_at = row
    if isinstance(changed_at, str):  # SQLite hands back text in UTC
        changed_at = dt.datetime.fromisoformat(changed_at).replace(tzinfo=dt.UTC)
    return pk, signature, state, reason, changed_at


_STATE_SQL = (
    f"SELECT id, signature, state, state_reason, state_changed_at FROM {Licence._meta.db_table} WHERE identifier = %s"
)


def verify_identifier(identifier: str, node: str | None) -> Checked:
    """Verify a licence at `node`: from the licence where this deployment keeps it, else through the
    hub's directory."""
    parse_identifier(identifier)
    identifier = identifier.strip()
    row = _current_row(identifier)
    signed = _signed_licence(identifier, row) if row is not None else None
    if signed is None:
        forget_signed(identifier)
        return _through_the_directory(identifier, node or settings.TONGBAN_HUB_NODE)
    _pk, _signature, state, reason, changed_at = row
    verdict = _signature_verdict(signed) or _state_verdict(state, signed.valid_until, reason, _today())
    return Checked(
        verdict=verdict,
        identifier=identifier,
        licence_type=signed.licence_type,
        issuer_node=signed.node,
        state=state,
        state_changed_at=changed_at,
        valid_until=signed.valid_until,
        confirmed_at=clock.now(),
        source="issuer",
        issuer_name=signed.issuer_name,
        holder=signed.holder,
    )


def _signature_verdict(signed: SignedLicence) -> Verdict | None:
    key = _trusted_key(signed.key_id, signed.node, signed.issued_at)
    if isinstance(key, Verdict):
        return key
    if signed.signature is None:
        return FORGED
    try:
        return None if verify(key, signed.content, signed.signature) else FORGED
    except CryptoError:
        return FORGED


def verify_document(copy: dict[str, Any], *, identifier: str, issuer_node: str) -> Verdict | None:
    """A licence as it travelled ({document, key_id, signature}): None if the issuing node's key on the
    trust list signed exactly this document of `identifier`, else the verdict why not."""
    try:
        document = copy["document"]
        if document["identifier"] != identifier or document["issuer_node"] != issuer_node:
            return FORGED
        issued_at = dt.datetime.fromisoformat(document["issued_at"])
        content = canonical_json(document, path="licence")
        key_id, signature = str(copy["key_id"]), str(copy["signature"])
    except (KeyError, TypeError, ValueError, NotEncodable):
        return FORGED
    key = _trusted_key(key_id, issuer_node, issued_at)
    if isinstance(key, Verdict):
        return key
    return None if _genuine(key, content, signature) else FORGED


def _through_the_directory(identifier: str, node: str) -> Checked:
    cached = LicenceStatusCache.objects.filter(node=node, identifier=identifier).first()
    freshness = dt.timedelta(seconds=settings.TONGBAN_LICENCE_STATE_FRESHNESS_SECONDS)
    now = clock.now()
    if cached is not None and now - cached.confirmed_at <= freshness:
        return checked_statement(cached.statement, identifier, cached.confirmed_at)
    try:
        statement = fetch_statement(identifier)
    except DirectoryUnreachable:
        if cached is None:
            raise DomainError(
                "directory_unreachable", "暂时无法连接国家平台的证照目录核实该证照，请稍后再试。", status=503
            ) from None
        return checked_statement(cached.statement, identifier, cached.confirmed_at, stale=True)
    checked = checked_statement(statement, identifier, now)
    if checked.verdict.code not in ("forged", "untrusted_issuer"):
        LicenceStatusCache.objects.update_or_create(
            node=node, identifier=identifier, defaults={"statement": statement, "confirmed_at": now}
        )
    return checked


class DirectoryUnreachable(Exception):
    pass


def fetch_statement(identifier: str) -> dict[str, Any]:
    """The issuer's last signed report of `identifier`, from the hub (read here where this is the hub)."""
    hub = settings.TONGBAN_HUB_NODE
    if not settings.TONGBAN_NODE or hub == settings.TONGBAN_NODE or not settings.TONGBAN_HUB_URL:
        entry = LicenceIndexEntry.objects.filter(node=hub, identifier=identifier).first()
        if entry is None:
            raise NotFound("licence_not_found", f"没有标识为 {identifier} 的电子证照。")
        return entry.statement
    url = f"{settings.TONGBAN_HUB_URL.rstrip('/')}/api/v1/licence-directory/{identifier}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())["statement"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise NotFound("licence_not_found", f"没有标识为 {identifier} 的电子证照。") from None
        raise DirectoryUnreachable from None
    except (OSError, ValueError, KeyError):
        raise DirectoryUnreachable from None


def checked_statement(statement: dict[str, Any], identifier: str, confirmed_at: dt.datetime, stale: bool = False):
    """The verdict an issuer's signed `licence.indexed` report supports for `identifier`."""
    try:
        envelope = Envelope.from_dict(statement)
        report = envelope.payload
        if envelope.type != "licence.indexed" or report["identifier"] != identifier:
            raise ValueError("not a report of this licence")
        if report["issuer_node"] != envelope.from_node:
            raise ValueError("reported by another node")
        state = LicenceState(report["state"])
        changed_at = dt.datetime.fromisoformat(report["state_changed_at"])
        valid_until = dt.date.fromisoformat(report["valid_until"]) if report["valid_until"] else None
    except (ValueError, KeyError, TypeError):
        return _refused(FORGED, identifier, statement, confirmed_at)
    key = _trusted_key(envelope.key_id, envelope.from_node, envelope.created_at)
    if isinstance(key, Verdict):
        return _refused(key, identifier, statement, confirmed_at)
    if not _genuine(key, canonical_bytes(envelope), envelope.signature):
        return _refused(FORGED, identifier, statement, confirmed_at)
    verdict = _state_verdict(state, valid_until, "", _today())
    if stale:
        when = confirmed_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        verdict = Verdict(verdict.code, f"{verdict.reason}（暂时无法连接国家平台，此为 {when} 确认的状态）")
    return Checked(
        verdict=verdict,
        identifier=identifier,
        licence_type=str(report["type"]),
        issuer_node=envelope.from_node,
        state=state,
        state_changed_at=changed_at,
        valid_until=valid_until,
        confirmed_at=confirmed_at,
        source="directory",
        stale=stale,
    )


def _refused(verdict: Verdict, identifier: str, statement: dict[str, Any], confirmed_at: dt.datetime) -> Checked:
    return Checked(
        verdict=verdict,
        identifier=identifier,
        licence_type=str((statement.get("payload") or {}).get("type", "")),
        issuer_node=str(statement.get("from_node", "")),
        state="",
        state_changed_at=confirmed_at,
        valid_until=None,
        confirmed_at=confirmed_at,
        source="directory",
    )
