"""Writing to the outbox. Call inside the transaction of the change that causes the message."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from tongban import clock
from tongban.exchange.envelope import SCHEMA_VERSION, Envelope
from tongban.exchange.models import InboxMessage, OutboxMessage
from tongban.exchange.trust import sign_envelope, signing_key


def send(
    type: str,
    *,
    from_node: str,
    to_node: str,
    payload: dict[str, Any],
    case_no: str = "",
    correlation_id: uuid.UUID | None = None,
    user: str = "",
    represented_party: str = "",
) -> OutboxMessage:
    """Write a signed message to the sender's outbox, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox messages are written in the same transaction as the change that causes them")
    message_id = uuid.uuid4()
    signing_key(from_node)  # first, so that a key made on first use is valid from before the message
    envelope = sign_envelope(
        Envelope(
            type=type,
            from_node=from_node,
            to_node=to_node,
            payload=payload,
            created_at=clock.now(),
            case_no=case_no,
            message_id=message_id,
            correlation_id=correlation_id or message_id,
            schema_version=SCHEMA_VERSION,
            user=user,
            represented_party=represented_party,
        )
    )
    message = OutboxMessage.objects.create(
        message_id=message_id,
        type=type,
        from_node=from_node,
        to_node=to_node,
        case_no=case_no,
        correlation_id=envelope.correlation_id,
        schema_version=SCHEMA_VERSION,
        created_at=envelope.created_at,
        payload=payload,
        user=user,
        represented_party=represented_party,
        key_id=envelope.key_id,
        signature=envelope.signature,
    )
    from tongban.exchange import dispatcher, exchanges

    exchanges.track(message)
    transaction.on_commit(lambda: dispatcher.committed(envelope))
    return message


def envelope_of(message: OutboxMessage | InboxMessage) -> Envelope:
    to_node = message.to_node if isinstance(message, OutboxMessage) else message.node
    return Envelope(
        type=message.type,
        from_node=message.from_node,
        to_node=to_node,
        payload=message.payload,
        created_at=message.created_at,
        case_no=message.case_no,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        schema_version=message.schema_version,
        user=message.user,
        represented_party=message.represented_party,
        key_id=message.key_id,
        signature=message.signature,
    )
