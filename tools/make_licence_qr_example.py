"""Write the golden licence QR code in docs/protocol-examples/: `licence-qr.txt` (the QR text of a
sample marriage licence) and `licence-qr.pem` (the public key that verifies it).

It is signed with the SM2 key of GB/T 32918.5-2017 Annex A, the published test key of the other
golden examples (tools/make_golden_examples.py), which must never be used for anything else. SM2
signatures are randomised: while the sample's content is unchanged the stored signature is kept, so
running this again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django  # noqa: E402

django.setup()

from make_golden_examples import EXAMPLE_KEY  # noqa: E402

from tongban.clock import CHINA_TZ  # noqa: E402
from tongban.crypto import verify  # noqa: E402
from tongban.licences import qr  # noqa: E402

FOLDER = ROOT / "docs" / "protocol-examples"
TEXT = FOLDER / "licence-qr.txt"
PUBLIC_KEY = FOLDER / "licence-qr.pem"
ISSUED_AT = dt.datetime(2025, 6, 9, 10, 30, tzinfo=CHINA_TZ)


def claims() -> qr.QrClaims:
    """A marriage licence issued at 南京 (node 320000) to 王杰 and 刘燕, masked as on every code."""
    return qr.QrClaims(
        identifier="1.2.156.3005.2.11100000MA000119XM001.320100.20250000001.001.4",
        type_code="11100000MA000119XM001",
        type_name="结婚证",
        holder="男方王*、女方刘*",
        valid_from=ISSUED_AT.date(),
        valid_until=None,
        issuer_node="320000",
        issuer_name="南京市民政局",
        issued_at=ISSUED_AT,
        signed_at=ISSUED_AT,
        key_id=EXAMPLE_KEY.public_key().fingerprint(),
    )


def example_text() -> str:
    """The stored text while it still carries these claims under a good signature; else a new one."""
    wanted = qr.encode(claims(), EXAMPLE_KEY)
    if TEXT.exists():
        stored = TEXT.read_text(encoding="ascii").strip()
        prefix, payload, _signature = wanted.split(qr.SEPARATOR)
        if stored.startswith(f"{prefix}{qr.SEPARATOR}{payload}{qr.SEPARATOR}") and _verifies(stored):
            return stored
    return wanted


def _verifies(text: str) -> bool:
    try:
        parsed = qr.parse(text)
    except qr.InvalidQrPayload:
        return False
    return verify(EXAMPLE_KEY.public_key(), parsed.payload, parsed.signature)


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    text = example_text()
    TEXT.write_text(text + "\n", encoding="ascii")
    PUBLIC_KEY.write_text(EXAMPLE_KEY.public_key().to_pem(), encoding="ascii")
    print(f"已写入 {TEXT.relative_to(ROOT)}（{len(text)} 个字符）和 {PUBLIC_KEY.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
