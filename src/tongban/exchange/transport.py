"""Transports move an envelope from a sender's outbox to a receiver's inbox.

The in-process transport serves the embedded default, where every node shares one database.
Other transports (RabbitMQ) implement the same `deliver` contract: the inbox insert is
idempotent by (node, message id), so delivering twice is harmless. A transport may also offer
`deliver_many`, which the dispatcher uses for a batch: one verdict per envelope, in order; and
`committed`, which the outbox calls once a message's transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from django.db import IntegrityError

from tongban import clock
from tongban.exchange.envelope import Envelope
from tongban.exchange.models import InboxMessage
from tongban.exchange.trust import Refused, verify_envelopes_in_stages, warm_envelopes


class Transport(Protocol):
    def deliver(self, envelope: Envelope) -> bool:
        """Deliver; True if the receiver took it for the first time, False for a duplicate."""
        ...


def accept_into_inbox(envelope: Envelope, receiver: str | None = None) -> bool:
    """Verify, then record an incoming envelope once; a duplicate message id is ignored.

    Raises trust.Refused (a code from the closed list) for anything the receiver cannot trust."""
    outcome = accept_many([envelope], receiver)[0]
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def accept_many(envelopes: Sequence[Envelope], receiver: str | None = None) -> list[bool | Refused]:
    """Verify every envelope (the signatures together, on every core) and record the trusted ones, a
    verified part at a time while the next part is still being verified. Per envelope: True, recorded
    now; False, a duplicate; or the Refused it earned. Parts are consecutive, so rows keep the order
    of the envelopes. `receiver` None: each envelope is checked against its own to_node."""
    outcomes: list[bool | Refused] = [False] * len(envelopes)
    for stage in verify_envelopes_in_stages(envelopes, receiver):
        trusted = [index for index, refusal in stage.items() if refusal is None]
        for index, refusal in stage.items():
            if refusal is not None:
                outcomes[index] = refusal
        for index, first_time in zip(trusted, record_in_inbox([envelopes[i] for i in trusted]), strict=True):
            outcomes[index] = first_time
    return outcomes


def record_in_inbox(envelopes: Sequence[Envelope]) -> list[bool]:
    """Insert the envelopes a node has not recorded yet; True for each this call found new (a copy
    another consumer records at the same moment may count as new for both; it is applied once).

    The unique (node, message id) constraint is the duplicate check: ignore_conflicts makes a copy
    that another consumer recorded between the lookup and the insert a no-op, never a second row."""
    if not envelopes:
        return []
    held = set(  # by node too: the unique (node, message id) index answers it
        InboxMessage.objects.filter(
            node__in={e.to_node for e in envelopes}, message_id__in={e.message_id for e in envelopes}
        )
        .order_by()
        .values_list("node", "message_id")
    )
    received_at = clock.now()
    first_time: list[bool] = []
    rows: list[InboxMessage] = []
    for envelope in envelopes:
        key = (envelope.to_node, envelope.message_id)
        first_time.append(key not in held)
        if key in held:
            continue
        held.add(key)  # the same message twice in one batch: the second is a duplicate
        rows.append(_inbox_row(envelope, received_at))
    InboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    _check_recorded(rows)
    return first_time


def _check_recorded(rows: list[InboxMessage]) -> None:
    """ignore_conflicts would also pass over a row the database refused for another reason (SQLite's
    INSERT OR IGNORE skips a failed CHECK): make sure every row is there, or fail the batch, which is
    then taken one message at a time."""
    if not rows:
        return
    present = InboxMessage.objects.filter(
        node__in={row.node for row in rows}, message_id__in={row.message_id for row in rows}
    ).count()
    if present < len(rows):
        raise IntegrityError(f"{len(rows) - present} of {len(rows)} inbox rows were not written")


def _inbox_row(envelope: Envelope, received_at: dt.datetime) -> InboxMessage:
    return InboxMessage(
        message_id=envelope.message_id,
        node=envelope.to_node,
        type=envelope.type,
        from_node=envelope.from_node,
        case_no=envelope.case_no,
        correlation_id=envelope.correlation_id,
        schema_version=envelope.schema_version,
        created_at=envelope.created_at,
        received_at=received_at,
        payload=envelope.payload,
        user=envelope.user,
        represented_party=envelope.represented_party,
        key_id=envelope.key_id,
        signature=envelope.signature,
    )


class InProcessTransport:
    def committed(self, envelope: Envelope) -> None:
        """A message was committed to an outbox of this database and this process dispatches: it will
        deliver the message soon, so its signature can be verified on the other cores now."""
        warm_envelopes([envelope])

    def deliver(self, envelope: Envelope) -> bool:
        return accept_into_inbox(envelope)

    def deliver_many(self, envelopes: Sequence[Envelope]) -> list[bool | Refused]:
        return accept_many(envelopes)
