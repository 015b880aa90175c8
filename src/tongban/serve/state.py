"""What the node's database says about its exchange, for `/metrics` and `/readyz`.

Only the states that stay small are counted (waiting, failed, dead, open); the ones that grow with
history (sent, applied, answered) are counters of the processes that made them, so a scrape costs a
few indexed counts whatever the size of the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Min

from tongban import clock
from tongban.exchange.models import Exchange, InboxMessage, OutboxMessage

OUTBOX_COUNTED = [OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED, OutboxMessage.Status.DEAD]
INBOX_COUNTED = [InboxMessage.Status.RECEIVED, InboxMessage.Status.FAILED]
EXCHANGES_COUNTED = [Exchange.State.PENDING, Exchange.State.SENT, Exchange.State.FAILED, Exchange.State.TIMED_OUT]


@dataclass
class ExchangeState:
    outbox: dict[str, int] = field(default_factory=dict)
    outbox_age: float = 0.0  # seconds the oldest message waiting to be sent has waited
    inbox: dict[str, int] = field(default_factory=dict)
    inbox_lag: float = 0.0  # seconds the oldest message received but not applied has waited
    exchanges: dict[str, int] = field(default_factory=dict)


def _counts(queryset, column: str, wanted: list[str]) -> dict[str, int]:
    found = dict(queryset.filter(**{f"{column}__in": wanted}).values_list(column).annotate(n=Count("id")))
    return {str(name): int(found.get(name, 0)) for name in wanted}


def _age(oldest) -> float:
    return max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0


def exchange_state() -> ExchangeState:
    waiting = [OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
    return ExchangeState(
        outbox=_counts(OutboxMessage.objects, "status", OUTBOX_COUNTED),
        outbox_age=_age(OutboxMessage.objects.filter(status__in=waiting).aggregate(m=Min("created_at"))["m"]),
        inbox=_counts(InboxMessage.objects, "status", INBOX_COUNTED),
        inbox_lag=_age(
            InboxMessage.objects.filter(status=InboxMessage.Status.RECEIVED).aggregate(m=Min("received_at"))["m"]
        ),
        exchanges=_counts(Exchange.objects, "state", EXCHANGES_COUNTED),
    )
