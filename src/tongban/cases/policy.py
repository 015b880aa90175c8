"""Who may see and act on which case — the one place where case authorization is decided.

Visibility (architecture principle 4): applicants see their own cases (agents: their approved
enterprises'); window clerks the cases submitted at their window; reviewers and approvers the cases
their department owns or processes at their node; supervisors their region's; administrators
their node's. Every case query in the API goes through `visible_cases`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tongban.cases.lifecycle import ACTION_LABELS, ACTION_RULES, APPLICANT, OWNER_POWERS, SYSTEM, next_status
from tongban.cases.models import Case
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor


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


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """The cases this actor may see at the node the request acts at."""
    cases = Case.objects.all()
    own = Q(applicant_username=actor.username, enterprise_credit_code="")
    credit_codes = [e.credit_code for e in actor.enterprises]
    if credit_codes:
        own |= Q(enterprise_credit_code__in=credit_codes)
    if actor.node is None:
        # An applicant without a node context sees the copies kept where they applied.
        from django.db.models import F

        return cases.filter(own, node=F("submitted_node"))
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
        prefix = _region_prefix(binding.region_id)
        scope = Q(owner_department__region__code__startswith=prefix) | Q(
            submitted_department__region__code__startswith=prefix
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
    if rule.modes is not None and case.mode not in rule.modes:
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
        if action in OWNER_POWERS and case.mode == "proxy" and (actor.node != case.owner_node or not forwarded):
            raise Forbidden(
                "proxy_window_cannot_decide",
                "异地代收窗口只负责形式审查和身份核验，受理、审查和决定由属地部门作出。",
            )
        if actor.node != case.processing_node:
            raise _not_permitted(action)
        department_id = case.processing_department_id
    else:
        department_id = case.submitted_department_id
        if actor.node != case.submitted_node:
            raise _not_permitted(action)
    for binding in actor.bindings:
        if binding.role in rule.roles and department_id is not None and binding.department_id == department_id:
            return Acting(actor.username, actor.name, binding.role, actor.node or "", department_id)
    raise _not_permitted(action)


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
