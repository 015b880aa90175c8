"""`make run PORT=…` serves the embedded default through the production server on the port asked for."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make 不可用")
@pytest.mark.parametrize(("args", "address"), [([], "127.0.0.1:8000"), (["PORT=8010"], "127.0.0.1:8010")])
def test_make_run_serves_on_the_port_asked_for(args, address):
    # -n prints the recipe without running it; -o takes the install stamp as up to date.
    printed = subprocess.run(
        ["make", "-n", "--no-print-directory", "-o", ".venv/.installed", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    serve = [
        line for line in printed.splitlines() if "runserver" in line or "tongban node" in line or "gunicorn" in line
    ]
    host, port = address.split(":")
    assert serve and "--role all" in serve[-1] and f"--host {host} --port {port}" in serve[-1]
