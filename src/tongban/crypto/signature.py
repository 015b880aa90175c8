"""SM2 signatures as DER `SEQUENCE { r INTEGER, s INTEGER }` (GB/T 35276-2017, as OpenSSL writes them)."""

from __future__ import annotations

from tongban.crypto import asn1
from tongban.crypto.curve import COORDINATE_SIZE, N


def encode_signature(r: int, s: int) -> bytes:
    return asn1.encode_sequence(asn1.encode_integer(r), asn1.encode_integer(s))


def decode_signature(signature: bytes) -> tuple[int, int]:
    """(r, s) from strict DER with both values in [1, n-1]; ValueError otherwise."""
    children = asn1.decode_sequence(bytes(signature))
    if len(children) != 2:
        raise ValueError("signature must hold exactly r and s")
    r, s = (asn1.decode_integer(child) for child in children)
    if not (1 <= r < N and 1 <= s < N):
        raise ValueError("r or s out of range")
    return r, s


def to_raw(r: int, s: int) -> bytes:
    """The 64-byte r||s form some systems exchange instead of DER."""
    return r.to_bytes(COORDINATE_SIZE, "big") + s.to_bytes(COORDINATE_SIZE, "big")


def from_raw(raw: bytes) -> tuple[int, int]:
    if len(raw) != 2 * COORDINATE_SIZE:
        raise ValueError("raw signature must be 64 bytes")
    return int.from_bytes(raw[:COORDINATE_SIZE], "big"), int.from_bytes(raw[COORDINATE_SIZE:], "big")
