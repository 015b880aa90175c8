"""The canonical encoding is what docs/protocol.md says, rule by rule: keys by code point, exactly these
escapes, Python's float layout, integers of any size up to the limit, one way to write the time and
the ids; values another implementation could not encode the same way, or that storage would change,
are refused when sent and when received; and what is sent is what the receiver verifies, after both
databases have held it."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban import clock
from tongban.exchange import dispatcher, outbox, rabbitmq
from tongban.exchange.envelope import (
    MAX_INT_DIGITS,
    Envelope,
    NotEncodable,
    canonical_bytes,
    check_encodable,
    wire_bytes,
)
from tongban.exchange.handlers import handles
from tongban.exchange.models import InboxMessage, OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.exchange.trust import sign_envelope

CREATED = dt.datetime(2025, 6, 9, 3, 0, tzinfo=dt.UTC)
received: list[dict[str, Any]] = []


@handles("test.canonical")
def _receive(envelope: Envelope) -> None:
    received.append(envelope.payload)


def _envelope(payload: dict[str, Any], **fields: Any) -> Envelope:
    return Envelope(type="test.canonical", from_node="330000", to_node="520000", payload=payload, **fields)


def _payload_bytes(payload: dict[str, Any]) -> str:
    """The canonical text of the payload alone, as it stands inside the envelope's."""
    text = canonical_bytes(_envelope(payload, created_at=CREATED)).decode()
    return text[text.index(',"payload":') + len(',"payload":') : text.rindex(',"represented_party":')]


def _encoded(value: Any) -> str:
    return _payload_bytes({"v": value})[len('{"v":') : -1]


# ---------------------------------------------------------------- keys, escapes, numbers


text_without_nul = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(deadline=None)  # no timing assertions: a loaded machine is not a failure
@given(st.dictionaries(text_without_nul, st.integers(), max_size=8))
def test_keys_are_sorted_by_code_point_at_every_level(mapping):
    encoded = json.loads(_payload_bytes({"outer": mapping, "nested": [{"inner": mapping}]}))
    by_code_point = sorted(mapping, key=lambda key: [ord(c) for c in key])
    assert list(encoded["outer"]) == by_code_point == list(encoded["nested"][0]["inner"])
    # The same as ordering by UTF-8 bytes, and not by UTF-16 code units, which differ beyond U+FFFF.
    assert by_code_point == sorted(mapping, key=lambda key: key.encode())


def test_a_character_beyond_the_bmp_sorts_after_the_end_of_the_bmp():
    keys = ["𠀀", "😀", "｡", "\ue000", "é", "a"]
    assert list(json.loads(_payload_bytes(dict.fromkeys(keys, 0)))) == ["a", "é", "\ue000", "｡", "😀", "𠀀"]
    utf16 = sorted(keys, key=lambda key: key.encode("utf-16-be"))
    assert utf16 == ["a", "é", "😀", "𠀀", "\ue000", "｡"]  # what a UTF-16 sort would give instead


def _escaped_by_the_rule(code_point: int) -> str:
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    char = chr(code_point)
    if char in short:
        return short[char]
    return f"\\u{code_point:04x}" if code_point < 0x20 else char


def test_exactly_the_documented_characters_are_escaped_and_everything_else_is_written_as_itself():
    every = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp <= 0xDFFF]
    text = "".join(chr(cp) for cp in every)
    assert _encoded(text) == '"' + "".join(_escaped_by_the_rule(cp) for cp in every) + '"'
    assert _encoded("\x7f\u2028\u2029\ufeff/") == '"\x7f\u2028\u2029\ufeff/"'  # none of these is escaped
    assert _encoded("\x01\x1f") == '"\\u0001\\u001f"'  # lowercase hex, four digits


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (1.0, "1.0"),
        (0.0, "0.0"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (-2.75, "-2.75"),
        (1234.5, "1234.5"),
        (0.0001, "0.0001"),
        (9.999999999999999e-05, "9.999999999999999e-05"),
        (1e-05, "1e-05"),
        (1.5e-07, "1.5e-07"),
        (-2.5e-100, "-2.5e-100"),
        (5e-324, "5e-324"),
        (1e15, "1000000000000000.0"),
        (123456789012345.6, "123456789012345.6"),
        (9999999999999998.0, "9999999999999998.0"),
        (0, "0"),
        (-42, "-42"),
        (2**53 + 1, "9007199254740993"),
        (-(2**63), "-9223372036854775808"),
        (10**39 + 7, "1" + "0" * 38 + "7"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_numbers_are_written_as_the_protocol_says(value, written):
    assert _encoded(value) == written


@settings(deadline=None)  # no timing assertions: a loaded machine is not a failure
@given(st.floats(allow_nan=False, min_value=-(1e16), max_value=1e16, exclude_min=True, exclude_max=True))
def test_every_float_in_range_is_written_in_its_shortest_form_and_reads_back_the_same(value):
    if value == 0:
        value = 0.0  # -0.0 is refused, see below
    written = _encoded(value)
    assert float(written) == value and "e+" not in written
    digits = written.lstrip("-").split("e")[0].replace(".", "").strip("0")
    # Shortest: one significant digit fewer never reads back as the same double.
    if len(digits) > 1:
        assert float(f"{value:.{len(digits) - 2}e}") != value
    assert ("e" in written) == (0 < abs(value) < 1e-4)


def test_integers_up_to_the_limit_travel_and_longer_ones_do_not():
    largest = 10**MAX_INT_DIGITS - 1
    assert _encoded(-largest) == "-" + "9" * MAX_INT_DIGITS
    with pytest.raises(NotEncodable):
        check_encodable({"n": largest + 1})


# ---------------------------------------------------------------- what may not travel


@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        ({"a": math.nan}, "payload.a", "不是有限数"),
        ({"a": [1, math.inf]}, "payload.a[1]", "不是有限数"),
        ({"a": -math.inf}, "payload.a", "不是有限数"),
        ({"a": -0.0}, "payload.a", "负零"),
        ({"a": 1e16}, "payload.a", "10^16"),
        ({"a": -1.5e300}, "payload.a", "10^16"),
        ({"a": "办\x00件"}, "payload.a", "U+0000"),
        ({"a\x00": 1}, "payload.a\x00", "U+0000"),
        ({"a": "\ud83d"}, "payload.a", "代理码位"),
        ({"a": {"b": "\ud83d\ude00"}}, "payload.a.b", "代理码位"),  # a pair spelled as two code points
        ({1: "a"}, "payload", "不是字符串"),
        ({"a": dt.date(2025, 6, 9)}, "payload.a", "不是 JSON 值"),
        pytest.param({"a": {"b": [10**MAX_INT_DIGITS]}}, "payload.a.b[0]", "整数超过", id="4301-digits"),
    ],
)
def test_a_value_outside_the_data_model_is_named_with_its_place(value, path, problem):
    with pytest.raises(NotEncodable) as caught:
        check_encodable(value)
    error = caught.value
    assert (error.code, error.status, error.extra["path"]) == ("message_not_encodable", 422, path)
    assert problem in error.detail and error.detail.startswith("消息内容不符合节点间交换协议的取值规则")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", [math.nan, -0.0, 1e16, "\x00", "\udc00", pytest.param(10**MAX_INT_DIGITS, id="4301-digits")]
)
def test_a_message_that_cannot_travel_is_refused_at_send_and_nothing_is_written(fixed_clock, value):
    with pytest.raises(NotEncodable), transaction.atomic():
        outbox.send("test.canonical", from_node="330000", to_node="520000", payload={"v": value})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_sender_field_that_cannot_travel_is_refused_too(fixed_clock):
    with pytest.raises(NotEncodable) as caught, transaction.atomic():
        outbox.send("test.canonical", from_node="330000", to_node="520000", payload={}, user="王\ud842")
    assert caught.value.extra["path"] == "envelope.user"


def _signed(payload: dict[str, Any]) -> dict[str, Any]:
    return sign_envelope(_envelope(payload, created_at=clock.now())).to_dict()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-0.0", "1e16", '"\\u0000"', '"\\ud800"'])
def test_an_arriving_envelope_outside_the_data_model_is_malformed(fixed_clock, token):
    body = wire_bytes(Envelope.from_dict(_signed({"v": "PLACE"}))).replace(b'"PLACE"', token.encode())
    with pytest.raises(rabbitmq.Malformed):
        rabbitmq._parse(body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("created_at", "2025-06-09T03:00:00Z"),
        ("created_at", "2025-06-09T11:00:00+08:00"),
        ("created_at", "2025-06-09T03:00:00.000000+00:00"),
        ("created_at", "2025-06-09T03:00:00.120+00:00"),
        ("created_at", "2025-06-09 03:00:00+00:00"),
        ("created_at", "2025-06-09T03:00+00:00"),
        ("created_at", "２０２５-06-09T03:00:00+00:00"),
        ("message_id", "6F1C2B7E-8D3A-4E51-9C0B-2A7F4D6E8B10"),
        ("message_id", "{6f1c2b7e-8d3a-4e51-9c0b-2a7f4d6e8b10}"),
        ("correlation_id", "6f1c2b7e8d3a4e519c0b2a7f4d6e8b10"),
        ("correlation_id", "urn:uuid:6f1c2b7e-8d3a-4e51-9c0b-2a7f4d6e8b10"),
    ],
)
def test_times_and_ids_are_taken_only_as_senders_must_write_them(fixed_clock, field, written):
    """The receiver re-encodes what it parsed: another spelling could never verify, so it is malformed."""
    with pytest.raises(ValueError):
        Envelope.from_dict({**_signed({}), field: written})


def test_the_time_is_utc_with_six_fraction_digits_or_none():
    with_fraction = _envelope({}, created_at=dt.datetime(2025, 6, 9, 11, 0, 0, 5, tzinfo=clock.CHINA_TZ))
    assert with_fraction.to_dict()["created_at"] == "2025-06-09T03:00:00.000005+00:00"
    assert _envelope({}, created_at=CREATED).to_dict()["created_at"] == "2025-06-09T03:00:00+00:00"
    for envelope in (with_fraction, _envelope({}, created_at=CREATED)):
        assert Envelope.from_dict(envelope.to_dict()) == envelope


# ---------------------------------------------------------------- sent, stored, received, verified


TRAVELLER = {
    "floats": [1.0, 0.0, 0.1, 1 / 3, -2.75, 0.0001, 1e-05, 5e-324, 1e15, 9999999999999998.0],
    "integers": [2**53 + 1, -(2**63), 2**64 + 1, 10**39 + 7],
    "text": '王𠮷 😀 \n\t\r\b\f\x01\x1f\x7f\u2028\u2029\ufeff "\\/',
    "keys": {"𠀀": 1, "😀": 2, "｡": 3, "\ue000": 4, "é": 5, "a\x01": 6, "": 7},
}


@pytest.mark.django_db
def test_what_is_sent_is_what_the_receiver_verifies_after_both_databases_held_it(fixed_clock):
    """On PostgreSQL too (the service test runs this suite there): jsonb must give every value back."""
    received.clear()
    with transaction.atomic():
        sent = outbox.send(
            "test.canonical", from_node="330000", to_node="520000", payload=TRAVELLER, represented_party="王𠮷"
        )
    signed = canonical_bytes(envelope_of(sent))
    sent.refresh_from_db()
    assert canonical_bytes(envelope_of(sent)) == signed
    dispatcher.run_until_idle()
    inbox = InboxMessage.objects.get(message_id=sent.message_id)
    assert inbox.status == InboxMessage.Status.APPLIED  # verified, taken and applied
    assert canonical_bytes(envelope_of(inbox)) == signed
    assert received == [TRAVELLER]


@settings(deadline=None)  # no timing assertions: a loaded machine is not a failure
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, min_value=-(1e16), max_value=1e16, exclude_max=True, exclude_min=True)
        | text_without_nul,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text_without_nul, children, max_size=4),
        max_leaves=20,
    )
)
def test_any_value_of_the_data_model_survives_the_wire_byte_for_byte(value):
    if isinstance(value, float) and value == 0:
        value = 0.0
    try:
        check_encodable(value)
    except NotEncodable:
        return  # -0.0 inside a list or object: refused, as the rules say
    envelope = _envelope({"v": value}, created_at=CREATED)
    assert canonical_bytes(Envelope.from_dict(json.loads(wire_bytes(envelope)))) == canonical_bytes(envelope)


def test_unknown_fields_are_ignored_and_not_signed():
    envelope = _envelope({"a": 1}, created_at=CREATED, message_id=uuid.UUID(int=1))
    assert canonical_bytes(Envelope.from_dict({**envelope.to_dict(), "extra": "x"})) == canonical_bytes(envelope)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ['"不办了\\ud800"', '"不办了\\u0000"'])
def test_an_api_write_whose_message_cannot_travel_is_refused_with_its_code_and_changes_nothing(
    content, fixed_clock, reason
):
    from tongban.stories import story

    from support import Api, dispatch, ok, problem

    applicant = Api("zhengchuilu", node="330000")
    told = story("online")
    case_no = ok(applicant.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()
    before = OutboxMessage.objects.count()
    body = ('{"action": "withdraw", "reason": ' + reason + "}").encode()
    refused = problem(applicant.post_raw(f"/cases/{case_no}/actions", body), 422, "message_not_encodable")
    assert refused["path"] == "envelope.payload.reason"
    assert OutboxMessage.objects.count() == before
    assert applicant.case(case_no)["status"] == "received"
