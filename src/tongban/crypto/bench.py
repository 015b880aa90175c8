"""Micro-benchmark of the crypto package: `python -m tongban.crypto.bench [seconds]`.

`measure(seconds)` runs each measurement for about `seconds` (so the whole run takes roughly ten
times that) and returns operations per second for SM2 per backend, through this package and, for
gmalglib, through the library alone, and MB/s (10**6 bytes) for SM3, HMAC-SM3 and SM4-GCM on 1 MiB.
The test suite asserts only that numbers come back, never how large they are.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import cryptography
from cryptography.hazmat.backends.openssl import backend as openssl_backend

from tongban.crypto.backends import available_backends, get_backend
from tongban.crypto.cipher import generate_sm4_key, sm4_decrypt, sm4_encrypt
from tongban.crypto.hashing import hmac_sm3, sm3
from tongban.crypto.sm2 import generate_keypair, sign, verify

MESSAGE = b"x" * 256
BLOCK = b"\xa5" * (1 << 20)


def _rate(operation: Callable[[], object], seconds: float) -> float:
    """Calls per second of `operation`, run for at least `seconds` (and at least 3 calls)."""
    operation()  # warm caches
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds or count < 3:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
    return count / elapsed


def _sm2_rates(backend_name: str, seconds: float) -> dict[str, float]:
    backend = get_backend(backend_name)
    key = generate_keypair(backend=backend)
    public = key.public_key()
    signature = sign(key, MESSAGE, backend=backend)
    return {
        "sign_per_s": _rate(lambda: sign(key, MESSAGE, backend=backend), seconds),
        "verify_per_s": _rate(lambda: verify(public, MESSAGE, signature, backend=backend), seconds),
    }


def _gmalglib_library_rates(seconds: float) -> dict[str, float]:
    from gmalglib.sm2 import SM2

    signer = SM2()
    secret, point = signer.generate_keypair()
    signer = SM2(sk=secret)
    verifier = SM2(pk=point)
    raw = signer.sign(MESSAGE)
    return {
        "sign_per_s": _rate(lambda: signer.sign(MESSAGE), seconds),
        "verify_per_s": _rate(lambda: verifier.verify(MESSAGE, raw), seconds),
    }


def _megabytes_per_second(operation: Callable[[], object], seconds: float) -> float:
    return _rate(operation, seconds) * len(BLOCK) / 1e6


def measure(seconds: float = 1.0) -> dict[str, Any]:
    """Throughput figures on this machine; see the module docstring."""
    backends = available_backends()
    result: dict[str, Any] = {
        "seconds_per_measurement": seconds,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "openssl": openssl_backend.openssl_version_text(),
        "backends": {name: get_backend(name).version for name in backends},
        "sm2": {name: _sm2_rates(name, seconds) for name in backends},
    }
    if "gmalglib" in backends:
        result["sm2_gmalglib_library"] = _gmalglib_library_rates(seconds)
    key = generate_sm4_key()
    sealed = sm4_encrypt(key, BLOCK)
    result["sm3_mb_per_s"] = _megabytes_per_second(lambda: sm3(BLOCK), seconds)
    result["hmac_sm3_mb_per_s"] = _megabytes_per_second(lambda: hmac_sm3(key, BLOCK), seconds)
    result["sm4_gcm_encrypt_mb_per_s"] = _megabytes_per_second(lambda: sm4_encrypt(key, BLOCK), seconds)
    result["sm4_gcm_decrypt_mb_per_s"] = _megabytes_per_second(lambda: sm4_decrypt(key, sealed), seconds)
    return result


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    seconds = float(args[0]) if args else 1.0
    print(json.dumps(measure(seconds), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
