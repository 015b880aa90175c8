"""SM2 signatures (GB/T 32918.2-2016): e = SM3(Z_A || M), signatures DER-encoded (r, s).

`sign` and `verify` take the message itself, never a digest: Z_A binds the signer's user id and
public key into e. The default user id is 1234567812345678 (GB/T 35276-2017), as OpenSSL and the
libraries here default to; both sides of an exchange must use the same one.
"""

from __future__ import annotations

import secrets

from tongban.crypto.backends import SM2Backend, get_backend
from tongban.crypto.curve import DEFAULT_USER_ID, N, check_user_id, compute_z
from tongban.crypto.errors import KeyFormatError
from tongban.crypto.hashing import sm3
from tongban.crypto.keys import SM2PrivateKey, SM2PublicKey
from tongban.crypto.signature import decode_signature, encode_signature

Bytes = bytes | bytearray | memoryview
BackendChoice = str | SM2Backend | None


def generate_keypair(*, backend: BackendChoice = None) -> SM2PrivateKey:
    """A fresh private key, d uniform in [1, n-2] from the operating system's CSPRNG."""
    key = SM2PrivateKey(secrets.randbelow(N - 2) + 1)
    key.public_key(backend)
    return key


def _require_private(key: object) -> SM2PrivateKey:
    if not isinstance(key, SM2PrivateKey):
        raise KeyFormatError("签名需要 SM2 私钥", f"expected SM2PrivateKey, got {type(key).__name__}")
    return key


def _require_public(key: object) -> SM2PublicKey:
    if not isinstance(key, SM2PublicKey):
        raise KeyFormatError("验签需要 SM2 公钥", f"expected SM2PublicKey, got {type(key).__name__}")
    return key


def sign(
    private_key: SM2PrivateKey,
    data: Bytes,
    user_id: bytes = DEFAULT_USER_ID,
    *,
    backend: BackendChoice = None,
) -> bytes:
    """The DER signature of `data` under `private_key` and `user_id`."""
    signer = _require_private(private_key).signer(get_backend(backend), check_user_id(user_id))
    r, s = signer.sign(bytes(data))
    return encode_signature(r, s)


def verify(
    public_key: SM2PublicKey,
    data: Bytes,
    signature: Bytes,
    user_id: bytes = DEFAULT_USER_ID,
    *,
    backend: BackendChoice = None,
) -> bool:
    """Whether `signature` is a valid DER SM2 signature of `data`.

    Returns False, never raises, for any signature bytes that do not verify (malformed DER included);
    raises `KeyFormatError` when `public_key` is not an SM2 public key and `ParameterError` for a bad user id.
    """
    verifier = _require_public(public_key).verifier(get_backend(backend), check_user_id(user_id))
    try:
        r, s = decode_signature(bytes(signature))
    except (ValueError, TypeError):
        return False
    return verifier.verify(bytes(data), r, s)


def message_digest(public_key: SM2PublicKey, data: Bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """e = SM3(Z_A || M), the value SM2 actually signs (exposed for test vectors and other tools)."""
    return sm3(compute_z(_require_public(public_key).point, user_id) + bytes(data))


def identity_digest(public_key: SM2PublicKey, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """Z_A for this public key and user id."""
    return compute_z(_require_public(public_key).point, user_id)
