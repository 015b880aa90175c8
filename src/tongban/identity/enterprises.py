"""Enterprise registration, review and agents: the write functions and who may call them.

An enterprise becomes something its agents can act for only once it is approved: by a reviewer or
approver of the department function that `content/identity/enterprise-review.yaml` names, posted at
the node of the domicile's province — or directly, when an establishment case (设立登记) is approved
(`establish_enterprise`). Until then it is absent from `Actor.enterprises`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.identity.models import (
    Account,
    Enterprise,
    EnterpriseAgent,
    RealNameLevel,
    StaffBinding,
    StaffRole,
)
from tongban.identity.validators import validate_citizen_id, validate_credit_code
from tongban.regions.models import DepartmentFunction, Region

REVIEW_ROLES = (StaffRole.REVIEWER, StaffRole.APPROVER)
# Minimum assurance for registering an enterprise: the person must at least be basically real-named.
REGISTER_MIN_LEVEL = RealNameLevel.BASIC
# L1 is self-declared at registration; acting as the legal representative needs a verified identity.
LEGAL_REPRESENTATIVE_MIN_LEVEL = RealNameLevel.VERIFIED
AGENT_MIN_LEVEL = RealNameLevel.BASIC


# ---- which department reviews (content) ---------------------------------------------------------


class ReviewContentError(Exception):
    """content/identity/enterprise-review.yaml is missing or wrong; the message says how."""


@dataclass(frozen=True)
class ReviewPolicy:
    functions: tuple[str, ...]
    source: str
    unverified: tuple[str, ...]

    @property
    def label(self) -> str:
        return "、".join(DepartmentFunction(function).label for function in self.functions)


def review_policy_path() -> Path:
    return Path(settings.CONTENT_DIR) / "identity" / "enterprise-review.yaml"


def review_policy() -> ReviewPolicy:
    return _read_policy(str(review_policy_path()))


@functools.cache
def _read_policy(path: str) -> ReviewPolicy:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ReviewContentError(f"{path}：无法读取企业注册审核部门：{error}") from None
    functions = data.get("functions") if isinstance(data, dict) else None
    if not isinstance(functions, list) or not functions:
        raise ReviewContentError(f"{path}：functions 应为非空的部门职能代码列表。")
    unknown = [str(f) for f in functions if f not in DepartmentFunction.values]
    if unknown:
        raise ReviewContentError(f"{path}：未知的部门职能：{'、'.join(unknown)}。")
    if not str(data.get("source") or "").strip():
        raise ReviewContentError(f"{path}：缺少来源（source）。")
    return ReviewPolicy(
        functions=tuple(str(f) for f in functions),
        source=str(data["source"]).strip(),
        unverified=tuple(str(u) for u in data.get("unverified") or []),
    )


# ---- lookups and visibility -------------------------------------------------------------------------


def _node_province(binding: StaffBinding) -> str:
    node = binding.node
    return (node.region_id or node.code)[:2]


def _audit_node(actor: Actor) -> str:
    return actor.node or settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE


def get_enterprise(credit_code: str, *, for_update: bool = False) -> Enterprise:
    code = validate_credit_code(credit_code)
    query = Enterprise.objects.select_related("domicile")
    if for_update:
        query = query.select_for_update(of=("self",))  # not the joined domicile (nullable on PostgreSQL)
    enterprise = query.filter(credit_code=code).first()
    if enterprise is None:
        raise NotFound("enterprise_not_found", f"统一社会信用代码为 {code} 的企业尚未在平台注册。")
    return enterprise


def is_agent(actor: Actor, enterprise: Enterprise) -> bool:
    """An active agent, whatever the enterprise's review status (for viewing, not for acting)."""
    if actor.account is None:
        return False
    return EnterpriseAgent.objects.filter(enterprise=enterprise, account=actor.account, active=True).exists()


def is_legal_representative(actor: Actor, enterprise: Enterprise) -> bool:
    """The verified account whose ID number is the one recorded for the legal representative."""
    account = actor.account
    return (
        account is not None
        and bool(enterprise.legal_representative_id_number)
        and account.id_number == enterprise.legal_representative_id_number
        and account.real_name_level >= LEGAL_REPRESENTATIVE_MIN_LEVEL
    )


def can_view(actor: Actor, enterprise: Enterprise) -> bool:
    """Agents, the legal representative, staff of the domicile's province and platform superusers."""
    if actor.account is not None and actor.account.is_superuser:
        return True
    province = (enterprise.domicile_id or "")[:2]
    if province and any(_node_province(binding) == province for binding in actor.bindings):
        return True
    return is_agent(actor, enterprise) or is_legal_representative(actor, enterprise)


# ---- review ------------------------------------------------------------------------------------------


def _reviewer_bindings(actor: Actor) -> list[StaffBinding]:
    functions = review_policy().functions
    return [
        binding
        for binding in actor.bindings_with_role(*REVIEW_ROLES)
        if binding.department is not None and binding.department.function in functions
    ]


def _is_own(actor: Actor, enterprise: Enterprise) -> bool:
    account = actor.account
    return account is not None and (enterprise.registered_by_id == account.pk or is_agent(actor, enterprise))


def review_authority(actor: Actor, enterprise: Enterprise) -> tuple[str, str]:
    """(role, node) under which the actor may review this enterprise, else 403 not_authorized.

    Reviewers and approvers of the reviewing function's departments, posted at the node of the
    domicile's province, may review; so may a platform superuser (the national platform's operators).
    Nobody reviews an enterprise they registered or act for.
    """
    province = (enterprise.domicile_id or "")[:2]
    authority = next(
        (
            (binding.role, binding.node_id)
            for binding in _reviewer_bindings(actor)
            if province and _node_province(binding) == province
        ),
        None,
    )
    if authority is None and actor.account is not None and actor.account.is_superuser:
        authority = StaffRole.ADMINISTRATOR.value, _audit_node(actor)
    if authority is None:
        raise Forbidden(
            "not_authorized",
            f"只有企业住所地所在省份节点{review_policy().label}部门的审查员或审批人可以审核该企业。",
        )
    if _is_own(actor, enterprise):
        raise Forbidden("not_authorized", "不能审核本人注册或经办的企业。")
    return authority


def reviewable(actor: Actor) -> QuerySet[Enterprise]:
    """The enterprises this actor may review (any status), newest registration first; else 403."""
    account = actor.account
    query = Enterprise.objects.select_related("domicile")
    if account is None or not account.is_superuser:
        provinces = {_node_province(binding) for binding in _reviewer_bindings(actor)}
        if not provinces:
            raise Forbidden("not_authorized", f"只有{review_policy().label}部门的审查员或审批人可以查看待审核的企业。")
        scope = Q()
        for province in sorted(provinces):
            scope |= Q(domicile__code__startswith=province)
        query = query.filter(scope)
    if account is not None:
        own = EnterpriseAgent.objects.filter(account=account, active=True).values("enterprise_id")
        query = query.exclude(registered_by=account).exclude(pk__in=own)
    return query.order_by("-registered_at", "-id")


@transaction.atomic
def review_enterprise(actor: Actor, credit_code: str, *, approve: bool, note: str = "") -> Enterprise:
    """Approve or reject a pending enterprise; a rejection must give its reason."""
    enterprise = get_enterprise(credit_code, for_update=True)
    role, node = review_authority(actor, enterprise)
    if enterprise.status != Enterprise.Status.PENDING:
        raise Conflict(
            "enterprise_already_reviewed",
            f"该企业已审核（{enterprise.get_status_display()}），不能重复审核。",
        )
    note = note.strip()
    if not approve and not note:
        raise DomainError("review_note_required", "不予通过时须填写审核意见，说明理由。", status=422)
    enterprise.status = Enterprise.Status.APPROVED if approve else Enterprise.Status.REJECTED
    enterprise.reviewed_by = actor.account
    enterprise.reviewed_at = clock.now()
    enterprise.review_note = note
    enterprise.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit.record(
        "tongban.enterprise.approved" if approve else "tongban.enterprise.rejected",
        node=node,
        object_type="enterprise",
        object_id=enterprise.credit_code,
        actor=actor.username,
        role=role,
        data={"name": enterprise.name, "note": note},
    )
    return enterprise


# ---- registration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseFields:
    """An enterprise's registration data, checked and normalised."""

    credit_code: str
    name: str
    domicile: Region
    legal_representative: str
    legal_representative_id_number: str


def check_fields(
    *,
    credit_code: str,
    name: str,
    domicile_code: str,
    legal_representative: str = "",
    legal_representative_id_number: str = "",
) -> EnterpriseFields:
    """Validate the registration data without writing anything (also used before creating an account)."""
    code = validate_credit_code(credit_code)
    if not name.strip():
        raise DomainError("enterprise_name_required", "请填写企业名称。")
    domicile = Region.objects.filter(code=domicile_code.strip()).first()
    if domicile is None:
        raise DomainError("unknown_region", f"住所地区划代码“{domicile_code}”不存在。")
    number = legal_representative_id_number.strip()
    return EnterpriseFields(
        credit_code=code,
        name=name.strip(),
        domicile=domicile,
        legal_representative=legal_representative.strip(),
        legal_representative_id_number=validate_citizen_id(number) if number else "",
    )


def _create(fields: EnterpriseFields, *, status: str, registered_by: Account | None, **review: object) -> Enterprise:
    if Enterprise.objects.filter(credit_code=fields.credit_code).exists():
        raise _exists(fields.credit_code)
    try:
        with transaction.atomic():
            return Enterprise.objects.create(
                credit_code=fields.credit_code,
                name=fields.name,
                domicile=fields.domicile,
                legal_representative=fields.legal_representative,
                legal_representative_id_number=fields.legal_representative_id_number,
                status=status,
                registered_by=registered_by,
                registered_at=clock.now(),
                **review,
            )
    except IntegrityError:
        raise _exists(fields.credit_code) from None


@transaction.atomic
def register_enterprise(
    actor: Actor,
    *,
    credit_code: str,
    name: str,
    domicile_code: str,
    legal_representative: str = "",
    legal_representative_id_number: str = "",
) -> Enterprise:
    """Register an enterprise as PENDING with the caller as its agent."""
    account = actor.account
    if account is None or account.real_name_level < REGISTER_MIN_LEVEL:
        raise Forbidden("real_name_required", "注册企业前请先完成实名认证。")
    fields = check_fields(
        credit_code=credit_code,
        name=name,
        domicile_code=domicile_code,
        legal_representative=legal_representative,
        legal_representative_id_number=legal_representative_id_number,
    )
    enterprise = _create(fields, status=Enterprise.Status.PENDING, registered_by=account)
    EnterpriseAgent.objects.create(enterprise=enterprise, account=account, active=True)
    audit.record(
        "tongban.enterprise.registered",
        node=_audit_node(actor),
        object_type="enterprise",
        object_id=enterprise.credit_code,
        actor=actor.username,
        data={"name": enterprise.name, "domicile": fields.domicile.code},
    )
    return enterprise


def _exists(code: str) -> Conflict:
    return Conflict("enterprise_exists", f"统一社会信用代码为 {code} 的企业已在平台注册。")


def establish_enterprise(
    *,
    credit_code: str,
    name: str,
    domicile_code: str,
    legal_representative: str,
    agent: Account | None,
    decided_by: str,
    node: str,
    case_no: str,
    legal_representative_id_number: str = "",
) -> Enterprise:
    """The enterprise an approved establishment case (设立登记) brings into being, already approved.

    Called from the case decision, inside its transaction: the savepoint below undoes this function's
    writes on a conflict, and the caller's transaction commits or rolls back the rest. Without an
    agent (a window applicant with no account), the legal representative's ID number lets their own
    verified account bind agents later.
    """
    fields = check_fields(
        credit_code=credit_code,
        name=name,
        domicile_code=domicile_code,
        legal_representative=legal_representative,
        legal_representative_id_number=legal_representative_id_number,
    )
    with transaction.atomic():
        enterprise = _create(
            fields,
            status=Enterprise.Status.APPROVED,
            registered_by=agent,
            reviewed_by=None,
            reviewed_at=clock.now(),
            review_note=f"设立登记办件 {case_no} 核准",
        )
        if agent is not None:  # a window applicant without an account binds agents later
            EnterpriseAgent.objects.create(enterprise=enterprise, account=agent, active=True)
        audit.record(
            "tongban.enterprise.established",
            node=node,
            object_type="enterprise",
            object_id=enterprise.credit_code,
            actor=decided_by,
            data={
                "name": enterprise.name,
                "domicile": fields.domicile.code,
                "case_no": case_no,
                "agent": agent.username if agent is not None else "",
            },
        )
    return enterprise


# ---- agents --------------------------------------------------------------------------------------


def agent_authority(actor: Actor, enterprise: Enterprise) -> str:
    """ "agent" or "representative" (the legal representative): the capacity in which the actor manages agents."""
    if is_agent(actor, enterprise):
        capacity = "agent"
    elif is_legal_representative(actor, enterprise):
        capacity = "representative"
    else:
        raise Forbidden("not_authorized", "只有企业的经办人或经过实人核验的法定代表人本人可以管理经办人。")
    if enterprise.status != Enterprise.Status.APPROVED:
        raise Conflict(
            "enterprise_not_approved",
            f"企业尚未审核通过（{enterprise.get_status_display()}），审核通过后才能管理经办人。",
        )
    return capacity


def agents(actor: Actor, credit_code: str) -> list[EnterpriseAgent]:
    """Every agent link, active first: for those who may view the enterprise."""
    enterprise = get_enterprise(credit_code)
    if not can_view(actor, enterprise):
        raise Forbidden("not_authorized", "只有企业经办人、法定代表人和住所地所在省份的工作人员可以查看经办人。")
    query = EnterpriseAgent.objects.filter(enterprise=enterprise).select_related("account")
    return list(query.order_by("-active", "account__username"))


@transaction.atomic
def add_agent(actor: Actor, credit_code: str, *, username: str, id_number: str) -> EnterpriseAgent:
    """Bind an account as an active agent; the username and ID number must name the same account."""
    enterprise = get_enterprise(credit_code, for_update=True)
    capacity = agent_authority(actor, enterprise)
    number = validate_citizen_id(id_number)
    account = Account.objects.filter(username=username.strip(), id_number=number, is_active=True).first()
    if account is None:
        # One answer for an unknown username and a mismatched ID number: nothing to probe.
        raise NotFound("account_not_found", "没有用户名与公民身份号码相符的有效账号。")
    if account.real_name_level < AGENT_MIN_LEVEL:
        raise DomainError("agent_real_name_required", "该账号尚未实名认证，不能成为企业经办人。", status=422)
    link = EnterpriseAgent.objects.filter(enterprise=enterprise, account=account).first()
    if link is not None and link.active:
        raise Conflict("agent_exists", f"{account.username} 已是该企业的经办人。")
    if link is None:
        link = EnterpriseAgent.objects.create(enterprise=enterprise, account=account, active=True)
    else:
        link.active = True
        link.save(update_fields=["active"])
    _audit_agent(actor, enterprise, capacity, "tongban.enterprise.agent_added", account)
    return link


@transaction.atomic
def remove_agent(actor: Actor, credit_code: str, *, username: str) -> None:
    """Unbind an agent (the link stays, inactive); an enterprise keeps at least one agent."""
    enterprise = get_enterprise(credit_code, for_update=True)
    capacity = agent_authority(actor, enterprise)
    active = EnterpriseAgent.objects.filter(enterprise=enterprise, active=True).select_related("account")
    link = active.filter(account__username=username).first()
    if link is None:
        raise NotFound("agent_not_found", f"{username} 不是该企业的经办人。")
    if not active.exclude(pk=link.pk).exists():
        raise Conflict("last_agent", "不能移除企业的最后一名经办人；请先添加新的经办人。")
    link.active = False
    link.save(update_fields=["active"])
    _audit_agent(actor, enterprise, capacity, "tongban.enterprise.agent_removed", link.account)


def _audit_agent(actor: Actor, enterprise: Enterprise, capacity: str, code: str, agent: Account) -> None:
    audit.record(
        code,
        node=_audit_node(actor),
        object_type="enterprise",
        object_id=enterprise.credit_code,
        actor=actor.username,
        role=capacity,
        data={"agent": agent.username},
    )
