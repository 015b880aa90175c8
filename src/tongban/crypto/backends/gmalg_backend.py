"""SM2 on gmalg (pure Python; nonces from `secrets.randbits`). Slow, but needs no compiler.

A `gmalg.SM2` object reuses one SM3 hasher inside, so it is not safe to share between threads: every
call makes a fresh one, passing the public point so that d·G is not recomputed.
"""

from __future__ import annotations

from collections.abc import Callable

import gmalg


class _Signer:
    __slots__ = ("_point", "_random_bits", "_scalar", "_user_id")

    def __init__(self, scalar: bytes, point: bytes, user_id: bytes, random_bits: Callable[[int], int] | None) -> None:
        self._scalar = scalar
        self._point = point
        self._user_id = user_id
        self._random_bits = random_bits

    def sign(self, message: bytes) -> tuple[int, int]:
        sm2 = gmalg.SM2(sk=self._scalar, uid=self._user_id, pk=self._point, rnd_fn=self._random_bits)
        r, s = sm2.sign(message)
        return int.from_bytes(r, "big"), int.from_bytes(s, "big")


class _Verifier:
    __slots__ = ("_point", "_user_id")

    def __init__(self, point: bytes, user_id: bytes) -> None:
        self._point = point
        self._user_id = user_id

    def verify(self, message: bytes, r: int, s: int) -> bool:
        sm2 = gmalg.SM2(uid=self._user_id, pk=self._point)
        return bool(sm2.verify(message, r.to_bytes(32, "big"), s.to_bytes(32, "big")))


class Backend:
    name = "gmalg"
    version = gmalg.__version__

    def __init__(self, random_bits: Callable[[int], int] | None = None) -> None:
        self._random_bits = random_bits

    @classmethod
    def with_fixed_nonce(cls, k: int) -> Backend:
        """Signs with the given k: for reproducing published test vectors only, never for real keys."""
        return cls(lambda bits: k)

    def public_point(self, scalar: bytes) -> bytes:
        return gmalg.SM2().generate_pk(scalar)

    def signer(self, scalar: bytes, point: bytes, user_id: bytes) -> _Signer:
        return _Signer(scalar, point, user_id, self._random_bits)

    def verifier(self, point: bytes, user_id: bytes) -> _Verifier:
        return _Verifier(point, user_id)
