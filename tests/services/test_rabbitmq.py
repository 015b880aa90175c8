"""The RabbitMQ transport against a real broker: confirmed publishing, exactly-once application,
duplicates ignored, undeliverable messages dead-lettered."""

from __future__ import annotations

import json
import uuid

import pika
import pytest
from django.db import transaction

from tongban import clock
from tongban.exchange import dispatcher, outbox
from tongban.exchange.envelope import Envelope
from tongban.exchange.handlers import handles
from tongban.exchange.models import InboxMessage, OutboxMessage
from tongban.exchange.rabbitmq import RabbitTransport, consume, dead_name, declare_topology, exchange_name, queue_name
from tongban.exchange.trust import sign_envelope

from conftest import AMQP_URL

NODE = "990001"
taken: list[str] = []


@handles("test.rabbit")
def _take(envelope: Envelope) -> None:
    taken.append(envelope.payload["text"])


@pytest.fixture
def broker():
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    declare_topology(channel, NODE)
    channel.queue_purge(queue_name(NODE))
    channel.queue_purge(dead_name())
    taken.clear()
    transport = RabbitTransport(AMQP_URL)
    previous = dispatcher.set_transport(transport)
    yield channel
    dispatcher.set_transport(previous)
    transport.close()
    channel.queue_purge(queue_name(NODE))
    connection.close()


def _drain() -> int:
    rounds = {"idle": 0}

    def stop() -> bool:
        return rounds["idle"] >= 1

    def on_idle() -> None:
        rounds["idle"] += 1

    return consume(NODE, AMQP_URL, stop=stop, on_idle=on_idle, idle_timeout=0.5)


@pytest.mark.services
@pytest.mark.django_db
def test_published_with_confirms_and_applied_exactly_once(broker, fixed_clock):
    with transaction.atomic():
        for text in ("一", "二", "三"):
            outbox.send("test.rabbit", from_node="330000", to_node=NODE, payload={"text": text})
    assert dispatcher.deliver_pending().sent == 3
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).count() == 3
    assert _drain() == 3
    assert taken == ["一", "二", "三"]
    assert InboxMessage.objects.filter(node=NODE, status=InboxMessage.Status.APPLIED).count() == 3


@pytest.mark.services
@pytest.mark.django_db
def test_the_same_message_delivered_twice_is_applied_once(broker, fixed_clock):
    envelope = sign_envelope(
        Envelope(type="test.rabbit", from_node="330000", to_node=NODE, payload={"text": "重"}, created_at=clock.now())
    )
    transport = RabbitTransport(AMQP_URL)
    transport.deliver(envelope)
    transport.deliver(envelope)  # a retry after a lost confirm
    transport.close()
    assert _drain() == 2  # both taken off the queue …
    assert taken == ["重"]  # … and applied once
    assert InboxMessage.objects.filter(node=NODE).count() == 1


@pytest.mark.services
@pytest.mark.django_db
def test_a_message_no_node_can_take_is_dead_lettered(broker, fixed_clock):
    broker.basic_publish(exchange_name(), routing_key=NODE, body=b"{not json")
    wrong = Envelope(
        type="test.rabbit", from_node="330000", to_node="990002", payload={"text": "错"}, created_at=clock.now()
    )
    broker.basic_publish(exchange_name(), routing_key=NODE, body=json.dumps(wrong.to_dict()).encode())
    _drain()
    assert taken == []
    dead = [broker.basic_get(dead_name(), auto_ack=True) for _ in range(2)]
    assert all(method is not None for method, _props, _body in dead)


@pytest.mark.services
@pytest.mark.django_db
def test_broker_down_keeps_messages_in_the_outbox(fixed_clock):
    previous = dispatcher.set_transport(RabbitTransport("amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1"))
    try:
        with transaction.atomic():
            outbox.send("test.rabbit", from_node="330000", to_node=NODE, payload={"text": uuid.uuid4().hex})
        assert dispatcher.deliver_pending().failed == 1
    finally:
        dispatcher.set_transport(previous)
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.FAILED and message.last_error
