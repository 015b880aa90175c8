"""Case summaries for the national hub (全国办件概况).

The hub keeps no copy of a provincial case: its supervisors follow every node's cases through
summaries that say where a case stands and on which clock, and nothing of who applied or what they
filed. The node that holds the case reports it, in the transaction of the change, through the outbox:
when it appends an action, when it receives an action or a case that leaves the case with it, and
when the sweep moves the case's warning or deadlines. Every change has exactly one such node, so
the hub hears of each once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from tongban import clock
from tongban.cases.models import Case, HubCaseSummary
from tongban.cases.policy import is_unassigned
from tongban.cases.refs import department_refs
from tongban.exchange import outbox
from tongban.exchange.envelope import Envelope
from tongban.exchange.handlers import handles

SUMMARY = "case.summary"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary_payload(case: Case, last_action: str) -> dict[str, Any]:
    """The case without personal data: no names, ID numbers, form, materials or reasons."""
    submitted, owner, processing = department_refs(
        case.submitted_department_id, case.owner_department_id, case.processing_department_id
    )
    return {
        "case_no": case.case_no,
        "as_of": clock.now().isoformat(),
        "action_count": case.action_count,
        "last_action": last_action,
        "item": case.item_id,
        "item_name": case.item.name,
        "item_version": case.item_version.version,
        "mode": case.mode,
        "flow": case.flow,
        "status": case.status,
        "outcome": case.outcome,
        "applicant_type": "enterprise" if case.enterprise_credit_code else "person",
        "submitted_node": case.submitted_node,
        "owner_node": case.owner_node,
        "processing_node": case.processing_node,
        "delivery_node": case.delivery_node,
        "submitted_department": submitted,
        "owner_department": owner,
        "processing_department": processing,
        "received_at": _iso(case.received_at),
        "accepted_at": _iso(case.accepted_at),
        "decided_at": _iso(case.decided_at),
        "promised_due": _iso(case.promised_due),
        "legal_due": _iso(case.legal_due),
        "due_provisional": case.due_provisional,
        "paused_working_days": case.paused_working_days,
        "warning": case.warning,
        "unassigned": is_unassigned(case),
    }


def report_to_hub(case: Case, last_action: str | None = None) -> None:
    """Send the case's summary to the hub if this node holds it. A draft has not left its node."""
    hub = settings.TONGBAN_HUB_NODE
    if case.node == hub or case.processing_node != case.node or case.received_at is None:
        return
    if last_action is None:
        last_action = case.actions.order_by("-seq").values_list("name", flat=True).first() or ""
    payload = summary_payload(case, last_action)
    outbox.send(SUMMARY, from_node=case.node, to_node=hub, case_no=case.case_no, payload=payload)


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _flat(role: str, ref: dict[str, str] | None) -> dict[str, str]:
    return {f"{role}_region": (ref or {}).get("region", ""), f"{role}_function": (ref or {}).get("function", "")}


@handles(SUMMARY)
def on_case_summary(envelope: Envelope) -> None:
    report = envelope.payload
    as_of = dt.datetime.fromisoformat(report["as_of"])
    kept = HubCaseSummary.objects.select_for_update().filter(node=envelope.to_node, case_no=report["case_no"]).first()
    if kept is not None and (kept.action_count, kept.as_of) >= (report["action_count"], as_of):
        return  # reports cross on the way; an older one never overwrites a newer
    values = {
        "reported_by": envelope.from_node,
        "as_of": as_of,
        "action_count": report["action_count"],
        "last_action": report["last_action"],
        "item_code": report["item"],
        "item_name": report["item_name"],
        "item_version": report["item_version"],
        "mode": report["mode"],
        "flow": report["flow"],
        "status": report["status"],
        "outcome": report["outcome"],
        "applicant_type": report["applicant_type"],
        "submitted_node": report["submitted_node"],
        "owner_node": report["owner_node"],
        "processing_node": report["processing_node"],
        "delivery_node": report["delivery_node"],
        **_flat("submitted", report["submitted_department"]),
        **_flat("owner", report["owner_department"]),
        **_flat("processing", report["processing_department"]),
        "received_at": _instant(report["received_at"]),
        "accepted_at": _instant(report["accepted_at"]),
        "decided_at": _instant(report["decided_at"]),
        "promised_due": _date(report["promised_due"]),
        "legal_due": _date(report["legal_due"]),
        "due_provisional": report["due_provisional"],
        "paused_working_days": report["paused_working_days"],
        "warning": report["warning"],
        "unassigned": report["unassigned"],
    }
    if kept is None:
        HubCaseSummary.objects.create(node=envelope.to_node, case_no=report["case_no"], **values)
        return
    for name, value in values.items():
        setattr(kept, name, value)
    kept.save(update_fields=list(values))
