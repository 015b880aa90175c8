"""The signed QR code printed on a licence, and its offline verification (docs/licences.md).

The text is `TBL1.<payload>.<signature>`: `TBL1` names the format and its version, `payload` is the
base64url (no padding) of the canonical JSON (docs/protocol.md) of the claims below, and `signature`
the base64url of the DER SM2 signature (default user id) over exactly those payload bytes, made by
the issuing node's key when the code is asked for. Anyone holding the issuing node's public key can
check it with OpenSSL alone; a node checks it against the trust list it last stored, without asking
anyone and without its licence table.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from tongban import clock
from tongban.clock import CHINA_TZ
from tongban.crypto import CryptoError, SM2PrivateKey, sign, verify
from tongban.errors import DomainError
from tongban.exchange.envelope import canonical_json
from tongban.exchange.trust import current_entries, is_stale, public_key, signing_key
from tongban.licences.identifiers import parse_identifier
from tongban.licences.issuing import OPEN_ENDED
from tongban.licences.models import Licence
from tongban.licences.verification import VERDICTS
from tongban.licences.verification import masked_holders as masked_holder

PREFIX = "TBL1"
SEPARATOR = "."
MAX_TEXT = 2048  # characters; a QR code of version 40 holds 2,953 bytes at level L
_BASE64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_NODE_RE = re.compile(r"^[0-9]{6}$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{64}$")
_TYPE_CODE_RE = re.compile(r"^[0-9A-Z]{21}$")
FIELDS = ("id", "type", "name", "holder", "from", "until", "node", "issuer", "issued", "signed", "key")
VALID_REASON = "离线核验：签名有效、在有效期内；证照状态以签发机构为准"


class InvalidQrPayload(DomainError):
    """Text that is not a licence QR code of a format this node reads."""

    status = 422


def _invalid(why: str) -> InvalidQrPayload:
    return InvalidQrPayload("invalid_qr_payload", f"不是有效的电子证照二维码：{why}。", status=422)


@dataclass(frozen=True)
class QrClaims:
    """What the QR code says about a licence; the holder is masked, the times are to the second."""

    identifier: str
    type_code: str
    type_name: str
    holder: str
    valid_from: dt.date
    valid_until: dt.date | None
    issuer_node: str
    issuer_name: str
    issued_at: dt.datetime
    signed_at: dt.datetime
    key_id: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.identifier,
            "type": self.type_code,
            "name": self.type_name,
            "holder": self.holder,
            "from": self.valid_from.isoformat(),
            "until": self.valid_until.isoformat() if self.valid_until else OPEN_ENDED,
            "node": self.issuer_node,
            "issuer": self.issuer_name,
            "issued": _iso(self.issued_at),
            "signed": _iso(self.signed_at),
            "key": self.key_id,
        }


@dataclass(frozen=True)
class OfflineVerdict:
    """`claims` only when the signature verified; the licence's state is never known offline."""

    code: str
    reason: str
    claims: QrClaims | None = None
    state_confirmed: bool = False

    @property
    def label(self) -> str:
        return VERDICTS[self.code]

    @property
    def summary(self) -> str:
        return f"{self.label}（{self.reason.rstrip('。')}）"


# ---------------------------------------------------------------- making the code


def _iso(at: dt.datetime) -> str:
    return at.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()


def claims_of(licence: Licence, key_id: str, signed_at: dt.datetime) -> QrClaims:
    return QrClaims(
        identifier=licence.identifier,
        type_code=licence.licence_type.type_code,
        type_name=licence.licence_type.name,
        holder=masked_holder(licence),
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        issuer_node=licence.node,
        issuer_name=licence.issuer_name,
        issued_at=licence.issued_at,
        signed_at=signed_at,
        key_id=key_id,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def encode(claims: QrClaims, key: SM2PrivateKey) -> str:
    """The QR text of `claims`, signed with `key` (whose key id `claims.key_id` must be)."""
    payload = canonical_json(claims.to_json(), path="licence_qr")
    return SEPARATOR.join((PREFIX, _b64url(payload), _b64url(sign(key, payload))))


def qr_text(licence: Licence) -> str:
    """A fresh code for `licence`, signed now by its issuing node's current key."""
    key_id, key = signing_key(licence.node)
    return encode(claims_of(licence, key_id, clock.now()), key)


# ---------------------------------------------------------------- reading it


@dataclass(frozen=True)
class ParsedQr:
    payload: bytes
    signature: bytes
    claims: QrClaims


def _unb64url(part: str, what: str) -> bytes:
    """Strict base64url: its alphabet only, no padding, and the one spelling of its bytes."""
    if not _BASE64URL_RE.match(part) or len(part) % 4 == 1:
        raise _invalid(f"{what}不是 base64url 编码")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(f"{what}不是 base64url 编码") from None
    if _b64url(data) != part:
        raise _invalid(f"{what}的 base64url 编码不规范")
    return data


def parse(text: str) -> ParsedQr:
    """The parts of a well-formed code; `invalid_qr_payload` for anything else. Nothing is verified here."""
    text = (text or "").strip()
    if not text:
        raise _invalid("内容为空")
    if len(text) > MAX_TEXT:
        raise _invalid(f"长度超过 {MAX_TEXT} 个字符")
    parts = text.split(SEPARATOR)
    if parts[0] != PREFIX:
        raise _invalid(f"应以 {PREFIX}{SEPARATOR} 开头")
    if len(parts) != 3:
        raise _invalid(f"应为 {PREFIX}{SEPARATOR}<载荷>{SEPARATOR}<签名> 三段")
    payload = _unb64url(parts[1], "载荷")
    signature = _unb64url(parts[2], "签名")
    return ParsedQr(payload, signature, _claims(payload))


def _claims(payload: bytes) -> QrClaims:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _invalid("载荷不是 UTF-8 编码的 JSON") from None
    if not isinstance(data, dict) or set(data) != set(FIELDS) or not all(isinstance(v, str) for v in data.values()):
        raise _invalid(f"载荷应恰好包含字符串字段 {'、'.join(FIELDS)}")
    try:
        canonical = canonical_json(data, path="licence_qr")
    except DomainError:
        canonical = b""
    if canonical != payload:
        raise _invalid("载荷不是规范编码（docs/protocol.md）")
    return _typed(data)


def _typed(data: dict[str, Any]) -> QrClaims:
    try:
        identifier = str(parse_identifier(data["id"]))
    except DomainError:
        identifier = ""
    if identifier != data["id"]:
        raise _invalid("证照标识无效")
    if not _TYPE_CODE_RE.match(data["type"]) or not _NODE_RE.match(data["node"]):
        raise _invalid("证照类型代码或签发节点无效")
    if not _KEY_ID_RE.match(data["key"]):
        raise _invalid("签名密钥标识应为 64 位小写十六进制数")
    if not data["name"] or not data["holder"] or not data["issuer"]:
        raise _invalid("证照名称、持证主体和颁发机构不能为空")
    return QrClaims(
        identifier=data["id"],
        type_code=data["type"],
        type_name=data["name"],
        holder=data["holder"],
        valid_from=_date(data["from"]),
        valid_until=None if data["until"] == OPEN_ENDED else _date(data["until"]),
        issuer_node=data["node"],
        issuer_name=data["issuer"],
        issued_at=_instant(data["issued"]),
        signed_at=_instant(data["signed"]),
        key_id=data["key"],
    )


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _invalid(f"日期“{text[:32]}”应写成 YYYY-MM-DD") from None
    if day.isoformat() != text:
        raise _invalid(f"日期“{text[:32]}”应写成 YYYY-MM-DD")
    return day


def _instant(text: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.isoformat() != text or at.microsecond:
        raise _invalid(f"时间“{text[:32]}”应写成带时区的 YYYY-MM-DDTHH:MM:SS+08:00")
    return at


# ---------------------------------------------------------------- verifying it offline


def verify_qr(
    text: str, *, entries: dict[str, dict[str, Any]] | None = None, today: dt.date | None = None
) -> OfflineVerdict:
    """The offline verdict on a scanned code, from the trust list last stored at this node (or
    `entries` in the same shape). Raises `invalid_qr_payload` for text that is not such a code."""
    parsed = parse(text)
    if entries is None and is_stale():
        # The node's own list past its grace period: it fails closed, as it does for messages.
        return OfflineVerdict("untrusted_issuer", "本节点保存的信任列表已超过宽限期未更新，暂不能离线核验。")
    held = entries if entries is not None else (current_entries() or {})
    refused = _check_key(parsed.claims, held) or _check_signature(parsed, held)
    if refused is not None:
        return refused
    today = today or clock.now().astimezone(CHINA_TZ).date()
    return _by_validity(parsed.claims, today)


def _check_key(claims: QrClaims, held: dict[str, dict[str, Any]]) -> OfflineVerdict | None:
    entry = held.get(claims.key_id)
    if entry is None or entry["node"] != claims.issuer_node:
        return OfflineVerdict(
            "untrusted_issuer", f"签名密钥不在本节点保存的信任列表中，或不属于签发节点 {claims.issuer_node}。"
        )
    if entry["status"] != "active":
        return OfflineVerdict("untrusted_issuer", "签发节点的这把签名密钥已被吊销。")
    valid_from = dt.datetime.fromisoformat(entry["valid_from"]).replace(microsecond=0)
    valid_until = dt.datetime.fromisoformat(entry["valid_until"]) if entry["valid_until"] else None
    if claims.signed_at < valid_from or (valid_until is not None and claims.signed_at >= valid_until):
        return OfflineVerdict("untrusted_issuer", "二维码的签名时间不在签名密钥的有效期内。")
    return None


def _check_signature(parsed: ParsedQr, held: dict[str, dict[str, Any]]) -> OfflineVerdict | None:
    try:
        genuine = verify(public_key(held[parsed.claims.key_id]["public_key"]), parsed.payload, parsed.signature)
    except (ValueError, CryptoError):
        genuine = False
    if not genuine:
        return OfflineVerdict("forged", "签名与二维码内容不符：二维码被伪造或篡改。")
    return None


def _by_validity(claims: QrClaims, today: dt.date) -> OfflineVerdict:
    if claims.valid_until is not None and claims.valid_until < today:
        return OfflineVerdict("expired", f"签名有效，但有效期已于 {claims.valid_until.isoformat()} 届满。", claims)
    if claims.valid_from > today:
        return OfflineVerdict("other", f"签名有效，但有效期自 {claims.valid_from.isoformat()} 起，尚未开始。", claims)
    return OfflineVerdict("valid", VALID_REASON, claims)
