"""Enterprise registration and review: the write functions and who may call them.

An enterprise becomes something its agents can act for only once staff of its domicile province
approve it; until then it is absent from `Actor.enterprises`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.identity.models import Enterprise, EnterpriseAgent, RealNameLevel, StaffBinding, StaffRole
from tongban.identity.validators import validate_credit_code
from tongban.regions.models import Region

REVIEW_ROLES = (StaffRole.REVIEWER, StaffRole.ADMINISTRATOR)
# Minimum assurance for registering an enterprise: the person must at least be basically real-named.
REGISTER_MIN_LEVEL = RealNameLevel.BASIC


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


def review_authority(actor: Actor, enterprise: Enterprise) -> tuple[str, str]:
    """(role, node) under which the actor may review this enterprise, else 403 not_authorized.

    Reviewers and administrators bound to the node of the domicile's province may review; so may a
    platform superuser (the national platform's operators). Nobody reviews an enterprise they act for.
    """
    authority = _province_authority(actor, enterprise)
    if authority is None and actor.account is not None and actor.account.is_superuser:
        authority = StaffRole.ADMINISTRATOR.value, _audit_node(actor)
    if authority is None:
        raise Forbidden("not_authorized", "只有企业住所地所在省份节点的审查员或管理员可以审核该企业。")
    if is_agent(actor, enterprise) or (actor.account is not None and enterprise.registered_by_id == actor.account.pk):
        raise Forbidden("not_authorized", "不能审核本人注册或经办的企业。")
    return authority


def _province_authority(actor: Actor, enterprise: Enterprise) -> tuple[str, str] | None:
    province = (enterprise.domicile_id or "")[:2]
    for binding in actor.bindings_with_role(*REVIEW_ROLES):
        if province and _node_province(binding) == province:
            return binding.role, binding.node_id
    return None


def can_view(actor: Actor, enterprise: Enterprise) -> bool:
    """Agents, staff of the domicile's province and platform superusers see an enterprise's registration."""
    if actor.account is not None and actor.account.is_superuser:
        return True
    province = (enterprise.domicile_id or "")[:2]
    if province and any(_node_province(binding) == province for binding in actor.bindings):
        return True
    return is_agent(actor, enterprise)


@transaction.atomic
def register_enterprise(
    actor: Actor, *, credit_code: str, name: str, domicile_code: str, legal_representative: str = ""
) -> Enterprise:
    """Register an enterprise as PENDING with the caller as its agent."""
    account = actor.account
    if account is None or account.real_name_level < REGISTER_MIN_LEVEL:
        raise Forbidden("real_name_required", "注册企业前请先完成实名认证。")
    code = validate_credit_code(credit_code)
    domicile = Region.objects.filter(code=domicile_code.strip()).first()
    if domicile is None:
        raise DomainError("unknown_region", f"住所地区划代码“{domicile_code}”不存在。")
    if Enterprise.objects.filter(credit_code=code).exists():
        raise _exists(code)
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(
                credit_code=code,
                name=name.strip(),
                domicile=domicile,
                legal_representative=legal_representative.strip(),
                status=Enterprise.Status.PENDING,
                registered_by=account,
            )
    except IntegrityError:
        raise _exists(code) from None
    EnterpriseAgent.objects.create(enterprise=enterprise, account=account, active=True)
    audit.record(
        "tongban.enterprise.registered",
        node=_audit_node(actor),
        object_type="enterprise",
        object_id=code,
        actor=actor.username,
        data={"name": enterprise.name, "domicile": domicile.code},
    )
    return enterprise


def _exists(code: str) -> Conflict:
    return Conflict("enterprise_exists", f"统一社会信用代码为 {code} 的企业已在平台注册。")


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
