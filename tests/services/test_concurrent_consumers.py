"""Two RabbitMQ consumers of one node, as separate processes on one PostgreSQL database, take the same
queue while every message sits in it twice (a sender's retry after a lost confirm): every copy is
acknowledged, every message recorded once and its handler run once."""

from __future__ import annotations

import subprocess
import sys

import pika
import psycopg
import pytest

from tongban import federation
from tongban.federation import AMQP, POSTGRES, ROOT

pytestmark = pytest.mark.services
MESSAGES = 300
NAMESPACE = "tongban-consumers-test"

# The handler leaves one audit row per run, so a second application would show as a second row.
_HANDLER = """
from tongban.audit.log import record
from tongban.exchange.handlers import handles

@handles("test.counted")
def counted(envelope):
    record("tongban.test.counted", node=envelope.to_node, object_type="message", object_id=str(envelope.message_id))
"""
_PUBLISH = f"""
import pika
from tongban import clock
from tongban.exchange.envelope import Envelope
from tongban.exchange.rabbitmq import RabbitTransport, declare_topology
from tongban.exchange.trust import sign_envelope, signing_key

signing_key("330000")  # made on first use: before the first message it signs
connection = pika.BlockingConnection(pika.URLParameters("{AMQP}"))
declare_topology(connection.channel(), "000000", "{NAMESPACE}")
connection.close()
transport = RabbitTransport("{AMQP}", "{NAMESPACE}")
envelopes = [sign_envelope(Envelope(type="test.counted", from_node="330000", to_node="000000",
                                    payload={{"i": i}}, created_at=clock.now())) for i in range({MESSAGES})]
# Every message, then every message again in the opposite order: the two copies of most messages sit
# far apart in the queue and reach different consumers, some of them at the same moment.
for envelope in envelopes + envelopes[::-1]:
    transport.deliver(envelope)
transport.close()
"""
_CONSUME = f"""
from tongban.exchange.rabbitmq import consume
print("ready", flush=True)
sys.stdin.readline()  # both consumers start together, whichever finished starting up first
idle = []
print(consume("000000", "{AMQP}", namespace="{NAMESPACE}", idle_timeout=1.0,
              on_idle=lambda: idle.append(1), stop=lambda: len(idle) >= 3))
"""


def _purge() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    channel = connection.channel()
    for queue in (f"{NAMESPACE}.node.000000", f"{NAMESPACE}.dead"):
        channel.queue_delete(queue)
    connection.close()


def test_two_consumers_never_record_or_apply_a_message_twice():
    (hub,) = federation.plan(("000000",), base_port=8450, prefix="tongban_consumers")
    federation.prepare([hub])
    _purge()
    # The embedded default's trust: the sender's key is made and listed in this same database.
    env = {**hub.env(), "TONGBAN_NODE": ""}
    python = [sys.executable, "-c"]
    subprocess.run([*python, federation._DJANGO + _PUBLISH], env=env, cwd=ROOT, check=True, capture_output=True)
    consumers = [
        subprocess.Popen(
            [*python, federation._DJANGO + _HANDLER + _CONSUME],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for consumer in consumers:
        assert consumer.stdout is not None and consumer.stdout.readline().strip() == "ready"
    for consumer in consumers:  # both go at once
        assert consumer.stdin is not None
        consumer.stdin.write("go\n")
        consumer.stdin.flush()
    taken = [int(consumer.communicate(timeout=300)[0].split()[-1]) for consumer in consumers]
    _purge()
    assert all(consumer.returncode == 0 for consumer in consumers)
    assert sum(taken) == 2 * MESSAGES  # every copy acknowledged …
    assert all(count > 0 for count in taken)  # … by both consumers, working side by side
    with psycopg.connect(f"{POSTGRES}/{hub.database}") as connection:
        inbox = connection.execute(
            "SELECT status, count(*) FROM exchange_inboxmessage WHERE type = 'test.counted' GROUP BY status"
        ).fetchall()
        runs = connection.execute(
            "SELECT count(*), count(DISTINCT object_id) FROM audit_auditentry WHERE code = 'tongban.test.counted'"
        ).fetchone()
    assert dict(inbox) == {"applied": MESSAGES}  # … each message recorded once
    assert runs == (MESSAGES, MESSAGES)  # … and applied once
