"""Typed errors of the crypto package.

Each error carries a stable machine code, a Chinese message for people (`detail`) and, where it helps,
an English note for developers. A bad signature is never an error: `verify` returns False.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class: `code` is stable, `detail` is the Chinese message shown to people."""

    code = "crypto.error"

    def __init__(self, detail: str, developer_note: str = "") -> None:
        self.detail = detail
        self.developer_note = developer_note
        message = f"{self.code}: {detail}"
        if developer_note:
            message = f"{message} ({developer_note})"
        super().__init__(message)


class KeyFormatError(CryptoError):
    """A key that cannot be decoded, or that decodes to a value outside the SM2 group."""

    code = "crypto.key_format"


class ParameterError(CryptoError):
    """An argument of the wrong length or kind (user id, SM4 key, ...)."""

    code = "crypto.parameter"


class BackendError(CryptoError):
    """The requested SM2 backend is unknown or its library is not installed."""

    code = "crypto.backend_unavailable"


class DecryptionError(CryptoError):
    """SM4 ciphertext that fails authentication: tampered, truncated, or the wrong key or context."""

    code = "crypto.decrypt_failed"
