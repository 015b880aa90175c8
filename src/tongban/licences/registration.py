"""存量证照归集: a licence issued before the platform, or by a department's own system (a 不动产权证书
of the registration office, say), registered into the node's licence library by its competent
department's staff — then signed, indexed at the hub, verified and used like any other."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from tongban import clock
from tongban.audit.log import record as audit
from tongban.clock import CHINA_TZ
from tongban.errors import Conflict, DomainError, Forbidden
from tongban.identity.actors import Actor
from tongban.identity.validators import validate_citizen_id, validate_credit_code
from tongban.licences.issuing import Grant, Holder, issue, validity
from tongban.licences.models import HolderKind, Licence, LicenceOperation, LicenceType
from tongban.licences.services import ISSUER_ROLES
from tongban.regions.models import Department

NUMBER_MAX = 64
NAME_MAX = 128
LABEL_MAX = 16
FIELD_MAX = 500
REGISTERED = "存量证照归集"


@dataclass(frozen=True)
class HolderIn:
    name: str
    id_number: str
    label: str = ""


@dataclass(frozen=True)
class Registration:
    """A licence as its paper (or the department's system) shows it."""

    licence_type: str
    number: str
    issued_on: dt.date
    holders: list[HolderIn]
    valid_from: dt.date | None = None  # default: the issue date
    valid_until: dt.date | None = None  # default: from the type's validity rule
    fields: dict[str, str] = field(default_factory=dict)  # the type's KZ_ fields


def do_register_licence(actor: Actor, registration: Registration) -> Licence:
    licence_type = _type(registration.licence_type)
    department = _registering_department(actor, licence_type)
    number = _number(registration.number)
    holders = _holders(licence_type, registration.holders)
    valid_from, valid_until = _validity(licence_type, registration)
    extensions = _fields(licence_type, registration.fields)
    with transaction.atomic():
        taken = Licence.objects.select_for_update().filter(
            node=actor.node, licence_type=licence_type, issuer_department=department, number=number
        )
        if taken.exists():
            raise Conflict(
                "licence_already_registered",
                f"{department.name}编号为 {number} 的{licence_type.name}已归集，不能重复登记。",
            )
        licence = issue(
            licence_type,
            Grant(
                node=str(actor.node),
                department=department,
                holders=holders,
                extensions=extensions,
                operation=LicenceOperation.ISSUE,
                valid_from=valid_from,
                valid_until=valid_until,
                issued_on=registration.issued_on,
                number=number,
                note=f"{REGISTERED}（原证照编号 {number}）",
            ),
            actor=actor.username,
        )
        audit(
            "tongban.licence.registered",
            node=licence.node,
            object_type="licence",
            object_id=licence.identifier,
            actor=actor.username,
            data={"type": licence_type.code, "number": number, "department": department.pk},
        )
    return licence


def _type(code: str) -> LicenceType:
    licence_type = LicenceType.objects.filter(code=(code or "").strip()).first()
    if licence_type is None:
        raise DomainError("licence_type_unknown", f"没有编码为 {code} 的电子证照类型。", status=422)
    return licence_type


def _registering_department(actor: Actor, licence_type: LicenceType) -> Department:
    """The actor's own department at this node, if it is the type's competent department."""
    for binding in actor.bindings:
        department = binding.department
        if (
            binding.role in ISSUER_ROLES
            and department is not None
            and department.function == licence_type.department_function
        ):
            return department
    raise Forbidden(
        "licence_registration_not_permitted",
        f"只有{licence_type.name}主管部门（{licence_type.get_department_function_display()}）在本节点的审查、审批人员可以归集该类证照。",
    )


def _number(number: str) -> str:
    number = (number or "").strip()
    if not number:
        raise DomainError("licence_number_required", "请填写证照上的编号（证照编号）。", status=422)
    if len(number) > NUMBER_MAX:
        raise DomainError("licence_number_too_long", f"证照编号不能超过 {NUMBER_MAX} 个字符。", status=422)
    return number


def _holders(licence_type: LicenceType, given: list[HolderIn]) -> list[Holder]:
    if not given:
        raise DomainError("licence_holder_required", f"请填写{licence_type.name}的持证主体。", status=422)
    if licence_type.holder_kind != "parties" and len(given) > 1:
        raise DomainError("licence_holders_too_many", f"{licence_type.name}只有一个持证主体。", status=422)
    kind = HolderKind.ENTERPRISE if licence_type.holder_kind == "enterprise" else HolderKind.PERSON
    holders = []
    for holder in given:
        name, label = (holder.name or "").strip(), (holder.label or "").strip()
        if not name or len(name) > NAME_MAX or len(label) > LABEL_MAX:
            raise DomainError(
                "licence_holder_invalid", "持证主体的名称必填，且不能超过 128 字；称谓不超过 16 字。", status=422
            )
        number = (
            validate_credit_code(holder.id_number)
            if kind == HolderKind.ENTERPRISE
            else validate_citizen_id(holder.id_number)
        )
        holders.append(Holder(kind, name, number, label))
    if len({h.id_number for h in holders}) != len(holders):
        raise DomainError("licence_holder_invalid", "同一持证主体不能重复填写。", status=422)
    return holders


def _validity(licence_type: LicenceType, registration: Registration) -> tuple[dt.date, dt.date | None]:
    today = clock.now().astimezone(CHINA_TZ).date()
    issued_on = registration.issued_on
    if issued_on > today:
        raise DomainError("licence_dates_invalid", "颁发日期不能晚于今天。", status=422)
    valid_from = registration.valid_from or issued_on
    valid_until = registration.valid_until
    if valid_until is None and licence_type.validity["kind"] in ("years", "months"):
        valid_until = validity(licence_type, valid_from, {})
    if valid_until is not None and valid_until < valid_from:
        raise DomainError("licence_dates_invalid", "有效期截止日期不能早于起始日期。", status=422)
    if valid_until is not None and valid_until < today:
        raise DomainError(
            "licence_already_expired", f"该证照的有效期已于 {valid_until.isoformat()} 届满，不予归集。", status=422
        )
    return valid_from, valid_until


def _fields(licence_type: LicenceType, given: dict[str, str]) -> dict[str, str]:
    known = {e["name"]: e for e in licence_type.extensions}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise DomainError(
            "licence_field_unknown", f"{licence_type.name}没有这些扩展字段：{'、'.join(unknown)}。", status=422
        )
    fields = {name: str(value).strip() for name, value in given.items() if str(value).strip()}
    if any(len(value) > FIELD_MAX for value in fields.values()):
        raise DomainError("licence_field_too_long", f"扩展字段的内容不能超过 {FIELD_MAX} 字。", status=422)
    missing = [e["label"] for name, e in known.items() if e.get("required", True) and name not in fields]
    if missing:
        raise DomainError(
            "licence_field_missing", f"归集{licence_type.name}所需的内容缺失：{'、'.join(missing)}。", status=422
        )
    return fields
