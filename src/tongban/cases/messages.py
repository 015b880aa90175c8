"""Handlers for case messages between nodes. Each runs in the transaction that marks the inbox row
applied, so a message's effect and its 'applied' mark commit together (exactly once)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.db import transaction

from tongban import clock
from tongban.audit.log import record as audit
from tongban.cases import blobs
from tongban.cases.lifecycle import next_status
from tongban.cases.models import Case, CaseAction, CaseParty
from tongban.cases.policy import Acting
from tongban.cases.refs import department_id_of, legs_in
from tongban.cases.reporting import report_to_hub
from tongban.cases.services import (
    append_action,
    check_supplement_covers_notice,
    refresh,
    save_materials,
    store_action_materials,
    validate_action_data,
)
from tongban.catalog.models import ItemVersion
from tongban.errors import DomainError
from tongban.exchange import outbox
from tongban.exchange.envelope import Envelope
from tongban.exchange.exchanges import FORWARDED, Rejected
from tongban.exchange.handlers import RetryLater, handles

log = logging.getLogger(__name__)


def _store_blobs(encoded: dict[str, str]) -> None:
    for sha256, content in encoded.items():
        blobs.store_encoded(sha256, content)


@handles("case.created")
def on_case_created(envelope: Envelope) -> None:
    snap = envelope.payload
    node = envelope.to_node
    if Case.objects.filter(node=node, case_no=snap["case_no"]).exists():
        return
    _store_blobs(snap.get("blobs", {}))
    version = ItemVersion.objects.get(item_id=snap["item"], version=snap["item_version"])
    applicant = snap["applicant"]
    first = snap["actions"][0] if snap["actions"] else None
    owner_department = department_id_of(snap["owner_department"])
    case = Case.objects.create(
        node=node,
        case_no=snap["case_no"],
        item_id=snap["item"],
        item_version=version,
        rules_date=dt.date.fromisoformat(snap["rules_date"]),
        mode=snap["mode"],
        submitted_node=snap["submitted_node"],
        submitted_department_id=department_id_of(snap["submitted_department"]),
        submitted_by=snap["submitted_by"],
        owner_node=snap["owner_node"],
        owner_department_id=owner_department,
        processing_node=snap["owner_node"],
        processing_department_id=owner_department,
        delivery_node=snap["delivery_node"],
        participants=snap["participants"],
        applicant_username=applicant["username"],
        applicant_name=applicant["name"],
        applicant_id_number=applicant["id_number"],
        enterprise_credit_code=applicant["enterprise_credit_code"],
        enterprise_name=applicant["enterprise_name"],
        agent_username=applicant["agent_username"],
        form_data=snap["form_data"],
        facts=snap["facts"],
        rules_trace=snap.get("rules_trace", []),
        status="draft",
        received_at=dt.datetime.fromisoformat(first["at"]) if first else None,
        legs_state=legs_in(snap["legs"]),
    )
    case.handler_departments.set([department_id_of(ref) for ref in snap["handler_departments"]])
    CaseParty.objects.bulk_create(
        CaseParty(case=case, label=p["label"], name=p["name"], id_number=p["id_number"])
        for p in snap.get("parties", [])
    )
    save_materials(case, snap["materials"], at=case.received_at or clock.now(), by=case.submitted_by)
    from tongban.licences.uses import receive_uses

    receive_uses(case, snap.get("licence_uses", []))
    for action in snap["actions"]:
        _insert_action(case, action)
    refresh(case)
    report_to_hub(case, snap["actions"][-1]["name"] if snap["actions"] else "")
    audit(
        "tongban.case.received_from_node",
        node=node,
        object_type="case",
        object_id=case.case_no,
        data={"from": envelope.from_node},
    )


def _insert_action(case: Case, action: dict[str, Any]) -> CaseAction:
    row = CaseAction.objects.create(
        case=case,
        seq=action["seq"],
        action_id=uuid.UUID(action["action_id"]),
        name=action["name"],
        at=dt.datetime.fromisoformat(action["at"]),
        actor=action["actor"],
        actor_name=action["actor_name"],
        role=action["role"],
        node=action["node"],
        department_id_ref=department_id_of(action["department"]),
        reason=action["reason"],
        data=action["data"],
    )
    store_action_materials(case, row)
    return row


@handles("case.action")
def on_case_action(envelope: Envelope) -> None:
    action = envelope.payload["action"]
    case = Case.objects.select_for_update().filter(node=envelope.to_node, case_no=envelope.case_no).first()
    if case is None:
        raise RetryLater("办件尚未到达本节点")
    if case.actions.filter(action_id=action["action_id"]).exists():
        return  # already have it
    if action["seq"] != case.action_count + 1:
        raise RetryLater(f"等待第 {case.action_count + 1} 个动作")
    _store_blobs(envelope.payload.get("blobs", {}))
    next_status(case.status, action["name"])  # a replica that cannot follow the log is a defect: fail loudly
    _insert_action(case, action)
    refresh(case)
    report_to_hub(case, action["name"])


REQUESTABLE = frozenset({"withdraw", "complete_correction"})
MAX_HOPS = 3


@handles("case.request")
def on_case_request(envelope: Envelope) -> object:
    """The holder performs an action an applicant asked for at another node, or says why not (the
    answer goes back to the requesting node through `exchange.answer`)."""
    request = envelope.payload
    case = Case.objects.select_for_update().filter(node=envelope.to_node, case_no=envelope.case_no).first()
    if case is None:
        raise RetryLater("办件尚未到达本节点")
    if case.processing_node != case.node and request.get("hops", 0) < MAX_HOPS:
        # The case moved on (e.g. the next 联办 leg) before the requester heard of it: pass it along.
        outbox.send(
            "case.request",
            from_node=case.node,
            to_node=case.processing_node,
            case_no=case.case_no,
            correlation_id=envelope.correlation_id,
            user=envelope.user,  # still the requester's request, made for the same party
            represented_party=envelope.represented_party,
            payload={
                **request,
                "hops": request.get("hops", 0) + 1,
                "origin": request.get("origin", envelope.from_node),
            },
        )
        return FORWARDED
    origin = request.get("origin", envelope.from_node)
    try:
        with transaction.atomic():
            acting = _requesting_actor(case, request, origin)
            next_status(case.status, request["action"])
            _store_blobs(request.get("blobs", {}))
            data = request["data"]
            if request["action"] == "complete_correction":
                check_supplement_covers_notice(case, {m["code"] for m in data.get("materials", [])})
            else:
                data = validate_action_data(case, request["action"], request.get("reason", ""), data)
            append_action(case, acting, request["action"], request.get("reason", ""), data)
    except DomainError as exc:
        return Rejected(exc.code, exc.detail)
    except (KeyError, TypeError, ValueError):
        log.warning("refusing a malformed case.request %s for %s", envelope.message_id, envelope.case_no, exc_info=True)
        return Rejected("request_invalid", "请求内容不完整。")
    return None


def _requesting_actor(case: Case, request: dict, origin: str) -> Acting:
    """The same rule the requesting node applied: the applicant (or an agent of the applying
    enterprise), or the clerk of the window that received the case."""
    if request["action"] not in REQUESTABLE or case.processing_node != case.node:
        raise DomainError("request_misrouted", "该请求不应由本节点办理。")
    if origin not in case.participants:
        raise DomainError("request_misrouted", "该请求不应由本节点办理。")
    actor = request["actor"]
    role = actor["role"]
    if role == "applicant":
        enterprise = actor.get("enterprise_credit_code", "")
        allowed = (
            enterprise == case.enterprise_credit_code
            if case.enterprise_credit_code
            else actor["username"] == case.applicant_username and bool(case.applicant_username)
        )
    elif role == "window_clerk" and request["action"] == "complete_correction":
        # The window hands in supplements for the applicant it served; only the applicant withdraws.
        allowed = (
            origin == case.submitted_node and department_id_of(actor.get("department")) == case.submitted_department_id
        )
    else:
        allowed = False
    if not allowed:
        raise DomainError("not_case_applicant", "请求人不是该办件的申请人或收件窗口。", status=403)
    return Acting(actor["username"], actor["name"], role, actor["node"], department_id_of(actor.get("department")))
