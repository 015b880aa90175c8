"""How a case is shown: one timeline, the four jurisdiction facts, deadlines and warnings.

Personal data is masked by default; a handler of the case sees the applicant's ID number in full,
and that view is audited.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from tongban.audit.log import record as audit
from tongban.audit.models import AuditEntry
from tongban.cases.lifecycle import ACTION_LABELS, FLOW_LABELS, STATUS_LABELS
from tongban.cases.models import Case, Warning
from tongban.cases.policy import allowed_actions, is_applicant, is_party, is_unassigned
from tongban.cases.services import masked_applicant_id
from tongban.catalog.models import Mode
from tongban.catalog.spec import PERSONAL_FIELD_TYPES
from tongban.clock import CHINA_TZ
from tongban.exchange.models import Exchange
from tongban.identity.actors import Actor
from tongban.identity.models import StaffRole
from tongban.masking import mask_field, mask_text
from tongban.regions.models import Department, Node

ROLE_LABELS = {**dict(StaffRole.choices), "applicant": "申请人", "system": "系统"}
MODE_LABELS = dict(Mode.choices)
WARNING_LABELS = dict(Warning.choices)


@lru_cache(maxsize=64)
def node_name(code: str) -> str:
    node = Node.objects.filter(code=code).only("name").first()
    return node.name if node else code


def iso(value) -> str | None:
    """Instants in Beijing time, dates as they are."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA_TZ).isoformat()
    return value.isoformat()


def _department(department_id: int | None) -> dict[str, Any] | None:
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).only("name", "region_id").first()
    return {"id": department_id, "name": department.name, "region": department.region_id} if department else None


def _place(node: str, department_id: int | None) -> dict[str, Any]:
    return {"node": node, "node_name": node_name(node), "department": _department(department_id)}


def _handles(actor: Actor, case: Case) -> bool:
    departments = {case.owner_department_id, case.processing_department_id, case.submitted_department_id} - {None}
    return any(
        b.role in ("window_clerk", "reviewer", "approver") and b.department_id in departments for b in actor.bindings
    )


def reveals_names(actor: Actor, case: Case) -> bool:
    """Names in full for the case's handlers, its applicant and its parties; masked for everyone else."""
    return _handles(actor, case) or is_applicant(actor, case) or is_party(actor, case)


def summary(case: Case, actor: Actor | None = None) -> dict[str, Any]:
    reveal = actor is not None and reveals_names(actor, case)
    # An enterprise's name is not personal data; a person's is.
    name = case.enterprise_name or (case.applicant_name if reveal else mask_text(case.applicant_name))
    return {
        "case_no": case.case_no,
        "node": case.node,
        "item_code": case.item_id,
        "item_name": case.item.name,
        "mode": case.mode,
        "mode_label": MODE_LABELS.get(case.mode, case.mode),
        "flow": case.flow,
        "flow_label": FLOW_LABELS.get(case.flow, case.flow),
        "status": case.status,
        "status_label": STATUS_LABELS.get(case.status, case.status),
        "applicant_name": name,
        "applicant_id_number": masked_applicant_id(case),
        "submitted_node": case.submitted_node,
        "owner_node": case.owner_node,
        "processing_node": case.processing_node,
        "received_at": iso(case.received_at),
        "promised_due": iso(case.promised_due),
        "due_provisional": case.due_provisional,
        "warning": case.warning,
        "warning_label": WARNING_LABELS.get(case.warning, ""),
        "unassigned": is_unassigned(case),
    }


def detail(case: Case, actor: Actor) -> dict[str, Any]:
    full_id = _handles(actor, case) and bool(case.applicant_id_number)
    if full_id:
        audit(
            "tongban.case.personal_data_viewed",
            node=case.node,
            object_type="case",
            object_id=case.case_no,
            actor=actor.username,
            data={"field": "applicant_id_number"},
        )
    names = dict(case.item_version.materials.values_list("code", "name"))
    reveal = reveals_names(actor, case)
    return {
        **summary(case, actor),
        "item": {"code": case.item_id, "name": case.item.name, "version": case.item_version.version},
        "rules_date": case.rules_date.isoformat(),
        "outcome": case.outcome,
        "applicant": {
            "name": case.applicant_name if reveal else mask_text(case.applicant_name),
            "id_number": case.applicant_id_number if full_id else masked_applicant_id(case),
            "enterprise_credit_code": case.enterprise_credit_code,
            "enterprise_name": case.enterprise_name,
        },
        "parties": [
            {
                "label": party.label,
                "name": party.name if reveal else mask_text(party.name),
                "id_number": party.id_number if full_id else mask_field("id_number", party.id_number),
            }
            for party in case.parties.all()
        ],
        "jurisdiction": {
            "submitted": {**_place(case.submitted_node, case.submitted_department_id), "by": case.submitted_by},
            "owner": _place(case.owner_node, case.owner_department_id),
            "processing": _place(case.processing_node, case.processing_department_id),
            "delivery": {"node": case.delivery_node, "node_name": node_name(case.delivery_node)},
        },
        "deadlines": {
            "received_at": iso(case.received_at),
            "owner_received_at": iso(case.owner_received_at),
            "acceptance_due": iso(case.acceptance_due),
            "accepted_at": iso(case.accepted_at),
            "promised_due": iso(case.promised_due),
            "legal_due": iso(case.legal_due),
            "provisional": case.due_provisional,
            "paused_working_days": case.paused_working_days,
            "decided_at": iso(case.decided_at),
        },
        "legs": case.legs_state,
        "current_leg": case.current_leg,
        "form_data": _form_data(case, full_id),
        "materials": [
            {
                "code": m.material_code,
                "name": names.get(m.material_code, m.material_code),
                "filename": m.filename,
                "size": m.size,
                "content_type": m.content_type,
                "sha256": m.sha256,
                "supplement": m.supplement,
            }
            for m in case.materials.all()
        ],
        "timeline": [
            {
                "seq": a.seq,
                "action": a.name,
                "label": ACTION_LABELS.get(a.name, a.name),
                "at": iso(a.at),
                "actor_name": a.actor_name,
                "role": a.role,
                "role_label": ROLE_LABELS.get(a.role, a.role),
                "node": a.node,
                "node_name": node_name(a.node),
                "reason": a.reason,
                "data": a.data,
            }
            for a in case.actions.order_by("seq")
        ],
        "notices": _notices(case),
        "exchanges": _exchanges(case),
        "allowed_actions": [_offered(case, action) for action in allowed_actions(actor, case)],
        "licence_uses": _licence_uses(case),
    }


def _licence_uses(case: Case) -> list[dict[str, Any]]:
    from tongban.licences.uses import use_out

    return [use_out(use, with_preview=False) for use in case.licence_uses.select_related("case").order_by("id")]


def _offered(case: Case, action: str) -> dict[str, Any]:
    if action == "complete_correction":
        # 补正 is completed by sending the supplements the notice lists, not through /actions.
        return {"action": action, "label": "提交补正材料", "path": f"/api/v1/cases/{case.case_no}/supplements"}
    return {"action": action, "label": ACTION_LABELS[action]}


def _form_data(case: Case, handler: bool) -> dict[str, Any]:
    """The form as filed: whole for its handlers; every personal field masked for everyone else."""
    if handler:
        return case.form_data
    personal = {f["name"]: f["type"] for f in case.item_version.form_fields if is_personal(f)}
    return {
        name: mask_field(personal[name], value) if name in personal and isinstance(value, str) and value else value
        for name, value in case.form_data.items()
    }


def is_personal(field: dict[str, Any]) -> bool:
    return bool(field.get("personal")) or field.get("type") in PERSONAL_FIELD_TYPES


def _notices(case: Case) -> list[dict[str, Any]]:
    """Requests this node sent that the holder refused, and exchanges that timed out, with the reason."""
    entries = AuditEntry.objects.filter(
        node=case.node,
        object_type="case",
        object_id=case.case_no,
        code__in=["tongban.case.request_rejected", "tongban.exchange.timed_out"],
    ).order_by("at", "id")
    notices = []
    for entry in entries:
        if entry.code == "tongban.exchange.timed_out":
            code, detail, action = "timeout", f"节点 {entry.data.get('to')} 未在答复期限内答复，可重新发送。", ""
        else:
            code, detail, action = entry.data.get("code"), entry.data.get("detail"), entry.data.get("action", "")
        notices.append(
            {
                "at": iso(entry.at),
                "action": action,
                "label": ACTION_LABELS.get(action, ""),
                "code": code,
                "detail": detail,
            }
        )
    return notices


def _exchanges(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "message_id": str(e.message_id),
            "type": e.type,
            "to_node": e.to_node,
            "state": e.state,
            "state_label": e.get_state_display(),
            "deadline": iso(e.deadline),
            "attempts": e.attempts,
            "error_code": e.error_code,
            "error_detail": e.error_detail,
        }
        for e in Exchange.objects.filter(from_node=case.node, case_no=case.case_no).order_by("created_at", "id")
    ]
