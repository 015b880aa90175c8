"""Messages travel and are taken in batches — one transaction, signatures verified together — yet each
message keeps its own outcome: a forged, malformed or duplicate message in a batch costs the others
nothing, rows keep the senders' order, and a batch that cannot be taken whole is taken one by one."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import replace

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban import clock
from tongban.exchange import dispatcher, outbox, rabbitmq, transport
from tongban.exchange.envelope import Envelope, wire_bytes
from tongban.exchange.handlers import handles
from tongban.exchange.models import Exchange, InboxMessage, OutboxMessage
from tongban.exchange.trust import Refused, sign_envelope

pytestmark = pytest.mark.django_db
taken: list[int] = []


@handles("test.batch")
def _take(envelope: Envelope) -> None:
    if envelope.payload.get("explode"):
        raise RuntimeError("a handler bug")
    taken.append(envelope.payload["i"])


@pytest.fixture(autouse=True)
def _reset(monkeypatch):
    from tongban.crypto import parallel

    monkeypatch.setenv(parallel.ENV_VAR, "1")  # batches split between this process and a worker, on any machine
    parallel.forget()
    taken.clear()
    yield
    taken.clear()
    parallel.forget()
    parallel.shutdown()


def _signed(i: int, **payload) -> Envelope:
    return sign_envelope(
        Envelope(
            type="test.batch", from_node="330000", to_node="520000", payload={"i": i, **payload}, created_at=clock.now()
        )
    )


def _forged(i: int) -> Envelope:
    return replace(_signed(i), payload={"i": i, "forged": True})


def test_a_batch_keeps_each_message_s_own_verdict_and_the_senders_order(fixed_clock):
    good = [_signed(i) for i in range(20)]
    batch = [*good[:7], _forged(100), *good[7:], good[3], replace(good[0], to_node="230000")]
    outcomes = transport.accept_many(batch, receiver="520000")
    assert outcomes[:7] == [True] * 7 and outcomes[8:21] == [True] * 13
    assert outcomes[21] is False  # the same message again in one batch: a duplicate
    assert isinstance(outcomes[7], Refused) and outcomes[7].code == "bad_signature"
    assert isinstance(outcomes[22], Refused) and outcomes[22].code == "wrong_recipient"
    recorded = list(InboxMessage.objects.order_by("id").values_list("payload__i", flat=True))
    assert recorded == list(range(20))


# Each example signs and verifies up to 24 messages: no per-example deadline on a loaded machine.
@settings(deadline=None)
@given(st.lists(st.sampled_from(["good", "forged", "again"]), max_size=24))
def test_batch_verdicts_match_taking_the_messages_one_by_one(kinds):
    from tongban.crypto import parallel

    with transaction.atomic():
        sid = transaction.savepoint()
        batch = _batch_of(kinds)
        outcomes = transport.accept_many(batch, receiver="520000")
        transaction.savepoint_rollback(sid)
        parallel.forget()  # the one-by-one side verifies every signature itself
        one_by_one = []
        for envelope in batch:
            try:
                one_by_one.append(transport.accept_into_inbox(envelope, "520000"))
            except Refused as refusal:
                one_by_one.append(refusal)
        transaction.savepoint_rollback(sid)
    assert [o if isinstance(o, bool) else o.code for o in outcomes] == [
        o if isinstance(o, bool) else o.code for o in one_by_one
    ]


def _batch_of(kinds: list[str]) -> list[Envelope]:
    batch: list[Envelope] = []
    for i, kind in enumerate(kinds):
        if kind == "again" and batch:
            batch.append(batch[-1])
        elif kind == "forged":
            batch.append(_forged(i))
        else:
            batch.append(_signed(i))
    return batch


def _send(i: int, **payload) -> OutboxMessage:
    with transaction.atomic():
        return outbox.send("test.batch", from_node="330000", to_node="520000", payload={"i": i, **payload})


def test_the_dispatcher_settles_a_batch_message_by_message(fixed_clock):
    for i in range(12):
        _send(i, explode=(i == 5))
    forged = _send(99)
    OutboxMessage.objects.filter(pk=forged.pk).update(payload={"i": 99, "forged": True})
    stats = dispatcher.run_until_idle()
    assert (stats.sent, stats.failed) == (12, 2)  # the forged one refused, the exploding one failed to apply
    assert taken == [i for i in range(12) if i != 5]
    assert OutboxMessage.objects.get(pk=forged.pk).status == OutboxMessage.Status.DEAD
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).count() == 12
    assert InboxMessage.objects.filter(status=InboxMessage.Status.FAILED).get().payload["i"] == 5


class _BatchesBreak:
    """A transport whose batch call fails: the dispatcher falls back to one message at a time."""

    def deliver(self, envelope: Envelope) -> bool:
        if envelope.payload["i"] == 3:
            raise ConnectionError("lost on the way")
        return transport.accept_into_inbox(envelope)

    def deliver_many(self, envelopes: list[Envelope]) -> list[bool]:
        raise ConnectionError("the batch call broke")


def test_a_batch_that_cannot_travel_whole_travels_one_by_one(fixed_clock):
    for i in range(6):
        _send(i)
    previous = dispatcher.set_transport(_BatchesBreak())
    try:
        stats = dispatcher.deliver_pending()
    finally:
        dispatcher.set_transport(previous)
    assert (stats.sent, stats.failed) == (5, 1)
    failed = OutboxMessage.objects.get(status=OutboxMessage.Status.FAILED)
    assert failed.payload["i"] == 3 and failed.next_attempt_at is not None


def test_sending_a_batch_marks_the_exchanges_it_opens_as_sent(fixed_clock, settings):
    settings.TONGBAN_EXCHANGE_TIMEOUTS = {**settings.TONGBAN_EXCHANGE_TIMEOUTS, "test.batch": 60}
    for i in range(3):
        _send(i)
    dispatcher.deliver_pending()
    assert set(Exchange.objects.values_list("state", flat=True)) == {Exchange.State.SENT}


class _Channel:
    """Records what a consumer tells the broker."""

    def __init__(self) -> None:
        self.acked: list[int] = []
        self.dead: list[int] = []
        self.requeued: list[int] = []

    def basic_ack(self, tag: int) -> None:
        self.acked.append(tag)

    def basic_nack(self, tag: int, requeue: bool) -> None:
        (self.requeued if requeue else self.dead).append(tag)


def test_a_consumer_batch_acks_what_it_took_and_dead_letters_the_rest(fixed_clock):
    good = [_signed(i) for i in range(4)]
    bodies = [
        wire_bytes(good[0]),
        b"{not json",
        wire_bytes(_forged(7)),
        wire_bytes(good[1]),
        json.dumps({**good[2].to_dict(), "created_at": "2025-06-09T09:00:00"}).encode(),  # no time zone
        wire_bytes(good[1]),  # redelivered within the batch
        wire_bytes(good[3]),
    ]
    channel = _Channel()
    assert rabbitmq._take(channel, "520000", list(enumerate(bodies))) == 4
    assert channel.acked == [0, 3, 5, 6] and channel.dead == [1, 2, 4] and channel.requeued == []
    assert taken == [0, 1, 3]
    refusal = OutboxMessage.objects.get(type="exchange.refusal")  # the claimed sender hears why
    assert refusal.to_node == "330000" and refusal.payload["code"] == "bad_signature"


def test_a_consumer_batch_that_fails_whole_is_taken_one_by_one(fixed_clock, monkeypatch):
    bodies = [wire_bytes(_signed(i)) for i in range(3)]
    real = rabbitmq.receive_many

    def breaks_on_batches(batch, node):
        if len(batch) > 1:
            raise RuntimeError("the database went away mid-batch")
        return real(batch, node)

    monkeypatch.setattr(rabbitmq, "receive_many", breaks_on_batches)
    channel = _Channel()
    assert rabbitmq._take(channel, "520000", list(enumerate(bodies))) == 3
    assert channel.acked == [0, 1, 2] and taken == [0, 1, 2]


def test_a_row_the_database_passes_over_fails_the_batch(fixed_clock):
    from django.db import IntegrityError

    odd = replace(_signed(1), schema_version=-1)  # against the inbox's CHECK; INSERT OR IGNORE would skip it
    with pytest.raises(IntegrityError), transaction.atomic():
        transport.record_in_inbox([_signed(2), odd])
    assert InboxMessage.objects.count() == 0


def test_a_message_is_handed_ahead_only_where_this_process_dispatches(fixed_clock, monkeypatch):
    calls: list[Envelope] = []
    monkeypatch.setattr(transport.InProcessTransport, "committed", lambda self, envelope: calls.append(envelope))
    monkeypatch.setattr(dispatcher, "_dispatching_here", False)
    dispatcher.committed(_signed(1))
    assert calls == []  # a web process that leaves dispatching to another process
    monkeypatch.setattr(dispatcher, "_dispatching_here", True)
    dispatcher.committed(_signed(2))
    assert [envelope.payload["i"] for envelope in calls] == [2]


@pytest.mark.parametrize(
    "change",
    [
        {"schema_version": -1},
        {"schema_version": True},
        {"from_node": "3300001"},
        {"type": "x" * 49},
        {"created_at": "2025-06-09T09:00:00"},
        {"payload": "文本"},
        {"from_node": 330000},
        {"schema_version": "1"},
        {"message_id": "not-a-uuid"},
        {"type": None},
    ],
)
def test_anything_but_an_envelope_is_malformed(fixed_clock, change):
    data = {**_signed(1).to_dict(), **change}
    with pytest.raises(ValueError):
        Envelope.from_dict(data)


def test_a_message_without_a_field_is_malformed(fixed_clock):
    data = _signed(1).to_dict()
    del data["to_node"]
    with pytest.raises(ValueError):
        Envelope.from_dict(data)
    with pytest.raises(ValueError):
        Envelope.from_dict([data])


def test_an_envelope_survives_the_wire(fixed_clock):
    envelope = replace(_signed(1), message_id=uuid.uuid4())
    assert Envelope.from_dict(json.loads(wire_bytes(envelope))) == envelope


@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_handed_to_the_verifiers_ahead_of_delivery(fixed_clock, monkeypatch):
    from tongban.crypto import parallel
    from tongban.exchange.envelope import canonical_bytes

    warmed: list[parallel.Item] = []
    monkeypatch.setattr(parallel, "warm", lambda items, user_id=None: warmed.extend(items))
    monkeypatch.setattr(dispatcher, "_dispatching_here", True)  # this process delivers what it commits
    with transaction.atomic():
        message = outbox.send("test.batch", from_node="330000", to_node="520000", payload={"i": 1})
        assert warmed == []  # nothing before the commit: a rolled-back message is never delivered
    (item,) = warmed
    envelope = outbox.envelope_of(message)
    assert item[1] == canonical_bytes(envelope) and item[2] == base64.b64decode(envelope.signature)
    assert dispatcher.run_until_idle().applied == 1 and taken == [1]  # delivery still verifies and applies
