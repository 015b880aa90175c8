"""Issuing a licence with the decision that approves its case, and signing it.

The licence is written in the decision's transaction: if anything here fails (a field the type
requires is missing, no holder can be named), the decision does not commit either.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F

from tongban import clock
from tongban.audit.log import record as audit
from tongban.cases.models import Case
from tongban.catalog.spec import RESULT_OPERATIONS
from tongban.clock import CHINA_TZ
from tongban.crypto import sign
from tongban.errors import Conflict, DomainError
from tongban.exchange.envelope import canonical_json
from tongban.exchange.trust import signing_key
from tongban.licences import directory
from tongban.licences.identifiers import make_identifier
from tongban.licences.models import (
    HolderKind,
    Licence,
    LicenceEvent,
    LicenceHolder,
    LicenceSerialCounter,
    LicenceState,
    LicenceType,
)
from tongban.regions.models import Department

ID_KINDS = {HolderKind.PERSON: "公民身份号码", HolderKind.ENTERPRISE: "统一社会信用代码"}
OPEN_ENDED = "长期"


@dataclass(frozen=True)
class Holder:
    kind: str
    name: str
    id_number: str
    label: str = ""


def issue_for_decision(case: Case, *, actor: str, department_id: int | None, established: dict | None) -> list[dict]:
    """The licences an approval of `case` issues (at most one today), as recorded in the decision."""
    code = case.item_version.licence_type_code(case.form_data)
    if code is None:
        return []
    licence_type = LicenceType.objects.get(code=code)
    department = Department.objects.get(pk=department_id or case.owner_department_id)
    values = _sources(case, established)
    issued_on = clock.now().astimezone(CHINA_TZ).date()
    licence = issue(
        licence_type,
        Grant(
            node=case.node,
            department=department,
            holders=_holders(licence_type, case, established),
            extensions=extension_fields(licence_type, values),
            operation=RESULT_OPERATIONS[case.item_version.result_operation],
            valid_from=issued_on,
            valid_until=validity(licence_type, issued_on, values),
            case_no=case.case_no,
            item_code=case.item_id,
        ),
        actor=actor,
    )
    return [{"identifier": licence.identifier, "type": licence_type.code, "name": licence_type.name}]


def _sources(case: Case, established: dict | None) -> dict[str, str]:
    values = {f"form.{name}": value for name, value in case.form_data.items()}
    values |= {f"established.{name}": value for name, value in (established or {}).items()}
    return {key: _face_text(value) for key, value in values.items() if value not in (None, "", [])}


def _face_text(value: Any) -> str:
    """A form value as a licence's face shows it: 是/否 for a yes/no answer, a list joined by 、."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v).strip() for v in value)
    return str(value).strip()


def _holders(licence_type: LicenceType, case: Case, established: dict | None) -> list[Holder]:
    kind = licence_type.holder_kind
    if kind == "enterprise":
        new = established or {}
        code = new.get("credit_code") or case.enterprise_credit_code or case.form_data.get("credit_code")
        name = new.get("name") or case.enterprise_name or _enterprise_name_in_form(case)
        if not code or not name:
            raise Conflict(
                "licence_holder_unknown", f"无法确定{licence_type.name}的持证企业（名称和统一社会信用代码）。"
            )
        return [Holder(HolderKind.ENTERPRISE, str(name), str(code))]
    if kind == "parties":
        parties = [Holder(HolderKind.PERSON, p.name, p.id_number, p.label) for p in case.parties.all()]
        if parties:
            return parties
    if not case.applicant_name or not case.applicant_id_number:
        raise Conflict("licence_holder_unknown", f"无法确定{licence_type.name}的持证人（姓名和公民身份号码）。")
    return [Holder(HolderKind.PERSON, case.applicant_name, case.applicant_id_number)]


def _enterprise_name_in_form(case: Case) -> str:
    bound = [f["name"] for f in case.item_version.form_fields if f.get("binds") == "enterprise_name"]
    return str(case.form_data.get(bound[0], "")) if bound else ""


def extension_fields(licence_type: LicenceType, values: dict[str, str]) -> dict[str, str]:
    """The type's KZ_ fields from `values` (keyed by source: `form.<field>`, `established.<name>`)."""
    fields: dict[str, str] = {}
    missing: list[str] = []
    for extension in licence_type.extensions:
        value = next((values[source] for source in extension["source"] if source in values), "")
        if value:
            fields[extension["name"]] = value
        elif extension.get("required", True):
            missing.append(extension["label"])
    if missing:
        raise DomainError(
            "licence_field_missing",
            f"签发{licence_type.name}所需的内容缺失：{'、'.join(missing)}。",
            status=422,
        )
    return fields


def validity(licence_type: LicenceType, issued_on: dt.date, values: dict[str, str]) -> dt.date | None:
    """The last day of validity, or None for a licence valid without limit (长期)."""
    rule = licence_type.validity
    if rule["kind"] == "years":
        years = int(rule["years"])
        when = rule.get("years_when")
        if when and values.get(f"form.{when['field']}") == "是":
            years = int(when["years"])
        return last_day_after_months(issued_on, 12 * years)
    if rule["kind"] == "months":
        return last_day_after_months(issued_on, int(rule["months"]))
    if rule["kind"] == "until_field":
        text = values.get(f"form.{rule['field']}", "")
        return dt.date.fromisoformat(text) if text else None
    return None


def last_day_after_months(issued_on: dt.date, months: int) -> dt.date:
    """The last day of a validity of `months` counted from the issue day itself: the day before the same
    day `months` later; where that month has no such day, its last day (民法典第二百零二条: 没有对应日的，
    月末日为期间的最后一日) — 9 June 2025 + 10 years → 8 June 2035, 29 February 2024 → 28 February 2034."""
    year, month = divmod(issued_on.month - 1 + months, 12)
    year += issued_on.year
    month += 1
    month_end = calendar.monthrange(year, month)[1]
    if issued_on.day > month_end:
        return dt.date(year, month, month_end)
    return dt.date(year, month, issued_on.day) - dt.timedelta(days=1)


def next_serial(issuer_code: str, year: int) -> str:
    with transaction.atomic():
        counter, _ = LicenceSerialCounter.objects.select_for_update().get_or_create(issuer_code=issuer_code, year=year)
        LicenceSerialCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        counter.refresh_from_db()
    return f"{year}{counter.last:07d}"


@dataclass(frozen=True)
class Grant:
    """What a new licence says beyond its type: by whom, to whom, what, and for how long."""

    node: str
    department: Department
    holders: list[Holder]
    extensions: dict[str, str]
    operation: str
    valid_from: dt.date
    valid_until: dt.date | None
    issued_on: dt.date | None = None  # ZZBFRQ; an existing licence registered later keeps its own date
    number: str = ""  # ZZBH; by default the serial of the identifier
    case_no: str = ""
    item_code: str = ""
    note: str = ""  # the first event's reason


def issue(licence_type: LicenceType, grant: Grant, *, actor: str) -> Licence:
    now = clock.now()
    today = now.astimezone(CHINA_TZ).date()
    department = grant.department
    issuer_code = department.credit_code or department.region_id
    serial = next_serial(issuer_code, today.year)
    identifier = make_identifier(licence_type.type_code, issuer_code, serial)
    number = grant.number or serial
    issued_on = grant.issued_on or today
    holders, valid_until = grant.holders, grant.valid_until
    previous = _replaced(licence_type, grant.node, holders, grant.operation, actor, now)
    data = {
        "ZZMC": licence_type.name,
        "ZZLXDM": licence_type.type_code,
        "ZZBH": number,
        "ZZBS": identifier,
        "ZZBFJG": department.name,
        "ZZBFJGDM": issuer_code,
        "ZZBFRQ": issued_on.isoformat(),
        "CZZT": "、".join(h.name for h in holders),
        "CZZTDM": "、".join(h.id_number for h in holders),
        "CZZTDMLX": ID_KINDS[holders[0].kind],
        "ZZYXQQSRQ": grant.valid_from.isoformat(),
        "ZZYXQJZRQ": valid_until.isoformat() if valid_until else OPEN_ENDED,
        "CJSJ": now.astimezone(CHINA_TZ).isoformat(),
        **grant.extensions,
    }
    licence = Licence(
        node=grant.node,
        identifier=identifier,
        licence_type=licence_type,
        number=number,
        issuer_department=department,
        issuer_name=department.name,
        issuer_code=issuer_code,
        case_no=grant.case_no,
        item_code=grant.item_code,
        operation=grant.operation,
        previous=previous,
        data=data,
        valid_from=grant.valid_from,
        valid_until=valid_until,
        # When the platform signed it: the signing key must have been in force then.
        issued_at=now,
        state=LicenceState.VALID,
        state_changed_at=now,
    )
    licence.key_id, licence.signature = _sign(licence, holders)
    licence.save()
    LicenceHolder.objects.bulk_create(_holder_rows(licence, holders))
    LicenceEvent.objects.create(
        licence=licence,
        operation=grant.operation,
        at=now,
        actor=actor,
        to_state=LicenceState.VALID,
        reason=grant.note,
    )
    directory.report(licence)
    audit(
        "tongban.licence.issued",
        node=grant.node,
        object_type="licence",
        object_id=identifier,
        actor=actor,
        data={"type": licence_type.code, "case_no": grant.case_no, "operation": grant.operation, "previous": previous},
    )
    return licence


def _holder_rows(licence: Licence, holders: list[Holder]) -> list[LicenceHolder]:
    return [
        LicenceHolder(
            licence=licence,
            order=order,
            kind=h.kind,
            label=h.label,
            name=h.name,
            id_kind=ID_KINDS[h.kind],
            id_number=h.id_number,
        )
        for order, h in enumerate(holders)
    ]


def _replaced(
    licence_type: LicenceType, node: str, holders: list[Holder], operation: str, actor: str, now: dt.datetime
) -> str:
    """Renewal, reissue (其他: 补领、换发), transfer-in and change reference the licence of the same holder
    they replace, which is cancelled (注销)."""
    if operation not in ("02", "07", "08", "09"):
        return ""
    current = (
        Licence.objects.select_for_update()
        .filter(node=node, licence_type=licence_type, state=LicenceState.VALID, holders__id_number=holders[0].id_number)
        .order_by("-issued_at")
        .first()
    )
    if current is None:
        return ""
    LicenceEvent.objects.create(
        licence=current,
        operation="05",
        at=now,
        actor=actor,
        from_state=current.state,
        to_state=LicenceState.CANCELLED,
        reason="换发新证，原证注销",
    )
    current.state, current.state_reason, current.state_changed_at = LicenceState.CANCELLED, "换发新证，原证注销", now
    current.save(update_fields=["state", "state_reason", "state_changed_at"])
    directory.report(current)
    return current.identifier


def signed_document(licence: Licence, holders: list[Holder] | None = None) -> dict[str, Any]:
    """What a licence's signature covers (docs/licences.md): its identity, holders, face and validity."""
    if holders is None:
        holders = [Holder(h.kind, h.name, h.id_number, h.label) for h in licence.holders.order_by("order")]
    return {
        "identifier": licence.identifier,
        "issuer_node": licence.node,
        "operation": licence.operation,
        "previous": licence.previous,
        "issued_at": licence.issued_at.astimezone(CHINA_TZ).isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "holders": [
            {"kind": h.kind, "label": h.label, "name": h.name, "id_kind": ID_KINDS[h.kind], "id_number": h.id_number}
            for h in holders
        ],
        "data": licence.data,
    }


def _sign(licence: Licence, holders: list[Holder]) -> tuple[str, str]:
    key_id, key = signing_key(licence.node)
    signature = sign(key, canonical_json(signed_document(licence, holders), path="licence"))
    return key_id, base64.b64encode(signature).decode()
