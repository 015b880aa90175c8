"""Every exchange ends: a message that expects an answer is tracked by its sender (pending → sent →
answered | failed | timed_out). The receiver answers with `exchange.answer` once it has applied the
message (or refused it, with a code from the closed list); the sweep turns an overdue exchange into
a timeout the sender's case shows, and an operator or the case's handler can retry it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from tongban import clock
from tongban.audit.log import record as audit
from tongban.errors import Conflict
from tongban.exchange.envelope import Envelope
from tongban.exchange.handlers import handles
from tongban.exchange.models import Exchange, OutboxMessage

ANSWER = "exchange.answer"


def timeout_for(message_type: str) -> dt.timedelta | None:
    """How long the sender waits for an answer to this type of message; None: no answer expected."""
    seconds = settings.TONGBAN_EXCHANGE_TIMEOUTS.get(message_type)
    return dt.timedelta(seconds=seconds) if seconds else None


@dataclass(frozen=True)
class Rejected:
    """A handler's refusal: answered to the sender instead of `applied`."""

    code: str
    detail: str


FORWARDED = object()  # a handler passed the message on; the node it went to answers

_ENDED: dict[str, list[Callable[[Exchange], None]]] = {}


def when_ended(message_type: str) -> Callable[[Callable[[Exchange], None]], Callable[[Exchange], None]]:
    """Register what the sender does when an exchange of this type fails or times out (in the same
    transaction): e.g. a licence use that waited for the issuing node ends with the reason."""

    def register(fn: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
        _ENDED.setdefault(message_type, []).append(fn)
        return fn

    return register


def _ended(exchange: Exchange) -> None:
    for fn in _ENDED.get(exchange.type, []):
        fn(exchange)


def track(message: OutboxMessage) -> None:
    """Called by the outbox when a message is written: open its exchange if it expects an answer."""
    timeout = timeout_for(message.type)
    if timeout is None or message.correlation_id != message.message_id:
        return  # no answer expected, or a message passed on within an exchange that is tracked already
    Exchange.objects.create(
        message_id=message.message_id,
        type=message.type,
        from_node=message.from_node,
        to_node=message.to_node,
        case_no=message.case_no,
        created_at=message.created_at,
        deadline=message.created_at + timeout,
    )


def mark_sent(*messages: OutboxMessage) -> None:
    # Only types that expect an answer opened an exchange.
    tracked = [message.message_id for message in messages if timeout_for(message.type) is not None]
    if tracked:
        Exchange.objects.filter(message_id__in=tracked, state=Exchange.State.PENDING).update(state=Exchange.State.SENT)


def answer(envelope: Envelope, result: Any) -> None:
    """After applying a message that expects an answer, tell the node that opened the exchange."""
    from tongban.exchange import outbox

    if result is FORWARDED or timeout_for(envelope.type) is None:
        return
    rejected = result if isinstance(result, Rejected) else None
    outbox.send(
        ANSWER,
        from_node=envelope.to_node,
        to_node=envelope.payload.get("origin", envelope.from_node),
        case_no=envelope.case_no,
        correlation_id=envelope.correlation_id,
        payload={
            "exchange": str(envelope.correlation_id),
            "type": envelope.type,
            "outcome": "rejected" if rejected else "applied",
            "code": rejected.code if rejected else "",
            "detail": rejected.detail if rejected else "",
            "action": envelope.payload.get("action", ""),
        },
    )


@handles(ANSWER)
def on_answer(envelope: Envelope) -> None:
    payload = envelope.payload
    exchange = Exchange.objects.select_for_update().filter(message_id=uuid.UUID(payload["exchange"])).first()
    if exchange is None or exchange.state in (Exchange.State.ANSWERED, Exchange.State.FAILED):
        return
    # An answer that comes after the timeout still ends the exchange: the late truth wins.
    exchange.state = Exchange.State.FAILED if payload["outcome"] == "rejected" else Exchange.State.ANSWERED
    exchange.error_code, exchange.error_detail = payload.get("code", ""), payload.get("detail", "")[:255]
    exchange.ended_at = clock.now()
    exchange.save(update_fields=["state", "error_code", "error_detail", "ended_at"])
    if exchange.state == Exchange.State.FAILED:
        _ended(exchange)
        audit(
            "tongban.case.request_rejected" if exchange.type == "case.request" else "tongban.exchange.failed",
            node=envelope.to_node,
            object_type="case",
            object_id=envelope.case_no,
            data={
                "action": payload.get("action", ""),
                "code": exchange.error_code,
                "detail": exchange.error_detail,
                "by": envelope.from_node,
            },
        )


def refused(message: OutboxMessage, code: str, detail: str) -> None:
    """The receiver refused the message (bad signature, unknown key …): it is dead, its exchange failed."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.DEAD, last_error=f"{code}: {detail}"[:255], attempts=message.attempts
    )
    for exchange in Exchange.objects.filter(message_id=message.message_id).exclude(
        state__in=[Exchange.State.ANSWERED, Exchange.State.FAILED]
    ):
        exchange.state, exchange.error_code, exchange.error_detail = Exchange.State.FAILED, code, detail[:255]
        exchange.ended_at = clock.now()
        exchange.save(update_fields=["state", "error_code", "error_detail", "ended_at"])
        _ended(exchange)
    audit(
        "tongban.exchange.refused",
        node=message.from_node,
        object_type="message",
        object_id=str(message.message_id),
        data={"code": code, "to": message.to_node, "type": message.type, "case_no": message.case_no},
    )


REFUSAL = "exchange.refusal"


@handles(REFUSAL)
def on_refusal(envelope: Envelope) -> None:
    """A receiver reports (over an asynchronous transport) that it refused one of our messages."""
    message = OutboxMessage.objects.filter(
        message_id=uuid.UUID(envelope.payload["message_id"]), from_node=envelope.to_node
    ).first()
    if message is not None:  # unknown ids: a forged message in our name was refused — nothing of ours to end
        refused(message, envelope.payload["code"], envelope.payload.get("detail", ""))


def expire_overdue(node: str | None = None) -> int:
    """The sweep: exchanges past their deadline end as timed out, visible on the case."""
    now = clock.now()
    overdue = Exchange.objects.filter(state__in=[Exchange.State.PENDING, Exchange.State.SENT], deadline__lt=now)
    if node:
        overdue = overdue.filter(from_node=node)
    count = 0
    for exchange in overdue:
        with transaction.atomic():
            exchange.state = Exchange.State.TIMED_OUT
            exchange.error_code = "timeout"
            exchange.error_detail = f"节点 {exchange.to_node} 未在答复期限内答复。"
            exchange.ended_at = now
            exchange.save(update_fields=["state", "error_code", "error_detail", "ended_at"])
            _ended(exchange)
            audit(
                "tongban.exchange.timed_out",
                node=exchange.from_node,
                object_type="case",
                object_id=exchange.case_no,
                data={"type": exchange.type, "to": exchange.to_node, "message_id": str(exchange.message_id)},
            )
            count += 1
    return count


def retry(exchange: Exchange) -> Exchange:
    """Send the same message again (same id: the receiver applies it at most once) with a new deadline."""
    with transaction.atomic():
        exchange = Exchange.objects.select_for_update().get(pk=exchange.pk)
        if exchange.state not in (Exchange.State.TIMED_OUT, Exchange.State.PENDING, Exchange.State.SENT):
            raise Conflict("exchange_not_retryable", "只有未答复或已超时的交换可以重新发送。")
        timeout = timeout_for(exchange.type) or dt.timedelta(minutes=10)
        OutboxMessage.objects.filter(message_id=exchange.message_id).update(
            status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=None
        )
        exchange.state, exchange.error_code, exchange.error_detail = Exchange.State.PENDING, "", ""
        exchange.deadline, exchange.ended_at = clock.now() + timeout, None
        exchange.attempts += 1
        exchange.save()
        audit(
            "tongban.exchange.retried",
            node=exchange.from_node,
            object_type="case",
            object_id=exchange.case_no,
            data={"message_id": str(exchange.message_id), "attempts": exchange.attempts},
        )
    from tongban.exchange.dispatcher import wake

    transaction.on_commit(wake)
    return exchange
