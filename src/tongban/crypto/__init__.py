"""National cryptography behind one interface: SM2 signatures, SM3 digests and HMAC, SM4 encryption.

SM3 and SM4 come from `cryptography`; SM2 from a pluggable backend (gmalglib, a C extension, by
default; gmalg, pure Python, as the fallback), chosen by `TONGBAN_SM2_BACKEND` or automatically.
See docs/crypto.md.
"""

from __future__ import annotations

from tongban.crypto.backends import ENV_VAR, SM2Backend, available_backends, default_backend_name, get_backend
from tongban.crypto.cipher import generate_sm4_key, sm4_decrypt, sm4_encrypt
from tongban.crypto.curve import DEFAULT_USER_ID
from tongban.crypto.errors import BackendError, CryptoError, DecryptionError, KeyFormatError, ParameterError
from tongban.crypto.hashing import hmac_sm3, hmac_sm3_verify, sm3, sm3_hex
from tongban.crypto.keys import (
    SM2_OID,
    SM2PrivateKey,
    SM2PublicKey,
    dump_private_key_der,
    dump_private_key_hex,
    dump_private_key_pem,
    dump_public_key_der,
    dump_public_key_hex,
    dump_public_key_pem,
    load_private_key_der,
    load_private_key_hex,
    load_private_key_pem,
    load_public_key_der,
    load_public_key_hex,
    load_public_key_pem,
)
from tongban.crypto.sm2 import generate_keypair, identity_digest, message_digest, sign, verify

__all__ = [
    "DEFAULT_USER_ID",
    "ENV_VAR",
    "SM2_OID",
    "BackendError",
    "CryptoError",
    "DecryptionError",
    "KeyFormatError",
    "ParameterError",
    "SM2Backend",
    "SM2PrivateKey",
    "SM2PublicKey",
    "available_backends",
    "default_backend_name",
    "dump_private_key_der",
    "dump_private_key_hex",
    "dump_private_key_pem",
    "dump_public_key_der",
    "dump_public_key_hex",
    "dump_public_key_pem",
    "generate_keypair",
    "generate_sm4_key",
    "get_backend",
    "hmac_sm3",
    "hmac_sm3_verify",
    "identity_digest",
    "load_private_key_der",
    "load_private_key_hex",
    "load_private_key_pem",
    "load_public_key_der",
    "load_public_key_hex",
    "load_public_key_pem",
    "message_digest",
    "sign",
    "sm3",
    "sm3_hex",
    "sm4_decrypt",
    "sm4_encrypt",
    "verify",
]
