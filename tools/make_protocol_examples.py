"""Write the golden example messages in docs/protocol-examples/ (run after a change to the envelope).

The example key is for documentation only; the signature is SM2's (randomised), so each run writes a
different but equally valid one: tests check that it verifies and that the canonical bytes match.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tongban import crypto  # noqa: E402
from tongban.exchange.envelope import Envelope, canonical_bytes  # noqa: E402

EXAMPLE_KEY = crypto.SM2PrivateKey(int("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8", 16))


def main() -> None:
    folder = ROOT / "docs" / "protocol-examples"
    folder.mkdir(parents=True, exist_ok=True)
    public = EXAMPLE_KEY.public_key()
    envelope = Envelope(
        type="case.action",
        from_node="520000",
        to_node="330000",
        case_no="330000202506090000017",
        message_id=uuid.UUID("6f1c2b7e-8d3a-4e51-9c0b-2a7f4d6e8b10"),
        correlation_id=uuid.UUID("6f1c2b7e-8d3a-4e51-9c0b-2a7f4d6e8b10"),
        created_at=dt.datetime(2025, 6, 9, 3, 0, tzinfo=dt.UTC),
        user="gz-yibao-reviewer",
        represented_party="",
        key_id=public.fingerprint(),
        payload={
            "case_no": "330000202506090000017",
            "action": {
                "seq": 2,
                "action_id": "0b7a8f0e-3c1d-4b6e-9a2f-5d8c7e6f4a31",
                "name": "accept",
                "at": "2025-06-09T03:00:00+00:00",
                "actor": "gz-yibao-reviewer",
                "actor_name": "正安医保审查员",
                "role": "reviewer",
                "node": "520000",
                "department": {"region": "520324", "function": "yibao"},
                "reason": "",
                "data": {},
            },
            "blobs": {},
        },
    )
    signature = base64.b64encode(crypto.sign(EXAMPLE_KEY, canonical_bytes(envelope))).decode()
    envelope = envelope.signed(envelope.key_id, signature)
    example = {"envelope": envelope.to_dict(), "public_key": public.to_pem()}
    (folder / "case.action.json").write_text(json.dumps(example, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "case.action.canonical.txt").write_text(canonical_bytes(envelope).decode(), encoding="utf-8")
    print(f"written to {folder}")


if __name__ == "__main__":
    main()
