"""Time-driven work: §32 deemed acceptance, warning refresh, provisional deadlines recomputed.

Runs in the dispatcher loop every minute and as `tongban sweep`; it only ever reads the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from tongban import clock
from tongban.cases.lifecycle import TERMINAL
from tongban.cases.models import Case
from tongban.cases.policy import Acting
from tongban.cases.reporting import report_to_hub
from tongban.cases.services import append_action, lock_case, refresh
from tongban.exchange import trust
from tongban.exchange.exchanges import expire_overdue


@dataclass
class SweepStats:
    deemed_accepted: int = 0
    refreshed: int = 0
    timed_out: int = 0


def sweep(node: str | None = None) -> SweepStats:
    stats = SweepStats()
    stats.deemed_accepted = deem_overdue_acceptances(node)
    stats.refreshed = refresh_open_cases(node)
    stats.timed_out = expire_overdue(node)
    if trust._list_from_elsewhere():
        trust.refresh()  # a node keeps its trust list fresh; past the grace period it refuses messages
    return stats


def deem_overdue_acceptances(node: str | None = None) -> int:
    """No acceptance decision and no 补正 notice within 5 working days: accepted from receipt (§32)."""
    today = clock.today()
    overdue = Case.objects.filter(
        status__in=["received", "forwarded"],
        acceptance_due__lt=today,
        node=F("processing_node"),
        owner_received_at__isnull=False,
    )
    if node:
        overdue = overdue.filter(node=node)
    count = 0
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            case = lock_case(Case(pk=pk))
            if case.status not in ("received", "forwarded") or case.acceptance_due is None:
                continue
            if case.acceptance_due >= today:
                continue
            system = Acting("system", "系统", "system", case.node, case.processing_department_id)
            append_action(
                case, system, "deem_accepted", "受理期限内未作出受理决定，也未一次性告知补正，依法视为受理。", {}
            )
            count += 1
    return count


def refresh_open_cases(node: str | None = None, only_provisional: bool = False) -> int:
    """Re-derive deadlines and warnings of open cases whose cached values have gone stale."""
    cases = Case.objects.exclude(status__in=[*TERMINAL, "draft"])
    if node:
        cases = cases.filter(node=node)
    if only_provisional:
        cases = cases.filter(due_provisional=True)
    changed = 0
    for pk in cases.values_list("pk", flat=True):
        with transaction.atomic():
            case = lock_case(Case(pk=pk))
            if refresh(case, only_if_changed=True):
                changed += 1
                report_to_hub(case)
    return changed


def on_calendar_changed(**kwargs) -> None:
    """A holiday year was loaded: provisional deadlines become final."""
    transaction.on_commit(lambda: refresh_open_cases(only_provisional=True))
