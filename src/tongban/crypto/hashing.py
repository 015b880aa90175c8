"""SM3 (GB/T 32905-2016) and HMAC-SM3, from `cryptography`."""

from __future__ import annotations

import hmac as _stdlib_hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from tongban.crypto.errors import BackendError

DIGEST_SIZE = 32

_SM3 = hashes.SM3()

Bytes = bytes | bytearray | memoryview


def _check_support() -> None:
    from cryptography.hazmat.backends.openssl import backend

    if not backend.hash_supported(_SM3):
        raise BackendError(
            "当前 cryptography 不支持 SM3 算法",
            f"cryptography is linked against {backend.openssl_version_text()} without SM3",
        )


_check_support()


def sm3(data: Bytes) -> bytes:
    """The 32-byte SM3 digest of `data`."""
    hasher = hashes.Hash(_SM3)
    hasher.update(data)
    return hasher.finalize()


def sm3_hex(data: Bytes) -> str:
    """The SM3 digest as 64 lowercase hex characters."""
    return sm3(data).hex()


def hmac_sm3(key: Bytes, data: Bytes) -> bytes:
    """HMAC (RFC 2104) with SM3: 32 bytes."""
    mac = _hmac.HMAC(bytes(key), _SM3)
    mac.update(data)
    return mac.finalize()


def hmac_sm3_verify(key: Bytes, data: Bytes, tag: Bytes) -> bool:
    """Whether `tag` is the HMAC-SM3 of `data`, compared in constant time."""
    return _stdlib_hmac.compare_digest(hmac_sm3(key, data), bytes(tag))
