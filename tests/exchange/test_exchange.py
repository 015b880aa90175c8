"""Outbox, transport and inbox: written with the change, delivered at least once, applied exactly once."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from tongban import clock
from tongban.cases.numbering import is_well_formed, mod11_2_check
from tongban.exchange import dispatcher, outbox
from tongban.exchange.envelope import Envelope, canonical_bytes
from tongban.exchange.handlers import RetryLater, handles
from tongban.exchange.models import InboxMessage, OutboxMessage
from tongban.exchange.transport import accept_into_inbox
from tongban.exchange.trust import sign_envelope

applied: list[str] = []


@handles("test.echo")
def _echo(envelope: Envelope) -> None:
    prerequisite = envelope.payload.get("after")
    if prerequisite and prerequisite not in applied:
        raise RetryLater("waiting")
    applied.append(envelope.payload["text"])


@pytest.fixture(autouse=True)
def _reset():
    applied.clear()
    yield
    applied.clear()


def _send(text: str, **payload) -> OutboxMessage:
    with transaction.atomic():
        return outbox.send(
            "test.echo", from_node="330000", to_node="520000", case_no="T-1", payload={"text": text, **payload}
        )


@pytest.mark.django_db(transaction=True)
def test_outbox_refuses_to_write_outside_a_transaction(fixed_clock):
    with pytest.raises(RuntimeError):
        outbox.send("test.echo", from_node="330000", to_node="520000", payload={})


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(fixed_clock):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox.send("test.echo", from_node="330000", to_node="520000", payload={"text": "x"})
        1 / 0  # noqa: B018
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_delivered_and_applied_exactly_once_even_if_delivered_twice(fixed_clock):
    message = _send("一")
    stats = dispatcher.run_until_idle()
    assert (stats.sent, stats.applied) == (1, 1)
    # The same envelope arrives again (a retry after a lost acknowledgement): ignored.
    assert accept_into_inbox(outbox.envelope_of(message)) is False
    dispatcher.run_until_idle()
    assert applied == ["一"]
    assert InboxMessage.objects.get().status == InboxMessage.Status.APPLIED


@pytest.mark.django_db
def test_out_of_order_message_waits_for_its_predecessor(fixed_clock):
    second = _send("二", after="一")
    dispatcher.deliver_pending()
    dispatcher.apply_received()
    assert applied == []
    inbox = InboxMessage.objects.get(message_id=second.message_id)
    assert inbox.status == InboxMessage.Status.RECEIVED and inbox.attempts == 1
    _send("一")
    dispatcher.run_until_idle()
    dispatcher.apply_received()
    assert applied == ["一", "二"]


class _BrokenTransport:
    def deliver(self, envelope: Envelope) -> bool:
        raise ConnectionError("receiver unreachable")


@pytest.mark.django_db
def test_failed_delivery_is_retried_with_backoff_and_nothing_is_lost(fixed_clock):
    message = _send("三")
    previous = dispatcher.set_transport(_BrokenTransport())
    try:
        assert dispatcher.deliver_pending().failed == 1
        assert dispatcher.deliver_pending().failed == 0  # not due yet: backing off
    finally:
        dispatcher.set_transport(previous)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 1
    fixed_clock.advance(seconds=5)
    dispatcher.run_until_idle()
    assert applied == ["三"]


@pytest.mark.django_db
def test_unknown_message_type_is_marked_failed_for_operators(fixed_clock):
    envelope = Envelope(type="test.unknown", from_node="330000", to_node="520000", payload={}, created_at=clock.now())
    accept_into_inbox(sign_envelope(envelope))
    assert dispatcher.apply_received().failed == 1
    assert "unknown_message_type" in InboxMessage.objects.get().last_error


def test_canonical_encoding_is_stable():
    envelope = Envelope(
        type="case.action",
        from_node="330000",
        to_node="520000",
        payload={"b": 1, "a": "办件"},
        created_at=__import__("datetime").datetime(2025, 6, 9, 9, 0, tzinfo=clock.CHINA_TZ),
        case_no="330000202506090000015",
        message_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    )
    assert (
        canonical_bytes(envelope)
        == (
            '{"case_no":"330000202506090000015","correlation_id":"00000000-0000-4000-8000-000000000001",'
            '"created_at":"2025-06-09T01:00:00+00:00","from_node":"330000","key_id":"",'
            '"message_id":"00000000-0000-4000-8000-000000000001","payload":{"a":"办件","b":1},'
            '"represented_party":"","schema_version":1,"to_node":"520000","type":"case.action","user":""}'
        ).encode()
    )
    assert Envelope.from_dict(envelope.to_dict()) == envelope


@given(st.from_regex(r"[1-6][0-9]0000", fullmatch=True), st.integers(0, 99999999), st.integers(1, 999999))
def test_case_numbers_catch_any_single_mistyped_digit(node, day, seq):
    body = f"{node}{day:08d}{seq:06d}"
    case_no = body + mod11_2_check(body)
    assert is_well_formed(case_no)
    for position in range(len(body)):
        for digit in "0123456789":
            if digit != body[position]:
                typo = body[:position] + digit + body[position + 1 :] + case_no[-1]
                assert not is_well_formed(typo)


class _FailsOnce:
    def __init__(self, text: str) -> None:
        self.text, self.failed = text, False

    def deliver(self, envelope: Envelope) -> bool:
        if envelope.payload.get("text") == self.text and not self.failed:
            self.failed = True
            raise ConnectionError("lost on the way")
        return accept_into_inbox(envelope)


@pytest.mark.django_db
def test_a_message_overtaken_by_its_successor_is_still_applied_in_order(fixed_clock):
    _send("一")
    _send("二", after="一")
    previous = dispatcher.set_transport(_FailsOnce("一"))
    try:
        for _ in range(60):  # far more rounds than a waiting message used to survive
            dispatcher.dispatch_once()
        assert applied == []
        assert InboxMessage.objects.get().status == InboxMessage.Status.RECEIVED
        fixed_clock.advance(seconds=5)  # the first message's retry is due
        dispatcher.run_until_idle()
    finally:
        dispatcher.set_transport(previous)
    assert applied == ["一", "二"]
