"""Is this licence genuine, and is it in force? The signature is checked against the trust list every
time; the state is the issuer's."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from tongban import clock
from tongban.clock import CHINA_TZ
from tongban.crypto import CryptoError, verify
from tongban.exchange.envelope import canonical_json
from tongban.exchange.trust import current_entries, public_key
from tongban.licences.issuing import signed_document
from tongban.licences.models import Licence, LicenceState

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


def check_signature(licence: Licence) -> Verdict | None:
    """None when the issuing node's key on the trust list signed exactly this content; else why not."""
    entries = current_entries()
    entry = (entries or {}).get(licence.key_id)
    if entry is None or entry["node"] != licence.node:
        return Verdict("untrusted_issuer", "签名密钥不在信任列表中，或不属于签发节点。")
    if entry["status"] == "revoked":
        return Verdict("untrusted_issuer", "签发节点的签名密钥已被吊销。")
    valid_from = dt.datetime.fromisoformat(entry["valid_from"])
    valid_until = dt.datetime.fromisoformat(entry["valid_until"]) if entry["valid_until"] else None
    if licence.issued_at < valid_from or (valid_until is not None and licence.issued_at >= valid_until):
        return Verdict("untrusted_issuer", "证照的签发时间不在签名密钥的有效期内。")
    try:
        signature = base64.b64decode(licence.signature, validate=True)
        content = canonical_json(signed_document(licence), path="licence")
        genuine = verify(public_key(entry["public_key"]), content, signature)
    except (ValueError, CryptoError):
        genuine = False
    if not genuine:
        return Verdict("forged", "签名与证照内容不符：证照被伪造或篡改。")
    return None


def verdict_of(licence: Licence, today: dt.date | None = None) -> Verdict:
    refused = check_signature(licence)
    if refused is not None:
        return refused
    today = today or clock.now().astimezone(CHINA_TZ).date()
    if licence.state == LicenceState.VALID and licence.valid_until is not None and licence.valid_until < today:
        return Verdict("expired", f"有效期已于 {licence.valid_until.isoformat()} 届满。")
    code = STATE_VERDICTS[LicenceState(licence.state)]
    if code == "valid":
        return Verdict("valid", "签名有效，证照在有效期内且状态正常。")
    return Verdict(code, licence.state_reason or f"签发机构已将证照置为“{licence.get_state_display()}”。")
