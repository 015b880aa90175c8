"""The RabbitMQ transport: one durable quorum queue per node, publisher confirms, manual acks and a
dead-letter queue. Delivery is at least once; the receiver's inbox (unique by node and message id)
makes the effect exactly once.

Topology (declared idempotently by both sides):
  exchange `<ns>.exchange` (direct, durable) --routing key = node code--> queue `<ns>.node.<code>`
  queue arguments: x-queue-type=quorum, x-dead-letter-exchange=`<ns>.dead`, x-delivery-limit
  exchange `<ns>.dead` (fanout) --> queue `<ns>.dead` (quorum): messages that could not be taken
  (<ns> = TONGBAN_AMQP_NAMESPACE, default `tongban`)

The module imports no Django models at import time, so tools can declare the topology without a database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pika
from pika.adapters.blocking_connection import BlockingChannel

from tongban.exchange.envelope import Envelope, wire_bytes

log = logging.getLogger(__name__)

DELIVERY_LIMIT = 5
# One broker may carry several federations (a test run beside a demo): each has its own namespace.
DEFAULT_NAMESPACE = "tongban"


def exchange_name(namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.exchange"


def dead_name(namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.dead"


def queue_name(node: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.node.{node}"


def declare_topology(channel: BlockingChannel, node: str | None = None, namespace: str = DEFAULT_NAMESPACE) -> None:
    channel.exchange_declare(exchange_name(namespace), exchange_type="direct", durable=True)
    channel.exchange_declare(dead_name(namespace), exchange_type="fanout", durable=True)
    channel.queue_declare(dead_name(namespace), durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(dead_name(namespace), dead_name(namespace))
    if node:
        declare_node_queue(channel, node, namespace)


def declare_node_queue(channel: BlockingChannel, node: str, namespace: str = DEFAULT_NAMESPACE) -> None:
    channel.queue_declare(
        queue_name(node, namespace),
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": dead_name(namespace),
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )
    channel.queue_bind(queue_name(node, namespace), exchange_name(namespace), routing_key=node)


class RabbitTransport:
    """Publishes each envelope persistently and returns only once the broker has confirmed it."""

    def __init__(self, url: str, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.url = url
        self.namespace = namespace
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._declared: set[str] = set()

    def _open(self) -> BlockingChannel:
        if self._channel is None or self._channel.is_closed:
            self.close()
            self._connection = pika.BlockingConnection(pika.URLParameters(self.url))
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
            declare_topology(self._channel, namespace=self.namespace)
            self._declared = set()
        return self._channel

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection: nothing left to save
                log.debug("closing the AMQP connection failed", exc_info=True)
        self._connection = self._channel = None

    def deliver(self, envelope: Envelope) -> bool:
        try:
            channel = self._open()
            if envelope.to_node not in self._declared:
                declare_node_queue(channel, envelope.to_node, self.namespace)
                self._declared.add(envelope.to_node)
            channel.basic_publish(
                exchange_name(self.namespace),
                routing_key=envelope.to_node,
                body=wire_bytes(envelope),
                properties=pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=str(envelope.message_id),
                    content_type="application/json",
                    type=envelope.type,
                ),
                mandatory=True,
            )
        except Exception:
            self.close()  # the next attempt opens a fresh connection
            raise
        # The broker has the message; whether the receiver already had it, only its inbox knows.
        return True


def receive(body: bytes, node: str, apply: Callable[[int], str]) -> None:
    """Take one message into the node's inbox and apply it, in one transaction."""
    from django.db import transaction

    from tongban.exchange.models import InboxMessage
    from tongban.exchange.transport import accept_into_inbox

    envelope = Envelope.from_dict(json.loads(body))
    with transaction.atomic():
        if accept_into_inbox(envelope, receiver=node):
            inbox = InboxMessage.objects.get(node=node, message_id=envelope.message_id)
            apply(inbox.pk)


def _report_refusal(body: bytes, node: str, refusal: Exception) -> None:
    """Tell the claimed sender, in a message signed by this node, why its message was refused."""
    from django.db import transaction

    from tongban.audit.log import record as audit
    from tongban.exchange import outbox
    from tongban.exchange.exchanges import REFUSAL

    envelope = Envelope.from_dict(json.loads(body))
    log.warning("refused %s from %s: %s", envelope.message_id, envelope.from_node, refusal.code)
    with transaction.atomic():
        audit(
            "tongban.exchange.refused",
            node=node,
            object_type="message",
            object_id=str(envelope.message_id),
            data={"code": refusal.code, "from": envelope.from_node, "type": envelope.type},
        )
        if envelope.type != REFUSAL and envelope.from_node != node:
            outbox.send(
                REFUSAL,
                from_node=node,
                to_node=envelope.from_node,
                case_no=envelope.case_no,
                payload={"message_id": str(envelope.message_id), "code": refusal.code, "detail": refusal.detail},
            )


def consume(
    node: str,
    url: str,
    *,
    stop: Callable[[], bool] = lambda: False,
    idle_timeout: float = 1.0,
    on_idle: Callable[[], None] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> int:
    """Consume the node's queue until `stop()`; ack only after the inbox transaction committed."""
    from tongban.exchange.dispatcher import apply_one
    from tongban.exchange.trust import Refused

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    declare_topology(channel, node, namespace)
    channel.basic_qos(prefetch_count=100)
    taken = 0
    try:
        for method, _properties, body in channel.consume(queue_name(node, namespace), inactivity_timeout=idle_timeout):
            if method is None:
                if on_idle:
                    on_idle()
                if stop():
                    break
                continue
            try:
                receive(body, node, apply_one)
            except Refused as refusal:
                _report_refusal(body, node, refusal)
                channel.basic_nack(method.delivery_tag, requeue=False)
                continue
            except (ValueError, KeyError, TypeError) as exc:
                # Not a message this node can ever take: straight to the dead-letter queue.
                log.warning("dead-lettering a message for %s: %s", node, exc)
                channel.basic_nack(method.delivery_tag, requeue=False)
                continue
            except Exception:
                log.exception("taking a message for %s failed; it will be redelivered", node)
                channel.basic_nack(method.delivery_tag, requeue=True)
                continue
            channel.basic_ack(method.delivery_tag)
            taken += 1
            if stop():
                break
    finally:
        try:
            channel.cancel()
            connection.close()
        except Exception:  # the broker went away: the unacked messages return to the queue by themselves
            log.debug("closing the consumer failed", exc_info=True)
    return taken
