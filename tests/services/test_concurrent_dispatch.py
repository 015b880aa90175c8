"""Two dispatchers of one node, as separate processes on one PostgreSQL database, share the outbox:
every message is sent once and applied once."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from tongban import federation
from tongban.federation import POSTGRES, ROOT

pytestmark = pytest.mark.services
MESSAGES = 300

_FILL = f"""
from django.db import transaction
from tongban.exchange import outbox
for i in range({MESSAGES}):
    with transaction.atomic():
        message_id = "00000000-0000-4000-8000-{{:012d}}".format(i)
        outbox.send("exchange.refusal", from_node="330000", to_node="000000",
                    payload={{"message_id": message_id, "code": "unsigned", "detail": ""}})
"""
_DISPATCH = """
from tongban.exchange.dispatcher import run_until_idle
stats = run_until_idle(max_rounds=1000)
print(stats.sent, stats.duplicates)
"""


def test_two_dispatchers_never_send_or_apply_a_message_twice():
    (hub,) = federation.plan(("000000",), base_port=8400, prefix="tongban_concurrent")
    federation.prepare([hub])
    env = {**hub.env(), "TONGBAN_TRANSPORT": "inprocess", "TONGBAN_NODE": ""}
    run = [sys.executable, "-c", federation._DJANGO]
    subprocess.run([*run[:-1], run[-1] + _FILL], env=env, cwd=ROOT, check=True, capture_output=True)
    workers = [
        subprocess.Popen([*run[:-1], run[-1] + _DISPATCH], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    counts = [tuple(map(int, worker.communicate(timeout=300)[0].split()[-2:])) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(sent for sent, _ in counts) == MESSAGES  # each message sent by exactly one of them
    assert sum(duplicates for _, duplicates in counts) == 0
    with psycopg.connect(f"{POSTGRES}/{hub.database}") as connection:
        inbox = connection.execute(
            "SELECT status, count(*) FROM exchange_inboxmessage WHERE type = 'exchange.refusal' GROUP BY status"
        ).fetchall()
        outbox = connection.execute("SELECT status, count(*) FROM exchange_outboxmessage GROUP BY status").fetchall()
    assert dict(inbox) == {"applied": MESSAGES}
    assert dict(outbox) == {"sent": MESSAGES}
