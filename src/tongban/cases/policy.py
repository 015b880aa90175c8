"""Who may see and act on which case — the one place where case authorization is decided.

Visibility (architecture principle 4): applicants see their own cases (agents: their approved
enterprises'); window clerks the cases submitted at their window; reviewers and approvers the cases
their department owns or processes at their node; supervisors their region's; administrators
their node's. Every case query in the API goes through `visible_cases`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from tongban.cases.lifecycle import (
    ACTION_LABELS,
    ACTION_RULES,
    APPLICANT,
    OWNER_POWERS,
    SYSTEM,
    TERMINAL,
    next_status,
)
from tongban.cases.models import Case
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.identity.models import RealNameLevel, StaffBinding


@dataclass(frozen=True)
class Acting:
    """The capacity in which someone takes an action: recorded on the action and the audit entry."""

    username: str
    name: str
    role: str
    node: str
    department_id: int | None = None


def _region_prefix(code: str) -> str:
    """Codes of everything inside a region share this prefix (370000 → 37, 370100 → 3701)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def is_applicant(actor: Actor, case: Case) -> bool:
    if case.enterprise_credit_code:
        return any(e.credit_code == case.enterprise_credit_code for e in actor.enterprises)
    return bool(case.applicant_username) and case.applicant_username == actor.username


PARTY_MIN_LEVEL = RealNameLevel.VERIFIED


def is_verified_person(actor: Actor) -> bool:
    """A self-declared ID number (level 1) is not enough to see someone else's joint application."""
    account = actor.account
    return account is not None and bool(account.id_number) and account.real_name_level >= PARTY_MIN_LEVEL


def is_party(actor: Actor, case: Case) -> bool:
    return is_verified_person(actor) and case.parties.filter(id_number=actor.account.id_number).exists()


# The posts that work a case where it is held; a department with none of them has nobody to do it.
HANDLER_ROLES = ("window_clerk", "reviewer", "approver")


def _handler_posts(node: Any, department: Any) -> QuerySet[StaffBinding]:
    return StaffBinding.objects.filter(node_id=node, department_id=department, active=True, role__in=HANDLER_ROLES)


def _held_open_here(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.filter(processing_node=F("node")).exclude(status__in=(*TERMINAL, "draft"))


def unassigned_cases(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Open cases held at their node by a department nobody there is posted to (the administrators' queue)."""
    return _held_open_here(cases).filter(
        ~Exists(_handler_posts(OuterRef("node"), OuterRef("processing_department_id")))
    )


def with_unassigned(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate each case with `has_handlers`, so a list asks once rather than once per row."""
    return cases.annotate(has_handlers=Exists(_handler_posts(OuterRef("node"), OuterRef("processing_department_id"))))


def is_unassigned(case: Case) -> bool:
    if case.processing_node != case.node or case.status in TERMINAL or case.status == "draft":
        return False
    has_handlers = getattr(case, "has_handlers", None)
    if has_handlers is None:
        has_handlers = _handler_posts(case.node, case.processing_department_id).exists()
    return not has_handlers


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """The cases this actor may see at the node the request acts at."""
    cases = Case.objects.all()
    own = Q(applicant_username=actor.username, enterprise_credit_code="")
    credit_codes = [e.credit_code for e in actor.enterprises]
    if credit_codes:
        own |= Q(enterprise_credit_code__in=credit_codes)
    if is_verified_person(actor):
        # Every party of a joint application follows it, once the platform has verified who they are.
        own |= Q(parties__id_number=actor.account.id_number)
    if actor.node is None:
        # An applicant without a node context sees the copies kept where they applied.
        return cases.filter(own, node=F("submitted_node")).distinct()
    cases = cases.filter(node=actor.node)
    allowed = own
    for binding in actor.bindings:
        allowed |= _staff_scope(binding)
    return cases.filter(allowed).distinct()


def _staff_scope(binding) -> Q:
    role = binding.role
    if role == "window_clerk":
        return Q(submitted_department_id=binding.department_id) if binding.department_id else Q(pk__in=[])
    if role in ("reviewer", "approver"):
        return Q(handler_departments=binding.department_id) if binding.department_id else Q(pk__in=[])
    if role == "supervisor":
        if binding.region_id is None:
            return Q(pk__in=[])  # the hub's supervisors follow cases through summaries (cases.reporting)
        prefix = _region_prefix(binding.region_id)
        # Every case a department of the region handled: as owner, as the accepting window, or one leg.
        scope = (
            Q(owner_department__region__code__startswith=prefix)
            | Q(submitted_department__region__code__startswith=prefix)
            | Q(handler_departments__region__code__startswith=prefix)
        )
        if binding.region_id.endswith("0000"):
            # A provincial supervisor also follows what applicants submitted online at their platform.
            scope |= Q(submitted_node=binding.node_id)
        return scope
    if role == "administrator":
        return Q(pk__isnull=False)
    return Q(pk__in=[])


def find_visible_case(actor: Actor, case_no: str) -> Case:
    case = visible_cases(actor).filter(case_no=case_no).select_related("item", "item_version").first()
    if case is None:
        raise NotFound("case_not_found", f"办件不存在或您无权查看：{case_no}")
    return case


def authorize(actor: Actor, case: Case, action: str) -> Acting:
    """Check that `actor` may take `action` on `case` now; return the capacity in which they act."""
    rule = ACTION_RULES.get(action)
    if rule is None:
        raise DomainError("action_unknown", f"未知的办件动作：{action}", status=422)
    if rule.modes is not None and case.flow not in rule.modes:
        raise Conflict("action_not_for_mode", f"“{ACTION_LABELS[action]}”不适用于该办理模式。")
    if SYSTEM in rule.roles and rule.roles == {SYSTEM}:
        raise Forbidden("action_not_permitted", f"“{ACTION_LABELS[action]}”由系统自动执行，不能手工操作。")
    acting = _capacity(actor, case, action, rule)
    next_status(case.status, action)
    return acting


def _capacity(actor: Actor, case: Case, action: str, rule) -> Acting:
    if APPLICANT in rule.roles and is_applicant(actor, case):
        return Acting(actor.username, actor.name, APPLICANT, actor.node or case.submitted_node)
    if rule.where == "window":
        department_id = case.submitted_department_id
        if actor.node != case.submitted_node:
            raise _not_permitted(action)
    elif rule.where == "holder":
        # The window keeps no power to decide, even when it sits in the owner's province: until the
        # case is forwarded the holder is the window, not the owning department.
        forwarded = case.processing_department_id == case.owner_department_id
        if action in OWNER_POWERS and case.flow == "proxy" and (actor.node != case.owner_node or not forwarded):
            raise _not_forwarded_yet(actor, case)
        if actor.node != case.processing_node:
            raise _not_permitted(action)
        department_id = case.processing_department_id
    else:
        department_id = case.submitted_department_id
        if actor.node != case.submitted_node:
            raise _not_permitted(action)
    posts = {b.role for b in actor.bindings if department_id is not None and b.department_id == department_id}
    if action == "decide_on_the_spot" and posts and not {"reviewer", "approver"} <= posts:
        raise Forbidden("both_posts_required", "当场办结须由在本部门同时担任审查员和审批人岗位的工作人员办理。")
    # A result sent back to the accepting window is handed over by its clerks, and by nobody else.
    roles = {"window_clerk"} if case.status == "sent_to_window" else rule.roles
    for binding in actor.bindings:
        if binding.role in roles and department_id is not None and binding.department_id == department_id:
            return Acting(actor.username, actor.name, binding.role, actor.node or "", department_id)
    raise _not_permitted(action)


def _not_forwarded_yet(actor: Actor, case: Case) -> Forbidden:
    if actor.node == case.owner_node and any(b.department_id == case.owner_department_id for b in actor.bindings):
        # Addressed to the owner: the case is still at the window in the other province.
        return Forbidden(
            "proxy_window_cannot_decide",
            "该办件尚在异地受理窗口，窗口完成形式审查和身份核验并转报后，本部门方可受理、审查和作出决定。",
        )
    return Forbidden(
        "proxy_window_cannot_decide",
        "异地代收窗口只负责形式审查和身份核验，受理、审查和决定由属地部门作出。",
    )


def _not_permitted(action: str) -> Forbidden:
    return Forbidden("action_not_permitted", f"您在当前节点和岗位无权执行“{ACTION_LABELS[action]}”。")


def allowed_actions(actor: Actor, case: Case) -> list[str]:
    """The actions this actor could take now (for the UI); each is re-checked when taken."""
    result = []
    for action in ACTION_RULES:
        try:
            authorize(actor, case, action)
        except DomainError:
            continue
        result.append(action)
    return result
