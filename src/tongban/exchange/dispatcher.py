"""Move messages outbox → transport → inbox, then apply each inbox message exactly once.

Runs as a background thread in the server (TONGBAN_DISPATCH=thread), or on demand through
`tongban dispatch` and in tests (`run_until_idle`). Each step is its own transaction, so a crash
leaves every message either still pending or fully applied.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.models import F, Q

from tongban import clock
from tongban.errors import DomainError
from tongban.exchange import exchanges
from tongban.exchange.envelope import Envelope
from tongban.exchange.handlers import RetryLater, handler_for
from tongban.exchange.models import InboxMessage, OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.exchange.transport import InProcessTransport, Transport
from tongban.exchange.trust import Refused

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 12
MAX_APPLY_ATTEMPTS = 12  # with the backoff, about 20 minutes, like sending
_transport: Transport | None = None


def transport() -> Transport:
    """The configured transport: in-process (embedded default) or RabbitMQ (TONGBAN_TRANSPORT=rabbitmq)."""
    global _transport
    if _transport is None:
        from django.conf import settings

        if settings.TONGBAN_TRANSPORT == "rabbitmq":
            from tongban.exchange.rabbitmq import RabbitTransport

            _transport = RabbitTransport(settings.TONGBAN_AMQP_URL, settings.TONGBAN_AMQP_NAMESPACE)
        else:
            _transport = InProcessTransport()
    return _transport


_wake = threading.Event()


@dataclass
class DispatchStats:
    sent: int = 0
    duplicates: int = 0
    applied: int = 0
    deferred: int = 0
    failed: int = 0

    @property
    def idle(self) -> bool:
        return self.sent == 0 and self.duplicates == 0 and self.applied == 0

    def add(self, other: DispatchStats) -> None:
        for name in ("sent", "duplicates", "applied", "deferred", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def set_transport(new: Transport | None) -> Transport | None:
    global _transport
    previous, _transport = _transport, new
    return previous


def wake() -> None:
    _wake.set()


_dispatching_here = False  # set once this process has dispatched: what it commits, it will likely deliver


def mark_dispatching() -> None:
    """This process dispatches (the dispatch role): what it commits, it will likely deliver itself."""
    global _dispatching_here
    _dispatching_here = True


def committed(envelope: Envelope) -> None:
    """An outbox message's transaction committed: tell the transport (which may make a head start on
    it, when this process is the one that dispatches) and wake the dispatcher."""
    notify = getattr(transport(), "committed", None)
    if notify is not None and _dispatching_here:
        try:
            notify(envelope)
        except Exception:  # only a head start: delivery verifies and sends regardless
            log.warning("preparing the delivery of %s failed", envelope.message_id, exc_info=True)
    wake()


def _logged(outcome: str, messages: list[OutboxMessage] | list[InboxMessage]) -> None:
    """Once the transaction commits: a log line and a count per message (`tongban.serve.logs`)."""
    from tongban.serve.logs import message_logged

    rows = [
        (str(m.message_id), m.type, m.from_node, getattr(m, "to_node", "") or getattr(m, "node", ""), m.case_no)
        for m in messages
    ]

    def write() -> None:
        for message_id, kind, sender, receiver, case_no in rows:
            message_logged(
                outcome, message_id=message_id, message_type=kind, from_node=sender, to_node=receiver, case_no=case_no
            )

    transaction.on_commit(write)


def _refusal_counted(code: str) -> None:
    from tongban.serve.metrics import REFUSALS

    transaction.on_commit(lambda: REFUSALS.labels(code, "message").inc())


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(240, 2**attempts))


def deliver_pending(limit: int = 200, node: str | None = None) -> DispatchStats:
    stats = DispatchStats()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=clock.now())
    sendable = [OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
    pending = OutboxMessage.objects.filter(due, status__in=sendable)
    if node:
        pending = pending.filter(from_node=node)
    ids = list(pending.order_by("id").values_list("pk", flat=True)[:limit])
    for start in range(0, len(ids), BATCH):
        # One transaction per batch; skip_locked: a second dispatcher of the node passes over rows the first holds.
        with transaction.atomic():
            batch = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk__in=ids[start : start + BATCH], status__in=sendable)
                .order_by("id")
            )
            _deliver_batch(batch, stats)
    return stats


def _deliver_batch(batch: list[OutboxMessage], stats: DispatchStats) -> None:
    """The whole batch in one call where the transport can (signatures verified together), else one by
    one; a batch call that fails is repeated one by one, so one message's trouble leaves the others."""
    deliver_many = getattr(transport(), "deliver_many", None)
    if deliver_many is not None and len(batch) > 1:
        try:
            with transaction.atomic():
                outcomes = deliver_many([envelope_of(message) for message in batch])
        except Exception as exc:
            log.warning("delivering a batch of %d failed (%s); delivering one by one", len(batch), exc)
        else:
            _settle(batch, outcomes, stats)
            return
    for message in batch:
        with transaction.atomic():  # a savepoint: one message's trouble leaves the others
            _deliver(message, stats)


def _settle(batch: list[OutboxMessage], outcomes: list[bool | Refused], stats: DispatchStats) -> None:
    delivered = []
    for message, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, Refused):
            message.attempts += 1
            exchanges.refused(message, outcome.code, outcome.detail)
            _logged("refused", [message])
            _refusal_counted(outcome.code)
            stats.failed += 1
            continue
        delivered.append(message)
        if outcome:
            stats.sent += 1
        else:
            stats.duplicates += 1
    if delivered:
        OutboxMessage.objects.filter(pk__in=[m.pk for m in delivered]).update(
            status=OutboxMessage.Status.SENT, sent_at=clock.now(), attempts=F("attempts") + 1
        )
        exchanges.mark_sent(*delivered)
        _logged("sent", delivered)


def _deliver(message: OutboxMessage, stats: DispatchStats) -> None:
    message.attempts += 1
    try:
        first_time = transport().deliver(envelope_of(message))
    except Refused as refusal:
        # The receiver will never take it: the exchange ends now with the receiver's code.
        exchanges.refused(message, refusal.code, refusal.detail)
        _logged("refused", [message])
        _refusal_counted(refusal.code)
        stats.failed += 1
        return
    except Exception as exc:  # a transport failure must not lose the message: retry with backoff
        log.warning("delivery of %s failed: %s", message.message_id, exc)
        message.last_error = f"{type(exc).__name__}: {exc}"[:255]
        message.next_attempt_at = clock.now() + _backoff(message.attempts)
        # FAILED: retried after the backoff; DEAD: left for an operator to resend.
        dead = message.attempts >= MAX_SEND_ATTEMPTS
        message.status = OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.FAILED
        message.save(update_fields=["attempts", "last_error", "next_attempt_at", "status"])
        _logged("dead" if dead else "send_failed", [message])
        stats.failed += 1
        return
    message.status = OutboxMessage.Status.SENT
    exchanges.mark_sent(message)
    message.sent_at = clock.now()
    message.save(update_fields=["attempts", "status", "sent_at"])
    _logged("sent" if first_time else "duplicate", [message])
    if first_time:
        stats.sent += 1
    else:
        stats.duplicates += 1


def apply_received(limit: int = 200, node: str | None = None) -> DispatchStats:
    stats = DispatchStats()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=clock.now())
    received = InboxMessage.objects.filter(due, status=InboxMessage.Status.RECEIVED)
    if node:
        received = received.filter(node=node)
    ids = list(received.order_by("id").values_list("pk", flat=True)[:limit])
    for start in range(0, len(ids), BATCH):
        # One transaction per batch: each message keeps its own savepoint (so one failure leaves the
        # others), while the commit — the expensive part — is shared by the batch.
        with transaction.atomic():
            for outcome in apply_batch(ids[start : start + BATCH]):
                setattr(stats, outcome, getattr(stats, outcome) + 1)
    return stats


BATCH = 50


def apply_batch(message_pks: list[int]) -> list[str]:
    """Apply the received messages among `message_pks` (in id order), each exactly once, inside the
    caller's transaction; per pk "applied", "deferred" (another consumer has it, it is done, or it
    must wait) or "failed"."""
    locked = {
        message.pk: message
        for message in InboxMessage.objects.select_for_update(skip_locked=True).filter(
            pk__in=message_pks, status=InboxMessage.Status.RECEIVED
        )
    }
    outcomes = []
    applied: list[InboxMessage] = []
    for pk in sorted(set(message_pks)):
        message = locked.get(pk)
        outcome = "deferred" if message is None else _apply(message)
        if outcome == "applied":
            applied.append(message)
        outcomes.append(outcome)
    if applied:
        InboxMessage.objects.filter(pk__in=[m.pk for m in applied]).update(
            status=InboxMessage.Status.APPLIED, applied_at=clock.now(), attempts=F("attempts") + 1
        )
        _wake_waiting(applied)
        _logged("applied", applied)
    failed = [locked[pk] for pk, outcome in zip(sorted(set(message_pks)), outcomes, strict=True) if outcome == "failed"]
    if failed:
        _logged("apply_failed", failed)
    order = {pk: index for index, pk in enumerate(sorted(set(message_pks)))}
    return [outcomes[order[pk]] for pk in message_pks]


def _apply(message: InboxMessage) -> str:
    try:
        with transaction.atomic():  # a savepoint: a failing handler leaves nothing behind
            handler = handler_for(message.type)
            if handler is None:
                raise DomainError("unknown_message_type", f"未知的消息类型：{message.type}")
            envelope = envelope_of(message)
            exchanges.answer(envelope, handler(envelope))
            return "applied"
    except (RetryLater, OperationalError) as exc:
        # Waiting for an earlier message, or a lock or serialization conflict: try again later.
        _record_failure(message.pk, f"{type(exc).__name__}: {exc}", final=False)
        return "deferred"
    except Exception as exc:  # recorded on the message for operators; the rest of the batch goes on
        log.exception("applying inbox message %s failed", message.pk)
        _record_failure(message.pk, f"{type(exc).__name__}: {exc}", final=True)
        return "failed"


def _wake_waiting(applied: list[InboxMessage]) -> None:
    """Messages of the same cases that waited for these are due again at once."""
    cases = Q()
    for node, case_no in {(m.node, m.case_no) for m in applied if m.case_no}:
        cases |= Q(node=node, case_no=case_no)
    if not cases:
        return
    InboxMessage.objects.filter(cases, status=InboxMessage.Status.RECEIVED, next_attempt_at__isnull=False).update(
        next_attempt_at=None, attempts=0
    )


def _record_failure(message_pk: int, error: str, *, final: bool) -> None:
    with transaction.atomic():
        message = InboxMessage.objects.select_for_update().get(pk=message_pk)
        message.attempts += 1
        message.last_error = error[:255]
        message.next_attempt_at = clock.now() + _backoff(message.attempts)
        if final or message.attempts >= MAX_APPLY_ATTEMPTS:
            message.status = InboxMessage.Status.FAILED
        message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def dispatch_once(node: str | None = None) -> DispatchStats:
    stats = deliver_pending(node=node)
    stats.add(apply_received(node=node))
    return stats


def run_until_idle(max_rounds: int = 100, node: str | None = None) -> DispatchStats:
    """Dispatch until nothing moves; handlers may send further messages, hence the rounds."""
    global _dispatching_here
    _dispatching_here = True
    total = DispatchStats()
    for _ in range(max_rounds):
        stats = dispatch_once(node=node)
        total.add(stats)
        if stats.idle:
            break
    return total


def loop(node: str | None = None, interval: float = 0.5, sweep_every: float = 60.0) -> None:
    """Dispatch whenever woken (or every `interval` s) and sweep every `sweep_every` s, forever."""
    import time

    from django.db import close_old_connections

    from tongban.cases.sweep import sweep

    last_sweep = float("-inf")
    while True:
        _wake.wait(timeout=interval)
        _wake.clear()
        try:
            close_old_connections()
            run_until_idle(node=node)
            # Monotonic process time paces the sweep; the sweep itself reads only the injected clock.
            if time.monotonic() - last_sweep >= sweep_every:
                sweep(node=node)
                last_sweep = time.monotonic()
        except Exception:  # keep the dispatcher alive; the error is logged and retried next round
            log.exception("dispatcher round failed")


def start_background(node: str | None = None) -> threading.Thread:
    thread = threading.Thread(target=loop, kwargs={"node": node}, name="tongban-dispatcher", daemon=True)
    thread.start()
    return thread
