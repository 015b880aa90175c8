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


BATCH = 50  # messages taken into the inbox and applied in one transaction, then acknowledged
PREFETCH = 2 * BATCH


class Malformed(ValueError):
    """Not an envelope at all: no node can ever take it."""


def _parse(body: bytes) -> Envelope:
    try:
        return Envelope.from_dict(json.loads(body))
    except ValueError as exc:  # json's errors are ValueErrors too
        raise Malformed(str(exc)) from None


class Taken:
    """The inbox has the message (taken now, or already): acknowledge it."""

    def __repr__(self) -> str:
        return "TAKEN"


TAKEN = Taken()


def receive_many(bodies: list[bytes], node: str) -> list[Taken | Exception]:
    """Take a batch into the node's inbox and apply what is new, in one transaction; per message TAKEN
    (acknowledge: applied now, or already had), a Refused, or Malformed. Raises if the transaction failed."""
    from django.db import transaction

    from tongban.exchange.dispatcher import apply_batch
    from tongban.exchange.models import InboxMessage
    from tongban.exchange.transport import accept_many

    outcomes: list[Taken | Exception] = [TAKEN] * len(bodies)
    parsed: list[tuple[int, Envelope]] = []
    for index, body in enumerate(bodies):
        try:
            parsed.append((index, _parse(body)))
        except Malformed as exc:
            outcomes[index] = exc
    with transaction.atomic():
        accepted = accept_many([envelope for _index, envelope in parsed], receiver=node)
        new = [envelope.message_id for (_index, envelope), first in zip(parsed, accepted, strict=True) if first is True]
        if new:
            pks = InboxMessage.objects.filter(node=node, message_id__in=new).order_by("id").values_list("pk", flat=True)
            apply_batch(list(pks))
    for (index, _envelope), verdict in zip(parsed, accepted, strict=True):
        if isinstance(verdict, Exception):
            outcomes[index] = verdict
    return outcomes


def _report_refusal(body: bytes, node: str, refusal: Exception) -> None:
    """Tell the claimed sender, in a message signed by this node, why its message was refused."""
    from django.db import transaction

    from tongban.audit.log import record as audit
    from tongban.exchange import outbox
    from tongban.exchange.exchanges import REFUSAL
    from tongban.serve.metrics import REFUSALS

    envelope = Envelope.from_dict(json.loads(body))
    log.warning("refused %s from %s: %s", envelope.message_id, envelope.from_node, refusal.code)
    REFUSALS.labels(refusal.code, "message").inc()
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
    """Consume the node's queue until `stop()`, a batch at a time: whatever the broker has already
    handed over, up to BATCH, goes into the inbox in one transaction; acks only after the commit."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    declare_topology(channel, node, namespace)
    channel.basic_qos(prefetch_count=PREFETCH)
    taken = 0
    try:
        deliveries = channel.consume(queue_name(node, namespace), inactivity_timeout=idle_timeout)
        for method, _properties, body in deliveries:
            if method is None:
                if on_idle:
                    on_idle()
                if stop():
                    break
                continue
            batch = [(method.delivery_tag, body)]
            connection.process_data_events(time_limit=0)  # pull in what the socket already holds
            while len(batch) < BATCH and channel.get_waiting_message_count() > 0:
                more, _properties, more_body = next(deliveries)
                batch.append((more.delivery_tag, more_body))
            taken += _take(channel, node, batch)
            if stop():
                break
    finally:
        try:
            channel.cancel()
            connection.close()
        except Exception:  # the broker went away: the unacked messages return to the queue by themselves
            log.debug("closing the consumer failed", exc_info=True)
    return taken


def _take(channel: BlockingChannel, node: str, batch: list[tuple[int, bytes]]) -> int:
    """Settle a batch with the broker: ack what the inbox took, dead-letter what no node can take."""
    try:
        outcomes = receive_many([body for _tag, body in batch], node)
    except Exception:
        if len(batch) == 1:
            log.exception("taking a message for %s failed; it will be redelivered", node)
            channel.basic_nack(batch[0][0], requeue=True)
            return 0
        # One message's trouble must not hold back the rest: take them one by one.
        log.warning("taking a batch of %d for %s failed; taking them one by one", len(batch), node, exc_info=True)
        return sum(_take(channel, node, [delivery]) for delivery in batch)
    from tongban.exchange.trust import Refused

    taken = 0
    for (tag, body), outcome in zip(batch, outcomes, strict=True):
        if outcome is TAKEN:
            channel.basic_ack(tag)
            taken += 1
            continue
        if isinstance(outcome, Refused):
            try:
                _report_refusal(body, node, outcome)
            except Exception:  # the report could not be written: the message comes back and is refused again
                log.exception("reporting a refusal for %s failed; the message returns to the queue", node)
                channel.basic_nack(tag, requeue=True)
                continue
        else:
            log.warning("dead-lettering a message for %s: %s", node, outcome)
        channel.basic_nack(tag, requeue=False)
    return taken
