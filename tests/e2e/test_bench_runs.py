"""`make bench` keeps working: a tiny run prints every table, whatever the figures are."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_benchmark_prints_its_tables(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["TONGBAN_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "tongban.bench", "--cases", "1", "--messages", "20", "--rounds", "1", "--licences", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for line in (
        "online ",
        "proxy ",
        "multi_place ",
        "raw gmalglib sign+verify",
        "tongban in-process (SQLite WAL)",
        "approvals issuing a licence",
        "tongban verify (signature + state)",
        "tongban verify-qr (parse + key + sig)",
    ):
        assert line in done.stdout
    # Over RabbitMQ where a broker answers; otherwise the run says why it skipped that part.
    assert "tongban over RabbitMQ" in done.stdout or "RabbitMQ 不可用" in done.stdout
