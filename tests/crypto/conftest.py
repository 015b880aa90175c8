"""Fixtures for the crypto tests: each available SM2 backend, and the openssl command line when it has SM2."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongban.crypto import backends

BACKENDS = backends.available_backends()


def _openssl_skip_reason() -> str | None:
    binary = shutil.which("openssl")
    if binary is None:
        return "openssl 命令行不可用"
    probe = subprocess.run([binary, "genpkey", "-algorithm", "SM2"], capture_output=True, check=False)
    if probe.returncode != 0 or b"PRIVATE KEY" not in probe.stdout:
        return "此 openssl 不支持 SM2（需要 OpenSSL 3）"
    return None


OPENSSL_SKIP_REASON = _openssl_skip_reason()


class OpenSSL:
    """The `openssl` command line, run in a temporary directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["openssl", *args], cwd=self.workdir, input=stdin, capture_output=True, check=False)

    def ok(self, *args: str, stdin: bytes | None = None) -> bytes:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout

    def write(self, name: str, data: str | bytes) -> str:
        path = self.workdir / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return name

    def read(self, name: str) -> bytes:
        return (self.workdir / name).read_bytes()


@pytest.fixture
def openssl(tmp_path: Path) -> OpenSSL:
    if OPENSSL_SKIP_REASON:
        pytest.skip(OPENSSL_SKIP_REASON)
    return OpenSSL(tmp_path)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _backend_selection_isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sees the automatic choice unless it sets the variable, and no hidden library leaks out."""
    monkeypatch.delenv(backends.ENV_VAR, raising=False)
    yield
    backends.clear_cache()
