"""The same platform on PostgreSQL: DATABASE_URL selects it. The whole suite (but for these service
tests themselves) runs again against a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.services
def test_the_whole_suite_on_postgresql(tmp_path):
    env = {
        **os.environ,
        # A database name of this run's own, so parallel runs on one server never share a test database.
        "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + f"/tongban_{uuid.uuid4().hex[:8]}",
        "TONGBAN_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--create-db",
            "tests",
            "--ignore=tests/services",
            "-p",
            "no:warnings",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
