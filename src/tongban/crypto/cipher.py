"""SM4 (GB/T 32907-2016) in GCM mode for data at rest, from `cryptography`.

A sealed value is `version (1 byte) || nonce (12) || ciphertext || tag (16)`. The version byte and the
caller's associated data are authenticated with the ciphertext, so a value moved to another record
(another associated data), cut short, or changed in any bit fails to open with `DecryptionError`.

Nonces are random (96 bits): keep one key under 2**32 encryptions and rotate it before then.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tongban.crypto.errors import DecryptionError, ParameterError

KEY_SIZE = 16
NONCE_SIZE = 12
TAG_SIZE = 16
VERSION = b"\x01"
OVERHEAD = len(VERSION) + NONCE_SIZE + TAG_SIZE

Bytes = bytes | bytearray | memoryview


def generate_sm4_key() -> bytes:
    """A fresh random 128-bit SM4 key."""
    return os.urandom(KEY_SIZE)


def _check_key(key: Bytes) -> bytes:
    key = bytes(key)
    if len(key) != KEY_SIZE:
        raise ParameterError("SM4 密钥长度必须为 16 字节", f"SM4 key must be {KEY_SIZE} bytes, got {len(key)}")
    return key


def gcm_seal(key: bytes, nonce: bytes, plaintext: Bytes, associated_data: Bytes) -> tuple[bytes, bytes]:
    """Raw SM4-GCM: (ciphertext, tag). No framing; `sm4_encrypt` is the function to use."""
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(bytes(associated_data))
    ciphertext = encryptor.update(bytes(plaintext)) + encryptor.finalize()
    return ciphertext, encryptor.tag


def gcm_open(key: bytes, nonce: bytes, ciphertext: Bytes, tag: bytes, associated_data: Bytes) -> bytes:
    """Raw SM4-GCM decryption; raises `cryptography.exceptions.InvalidTag` on any mismatch."""
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(bytes(associated_data))
    return decryptor.update(bytes(ciphertext)) + decryptor.finalize()


def sm4_encrypt(key: Bytes, plaintext: Bytes, associated_data: Bytes = b"") -> bytes:
    """Encrypt and authenticate `plaintext`; `associated_data` (e.g. the record's id) is bound, not stored."""
    key = _check_key(key)
    nonce = os.urandom(NONCE_SIZE)
    ciphertext, tag = gcm_seal(key, nonce, plaintext, VERSION + bytes(associated_data))
    return VERSION + nonce + ciphertext + tag


def sm4_decrypt(key: Bytes, sealed: Bytes, associated_data: Bytes = b"") -> bytes:
    """The plaintext of a value made by `sm4_encrypt` with the same key and associated data."""
    key = _check_key(key)
    sealed = bytes(sealed)
    if len(sealed) < OVERHEAD:
        raise DecryptionError("密文不完整，无法解密", "sealed value shorter than its framing")
    if sealed[:1] != VERSION:
        raise DecryptionError("密文格式版本不受支持", f"unknown format version {sealed[0]}")
    nonce = sealed[1 : 1 + NONCE_SIZE]
    ciphertext = sealed[1 + NONCE_SIZE : -TAG_SIZE]
    tag = sealed[-TAG_SIZE:]
    try:
        return gcm_open(key, nonce, ciphertext, tag, VERSION + bytes(associated_data))
    except InvalidTag:
        raise DecryptionError(
            "密文校验失败：数据被篡改，或密钥、关联数据不符", "SM4-GCM authentication tag mismatch"
        ) from None
