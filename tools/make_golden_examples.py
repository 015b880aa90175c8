"""Write the golden example messages in docs/protocol-examples/ (run after a change to the envelope or
to an example): for each, `<name>.json` (the envelope with its signature, and the public key),
`<name>.canonical.txt` (the exact canonical bytes) and a line of `SM3SUMS` (their SM3 digest).

Every example is signed with the SM2 key of GB/T 32918.5-2017 Annex A, a published test key that
must never be used for anything else. SM2 signatures are randomised: an example whose content has
not changed keeps the signature it has, so running this again changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tongban import crypto  # noqa: E402
from tongban.exchange.envelope import Envelope, canonical_bytes  # noqa: E402

FOLDER = ROOT / "docs" / "protocol-examples"
# d_A of GB/T 32918.5-2017 Annex A (public, for test vectors only).
ANNEX_A_PRIVATE_KEY = int("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8", 16)
EXAMPLE_KEY = crypto.SM2PrivateKey(ANNEX_A_PRIVATE_KEY)
CASE_NO = "330000202506090000017"
DEPARTMENT = {"region": "520324", "function": "yibao"}


def _action(seq: int, action_id: str, name: str, at: str, **fields: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "action_id": action_id,
        "name": name,
        "at": at,
        "actor": "gz-yibao-reviewer",
        "actor_name": "正安医保审查员",
        "role": "reviewer",
        "node": "520000",
        "department": DEPARTMENT,
        "reason": "",
        "data": {},
        **fields,
    }


def _envelope(message_id: str, created_at: dt.datetime, payload: dict[str, Any], **fields: Any) -> Envelope:
    return Envelope(
        type="case.action",
        from_node="520000",
        to_node="330000",
        case_no=CASE_NO,
        message_id=uuid.UUID(message_id),
        correlation_id=uuid.UUID(message_id),
        created_at=created_at,
        user="gz-yibao-reviewer",
        key_id=EXAMPLE_KEY.public_key().fingerprint(),
        payload=payload,
        **fields,
    )


def plain() -> Envelope:
    """An accepted case, as tongban sends it."""
    action = _action(2, "0b7a8f0e-3c1d-4b6e-9a2f-5d8c7e6f4a31", "accept", "2025-06-09T03:00:00+00:00")
    return _envelope(
        "6f1c2b7e-8d3a-4e51-9c0b-2a7f4d6e8b10",
        dt.datetime(2025, 6, 9, 3, 0, tzinfo=dt.UTC),
        {"case_no": CASE_NO, "action": action, "blobs": {}},
    )


def numbers() -> Envelope:
    """Floats in both notations, and integers far beyond 2^53: what JSON.parse would lose."""
    data = {
        "floats": {
            "one": 1.0,
            "zero": 0.0,
            "tenth": 0.1,
            "third": 1 / 3,
            "amount": 1234.5,
            "negative": -2.75,
            "smallest_fixed": 0.0001,
            "largest_exponent": 9.999999999999999e-05,
            "small": 1.5e-07,
            "negative_small": -2.5e-05,
            "tiniest": 5e-324,
            "fifteen_digits": 1e15,
            "largest": 9999999999999998.0,
        },
        "integers": {
            "zero": 0,
            "negative": -42,
            "max_safe": 2**53 - 1,
            "beyond_safe": 2**53 + 1,
            "int64_max": 2**63 - 1,
            "int64_min": -(2**63),
            "beyond_uint64": 2**64 + 1,
            "forty_digits": 10**39 + 7,
        },
        "mixed": [1, 1.0, -0.5, 2**64, True, False, None, "1.0"],
    }
    action = _action(3, "5a0e3c1b-7d2f-4a68-b9c1-0e4d2f6a8b13", "start_review", "2025-06-09T03:10:00+00:00", data=data)
    return _envelope(
        "8e2d4c6a-1b3f-4d57-a9e0-3c5b7d9f1a24",
        dt.datetime(2025, 6, 9, 3, 10, 0, 250000, tzinfo=dt.UTC),
        {"case_no": CASE_NO, "action": action, "blobs": {}},
    )


def text() -> Envelope:
    """Characters outside the BMP (a rare character in a name, an emoji), control characters and every
    escape, and keys whose code-point order differs from their UTF-16 order."""
    reason = (
        '材料第2页模糊\n请重新上传\t(第\r二次) "引号" \\反斜杠 /斜杠 \b\f \u0001\u001f \u007f \u2028\u2029 \ufeff 😀 𠀀'
    )
    data = {
        "applicant_name": "王𠮷",
        "keys": {"": 0, "Z": 1, "a": 2, "a\u0001": 3, "ab": 4, "é": 5, "\ue000": 6, "｡": 7, "😀": 8, "𠀀": 9},
    }
    action = _action(4, "9c3f5e7a-2d4b-4e69-8a1c-5f7b9d1e3a35", "request_correction", "2025-06-09T05:30:00+00:00")
    action.update(reason=reason, data=data)
    return _envelope(
        "2b4d6f8a-3c5e-4f70-9b2d-6e8a0c2e4b46",
        dt.datetime(2025, 6, 9, 5, 30, 0, 123456, tzinfo=dt.UTC),
        {"case_no": CASE_NO, "action": action, "blobs": {}},
        represented_party="王𠮷",
    )


EXAMPLES = {"case.action": plain, "case.action.numbers": numbers, "case.action.text": text}


def _signature(name: str, envelope: Envelope) -> str:
    """The signature the stored example has, if it still covers these bytes; else a new one."""
    stored = FOLDER / f"{name}.json"
    if stored.exists():
        old = json.loads(stored.read_text(encoding="utf-8"))["envelope"]
        signature = old.get("signature", "")
        if {**old, "signature": ""} == envelope.to_dict() and _verifies(envelope, signature):
            return signature
    return base64.b64encode(crypto.sign(EXAMPLE_KEY, canonical_bytes(envelope))).decode()


def _verifies(envelope: Envelope, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    return crypto.verify(EXAMPLE_KEY.public_key(), canonical_bytes(envelope), raw)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    sums = []
    for name, build in EXAMPLES.items():
        envelope = build()
        envelope = envelope.signed(envelope.key_id, _signature(name, envelope))
        canonical = canonical_bytes(envelope)
        example = {"envelope": envelope.to_dict(), "public_key": EXAMPLE_KEY.public_key().to_pem()}
        written = json.dumps(example, ensure_ascii=False, indent=2) + "\n"
        (FOLDER / f"{name}.json").write_text(written, encoding="utf-8")
        (FOLDER / f"{name}.canonical.txt").write_bytes(canonical)
        sums.append(f"{crypto.sm3_hex(canonical)}  {name}.canonical.txt\n")
    (FOLDER / "SM3SUMS").write_text("".join(sums), encoding="utf-8")
    print(f"written to {FOLDER}")


if __name__ == "__main__":
    main()
