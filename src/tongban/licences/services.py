"""Finding a licence and changing its state (暂扣、发还、撤销、注销、吊销) — by the issuing department only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from tongban import clock
from tongban.audit.log import record as audit
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.identity.models import RealNameLevel
from tongban.licences import directory
from tongban.licences.identifiers import parse_identifier
from tongban.licences.models import Licence, LicenceEvent, LicenceState

REASON_MAX = 500
ISSUER_ROLES = ("reviewer", "approver")


@dataclass(frozen=True)
class StateAction:
    label: str
    operation: str
    from_states: frozenset[str]
    to_state: str


_LIVE = frozenset({LicenceState.VALID, LicenceState.SUSPENDED})
STATE_ACTIONS = {
    "suspend": StateAction("暂扣", "03", frozenset({LicenceState.VALID}), LicenceState.SUSPENDED),
    "return": StateAction("暂扣发还", "06", frozenset({LicenceState.SUSPENDED}), LicenceState.VALID),
    "revoke": StateAction("撤销", "07", _LIVE, LicenceState.REVOKED),
    "cancel": StateAction("注销", "05", _LIVE, LicenceState.CANCELLED),
    "withdraw": StateAction("吊销", "07", _LIVE, LicenceState.WITHDRAWN),
}


def find_licence(identifier: str) -> Licence:
    """The licence kept at this deployment; `invalid_licence_identifier` for a malformed one."""
    parse_identifier(identifier)
    licence = Licence.objects.select_related("licence_type").filter(identifier=identifier.strip()).first()
    if licence is None:
        raise NotFound("licence_not_found", f"没有标识为 {identifier} 的电子证照。")
    return licence


def is_issuer_staff(actor: Actor, licence: Licence) -> bool:
    return actor.node == licence.node and any(
        b.role in ISSUER_ROLES and b.department_id == licence.issuer_department_id for b in actor.bindings
    )


def holder_numbers(actor: Actor) -> set[str]:
    """The numbers a licence names its holder by that stand for this actor: their own ID number once
    verified at level 2 or higher, and the credit codes of the enterprises they act for."""
    numbers = {e.credit_code for e in actor.enterprises}
    account = actor.account
    if account is not None and account.id_number and account.real_name_level >= RealNameLevel.VERIFIED:
        numbers.add(account.id_number)
    return numbers


def is_holder(actor: Actor, licence: Licence) -> bool:
    mine = holder_numbers(actor)
    return any(holder.id_number in mine for holder in licence.holders.all())


def visible_licence(actor: Actor, identifier: str) -> Licence:
    licence = find_licence(identifier)
    if not (is_holder(actor, licence) or is_issuer_staff(actor, licence)):
        raise NotFound("licence_not_found", f"没有标识为 {identifier} 的电子证照，或您无权查看。")
    return licence


def do_licence_action(actor: Actor, identifier: str, action: str, reason: str) -> Licence:
    rule = STATE_ACTIONS.get(action)
    if rule is None:
        shown = "、".join(f"{code}（{r.label}）" for code, r in STATE_ACTIONS.items())
        raise DomainError("licence_action_unknown", f"未知的证照操作：{action}。可选：{shown}。", status=422)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", f"{rule.label}电子证照须写明理由。", status=422)
    if len(reason) > REASON_MAX:
        raise DomainError("reason_too_long", f"理由不能超过 {REASON_MAX} 字。", status=422)
    with transaction.atomic():
        licence = find_licence(identifier)
        licence = Licence.objects.select_for_update().select_related("licence_type").get(pk=licence.pk)
        if not is_issuer_staff(actor, licence):
            raise Forbidden(
                "licence_action_not_permitted",
                f"只有颁发机构（{licence.issuer_name}）在签发节点的审查、审批人员可以{rule.label}该证照。",
            )
        if licence.state not in rule.from_states:
            raise Conflict(
                "licence_action_not_allowed_in_state",
                f"证照当前状态为“{licence.get_state_display()}”，不能{rule.label}。",
            )
        now = clock.now()
        LicenceEvent.objects.create(
            licence=licence,
            operation=rule.operation,
            at=now,
            actor=actor.username,
            from_state=licence.state,
            to_state=rule.to_state,
            reason=reason,
        )
        before = licence.state
        licence.state, licence.state_reason, licence.state_changed_at = rule.to_state, reason, now
        licence.save(update_fields=["state", "state_reason", "state_changed_at"])
        directory.report(licence)
        audit(
            f"tongban.licence.{action}",
            node=licence.node,
            object_type="licence",
            object_id=licence.identifier,
            actor=actor.username,
            data={"from": before, "to": rule.to_state, "reason": reason},
        )
    return licence
