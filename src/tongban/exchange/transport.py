"""Transports move an envelope from a sender's outbox to a receiver's inbox.

The in-process transport serves the embedded default, where every node shares one database.
Other transports (RabbitMQ) implement the same `deliver` contract: the inbox insert is
idempotent by (node, message id), so delivering twice is harmless.
"""

from __future__ import annotations

from typing import Protocol

from django.db import IntegrityError, transaction

from tongban import clock
from tongban.exchange.envelope import Envelope
from tongban.exchange.models import InboxMessage
from tongban.exchange.trust import verify_envelope


class Transport(Protocol):
    def deliver(self, envelope: Envelope) -> bool:
        """Deliver; True if the receiver took it for the first time, False for a duplicate."""
        ...


def accept_into_inbox(envelope: Envelope, receiver: str | None = None) -> bool:
    """Verify, then record an incoming envelope once; a duplicate message id is ignored.

    Raises trust.Refused (a code from the closed list) for anything the receiver cannot trust."""
    verify_envelope(envelope, receiver or envelope.to_node)
    try:  # the unique (node, message id) constraint is the duplicate check
        with transaction.atomic():
            InboxMessage.objects.create(
                message_id=envelope.message_id,
                node=envelope.to_node,
                type=envelope.type,
                from_node=envelope.from_node,
                case_no=envelope.case_no,
                correlation_id=envelope.correlation_id,
                schema_version=envelope.schema_version,
                created_at=envelope.created_at,
                received_at=clock.now(),
                payload=envelope.payload,
                user=envelope.user,
                represented_party=envelope.represented_party,
                key_id=envelope.key_id,
                signature=envelope.signature,
            )
    except IntegrityError:
        return False
    return True


class InProcessTransport:
    def deliver(self, envelope: Envelope) -> bool:
        return accept_into_inbox(envelope)
