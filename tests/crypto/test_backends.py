"""Backend selection: automatic (gmalglib first), by TONGBAN_SM2_BACKEND, and the fallback to gmalg."""

from __future__ import annotations

import sys

import pytest

from tongban.crypto import BackendError, backends, default_backend_name, generate_keypair, get_backend, sign, verify


def _hide(monkeypatch: pytest.MonkeyPatch, library: str) -> None:
    monkeypatch.setitem(sys.modules, library, None)
    monkeypatch.setitem(sys.modules, f"tongban.crypto.backends.{library}_backend", None)
    backends.clear_cache()


def test_gmalglib_is_the_default() -> None:
    assert default_backend_name() == "gmalglib"
    assert get_backend().name == "gmalglib"


@pytest.mark.parametrize(("value", "expected"), [("gmalg", "gmalg"), ("GMALGLIB", "gmalglib"), ("auto", "gmalglib")])
def test_environment_variable_selects(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    monkeypatch.setenv(backends.ENV_VAR, value)
    assert get_backend().name == expected
    key = generate_keypair()
    assert verify(key.public_key(), b"data", sign(key, b"data"))


def test_unknown_backend_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.ENV_VAR, "gmssl")
    with pytest.raises(BackendError, match="未知的 SM2 实现") as caught:
        sign(generate_keypair(backend="gmalg"), b"data")
    assert caught.value.code == "crypto.backend_unavailable"
    with pytest.raises(BackendError):
        get_backend("openssl")


def test_falls_back_to_gmalg_without_gmalglib(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "gmalglib")
    assert backends.available_backends() == ("gmalg",)
    assert get_backend().name == "gmalg"
    key = generate_keypair()
    assert verify(key.public_key(), b"data", sign(key, b"data"))


def test_an_explicitly_chosen_missing_backend_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "gmalglib")
    monkeypatch.setenv(backends.ENV_VAR, "gmalglib")
    with pytest.raises(BackendError, match="未安装"):
        get_backend()


def test_no_backend_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "gmalglib")
    _hide(monkeypatch, "gmalg")
    with pytest.raises(BackendError, match="没有可用的 SM2 实现"):
        get_backend()


def test_a_backend_instance_is_used_as_given() -> None:
    instance = type(get_backend("gmalg"))()
    assert get_backend(instance) is instance
