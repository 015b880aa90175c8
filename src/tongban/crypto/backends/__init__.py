"""Pluggable SM2 backends behind one small protocol.

A backend turns raw values into signatures and verdicts: a 32-byte private scalar, a 65-byte public
point 04||x||y, a user id, and (r, s) as integers. Encodings, validation and DER live outside it, so
every backend sees the same, already checked, inputs.

Selection: `TONGBAN_SM2_BACKEND` = `gmalglib` | `gmalg` | `auto` (or unset): auto takes gmalglib (C)
when it imports and falls back to gmalg (pure Python). A backend named explicitly must be available.
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Protocol

from tongban.crypto.errors import BackendError

ENV_VAR = "TONGBAN_SM2_BACKEND"
PREFERENCE = ("gmalglib", "gmalg")
_MODULES = {
    "gmalglib": "tongban.crypto.backends.gmalglib_backend",
    "gmalg": "tongban.crypto.backends.gmalg_backend",
}


class Signer(Protocol):
    def sign(self, message: bytes) -> tuple[int, int]: ...


class Verifier(Protocol):
    def verify(self, message: bytes, r: int, s: int) -> bool: ...


class SM2Backend(Protocol):
    name: str
    version: str

    def public_point(self, scalar: bytes) -> bytes:
        """04||x||y of d·G for a valid 32-byte scalar d."""
        ...

    def signer(self, scalar: bytes, point: bytes, user_id: bytes) -> Signer:
        """A signer for one key and user id; it may be cached and shared between threads."""
        ...

    def verifier(self, point: bytes, user_id: bytes) -> Verifier:
        """A verifier for one public key and user id; it may be cached and shared between threads."""
        ...


@functools.cache
def _load(name: str) -> SM2Backend:
    if name not in _MODULES:
        raise BackendError(f"未知的 SM2 实现：{name}", f"known backends: {', '.join(PREFERENCE)}")
    try:
        module = importlib.import_module(_MODULES[name])
    except ImportError as error:
        raise BackendError(f"SM2 实现 {name} 未安装", str(error)) from error
    return module.Backend()


def available_backends() -> tuple[str, ...]:
    """The backends whose libraries import here, in order of preference."""
    names = []
    for name in PREFERENCE:
        try:
            _load(name)
        except BackendError:
            continue
        names.append(name)
    return tuple(names)


def default_backend_name() -> str:
    """The backend `TONGBAN_SM2_BACKEND` names, or the first available one."""
    configured = os.environ.get(ENV_VAR, "").strip().lower()
    if configured and configured != "auto":
        _load(configured)
        return configured
    available = available_backends()
    if not available:
        raise BackendError("没有可用的 SM2 实现，请安装 gmalglib 或 gmalg", "neither gmalglib nor gmalg imports")
    return available[0]


def get_backend(backend: str | SM2Backend | None = None) -> SM2Backend:
    """A backend by name, the given instance itself, or the configured default."""
    if backend is None:
        return _load(default_backend_name())
    if isinstance(backend, str):
        return _load(backend.strip().lower())
    return backend


def clear_cache() -> None:
    """Forget loaded backends (tests that hide a library use this)."""
    _load.cache_clear()
