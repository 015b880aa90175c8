"""Signed envelopes: the receiver verifies before anything else and refuses, with a listed code,
tampering, forgery, unknown, revoked or expired keys, replays, misaddressed messages and a stale
trust list."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import pytest
from django.db import transaction
from django.test import override_settings

from tongban import clock, crypto
from tongban.exchange import dispatcher, outbox, trust
from tongban.exchange.envelope import Envelope, canonical_bytes
from tongban.exchange.models import Exchange, NodeKey, OutboxMessage
from tongban.exchange.transport import accept_into_inbox

pytestmark = pytest.mark.django_db


def _envelope(**overrides) -> Envelope:
    fields = dict(
        type="test.echo", from_node="330000", to_node="520000", payload={"text": "一"}, created_at=clock.now()
    )
    fields.update(overrides)
    return Envelope(**fields)


def _refused(envelope: Envelope, code: str, receiver: str = "520000") -> None:
    with pytest.raises(trust.Refused) as caught:
        accept_into_inbox(envelope, receiver)
    assert caught.value.code == code
    assert caught.value.detail == trust.REFUSALS[code]


def test_a_signed_envelope_is_taken(fixed_clock):
    assert accept_into_inbox(trust.sign_envelope(_envelope()), "520000") is True


def test_a_tampered_payload_is_refused(fixed_clock):
    signed = trust.sign_envelope(_envelope())
    _refused(replace(signed, payload={"text": "二"}), "bad_signature")


def test_a_forged_signature_is_refused(fixed_clock):
    signed = trust.sign_envelope(_envelope())
    stranger = crypto.generate_keypair()
    forged = base64.b64encode(crypto.sign(stranger, canonical_bytes(signed))).decode()
    _refused(replace(signed, signature=forged), "bad_signature")
    _refused(replace(signed, signature="not base64!"), "bad_signature")


def test_a_key_of_another_node_or_no_key_is_refused(fixed_clock):
    trust.signing_key("520000")
    signed = trust.sign_envelope(_envelope(from_node="520000", to_node="330000"))
    # The same bytes claimed to come from 330000 with 520000's key: the key is not 330000's.
    _refused(replace(signed, from_node="330000", to_node="520000"), "unknown_key")
    _refused(replace(signed, key_id="0" * 64, to_node="520000"), "unknown_key")
    _refused(replace(signed, signature="", to_node="520000"), "unsigned")


def test_a_message_addressed_to_another_node_is_refused(fixed_clock):
    _refused(trust.sign_envelope(_envelope(to_node="110000")), "wrong_recipient")


def test_a_message_outside_the_time_window_is_refused(fixed_clock):
    signed = trust.sign_envelope(_envelope())
    fixed_clock.advance(days=31)
    _refused(signed, "replayed")


def test_revocation_takes_effect_with_the_next_trust_list(fixed_clock):
    signed = trust.sign_envelope(_envelope())
    trust.revoke(signed.key_id)
    _refused(signed, "key_revoked")


def test_rotation_keeps_the_old_key_valid_for_the_overlap(fixed_clock):
    old = trust.sign_envelope(_envelope())
    fixed_clock.advance(minutes=1)
    new_key = trust.create_key("330000", overlap=dt.timedelta(hours=1))
    fresh = trust.sign_envelope(_envelope())
    assert fresh.key_id == new_key.key_id != old.key_id
    assert accept_into_inbox(old, "520000") and accept_into_inbox(fresh, "520000")
    fixed_clock.advance(hours=2)
    late = trust.sign_envelope(_envelope())
    assert late.key_id == new_key.key_id
    # A message the old key signed after its overlap ended is refused as expired.
    private = crypto.load_private_key_pem((trust._key_dir("330000") / f"{old.key_id}.pem").read_text())
    stale = late.signed(old.key_id, "")
    stale = stale.signed(old.key_id, base64.b64encode(crypto.sign(private, canonical_bytes(stale))).decode())
    _refused(stale, "key_expired")


def test_a_node_fails_closed_when_its_trust_list_is_past_the_grace_period(fixed_clock):
    signed = trust.sign_envelope(_envelope())
    with override_settings(TONGBAN_NODE="520000", TONGBAN_TRUST_GRACE_SECONDS=600):
        trust.invalidate()
        assert accept_into_inbox(signed, "520000")
        fixed_clock.advance(minutes=11)
        later = trust.sign_envelope(_envelope())
        _refused(later, "trust_list_stale")
        trust.refreshed()  # the node checked with the hub again
        assert accept_into_inbox(later, "520000")


def test_a_trust_list_with_a_bad_hub_signature_is_not_imported(fixed_clock):
    trust.signing_key("330000")
    signed = trust.export_signed()
    signed["document"]["entries"].append(
        {
            "node": "990000",
            "key_id": "x",
            "public_key": "",
            "valid_from": "2025-01-01T00:00:00+00:00",
            "valid_until": None,
            "status": "active",
        }
    )
    with pytest.raises(trust.DomainError) as caught:
        trust.import_signed(signed)
    assert caught.value.code == "trust_list_invalid"


def test_a_refused_message_ends_its_exchange_at_the_sender(fixed_clock):
    with transaction.atomic():
        message = outbox.send("case.created", from_node="330000", to_node="520000", case_no="x", payload={})
    NodeKey.objects.filter(key_id=message.key_id).update(status=NodeKey.Status.REVOKED)
    trust.publish()
    assert dispatcher.deliver_pending().failed == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD and message.last_error.startswith("key_revoked")
    exchange = Exchange.objects.get(message_id=message.message_id)
    assert (exchange.state, exchange.error_code) == ("failed", "key_revoked")
