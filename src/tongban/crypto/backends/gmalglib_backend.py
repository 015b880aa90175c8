"""SM2 on gmalglib (C extension; nonces from the operating system's random source, /dev/urandom).

A `gmalglib.sm2.SM2` object computes d·G and Z_A once when it is made, so signers and verifiers keep
one per key and user id. Its methods run entirely under the GIL, so sharing one between threads is safe.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import gmalglib
from gmalglib.sm2 import SM2

from tongban.crypto.signature import from_raw, to_raw


class _Signer:
    __slots__ = ("_sm2",)

    def __init__(self, sm2: SM2) -> None:
        self._sm2 = sm2

    def sign(self, message: bytes) -> tuple[int, int]:
        return from_raw(self._sm2.sign(message))


class _Verifier:
    __slots__ = ("_sm2",)

    def __init__(self, sm2: SM2) -> None:
        self._sm2 = sm2

    def verify(self, message: bytes, r: int, s: int) -> bool:
        return bool(self._sm2.verify(message, to_raw(r, s)))


class Backend:
    name = "gmalglib"
    version = gmalglib.__version__

    def __init__(self, random_bytes: Callable[[int], bytes] | None = None) -> None:
        self._random_bytes = random_bytes

    @classmethod
    def with_fixed_nonce(cls, k: int) -> Backend:
        """Signs with the given k: for reproducing published test vectors only, never for real keys."""
        if sys.byteorder != "little":
            raise RuntimeError("gmalglib reads its random bytes in host order; fixed k needs a little-endian host")
        return cls(lambda length: k.to_bytes(length, "little"))

    def public_point(self, scalar: bytes) -> bytes:
        return SM2.get_pk(scalar)

    def signer(self, scalar: bytes, point: bytes, user_id: bytes) -> _Signer:
        if self._random_bytes is None:
            return _Signer(SM2(sk=scalar, uid=user_id))
        return _Signer(SM2(sk=scalar, uid=user_id, rnd_fn=self._random_bytes))

    def verifier(self, point: bytes, user_id: bytes) -> _Verifier:
        return _Verifier(SM2(pk=point, uid=user_id))
