"""用证授权: a licence used in a case instead of paper, with its holders' consent.

The applicant asks, with a mandatory 用证事由, for a licence of the type a material accepts; every
holder sees exactly the fields that will be shared and accepts or refuses; once all have accepted,
the signed licence is attached to the case as its annotated copy (加注件), usable for that case only,
and the material counts as provided. Every use is logged where the holder can see it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q

from tongban import clock
from tongban.audit.log import record as audit
from tongban.cases.models import Case
from tongban.cases.policy import is_applicant
from tongban.clock import CHINA_TZ
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.licences.directory import holder_key
from tongban.licences.identifiers import parse_identifier
from tongban.licences.issuing import signed_document
from tongban.licences.models import Licence, LicenceType, LicenceUse
from tongban.licences.render import face_fields
from tongban.licences.services import holder_numbers, is_holder
from tongban.licences.verification import verify_identifier
from tongban.licences.wallet import holder_keys

OPEN_STATUSES = ("draft", "correction")  # a licence replaces a material while materials are still asked for
CAUSE_MAX = 200
ANNOTATION_DAYS = 30  # an annotated copy outlives its case's decision by no more than this


def request_use(actor: Actor, case: Case, *, material_code: str, cause: str, identifier: str = "") -> LicenceUse:
    if not is_applicant(actor, case):
        raise Forbidden("not_case_applicant", "只有申请人（或企业经办人）本人可以授权使用其电子证照。")
    _check_open(case)
    material = case.item_version.materials.filter(code=material_code).first()
    if material is None:
        raise DomainError("material_unknown", f"该事项没有编码为 {material_code} 的材料。", status=422)
    if not material.licence_type:
        raise DomainError("material_not_replaceable", f"“{material.name}”不能以电子证照代替，请上传材料。", status=422)
    cause = _cause(cause)
    with transaction.atomic():
        licence = _chosen_licence(actor, material.licence_type, identifier)
        _check_usable(licence)
        if LicenceUse.objects.filter(case=case, material_code=material_code).exclude(status="refused").exists():
            raise Conflict("licence_use_exists", f"“{material.name}”已申请使用电子证照，无需重复申请。")
        use = LicenceUse.objects.create(
            node=case.node,
            case=case,
            material_code=material_code,
            identifier=licence.identifier,
            licence_type=licence.licence_type_id,
            cause=cause,
            requested_by=actor.username,
            requested_at=clock.now(),
            preview=[{"label": label, "value": value} for label, value in face_fields(licence)],
            consents={holder_key(h.id_number): None for h in licence.holders.all()},
        )
        audit(
            "tongban.licence.use_requested",
            node=case.node,
            object_type="licence",
            object_id=licence.identifier,
            actor=actor.username,
            data={"case_no": case.case_no, "material": material_code, "cause": cause, "use": use.pk},
        )
    return use


def _check_open(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        raise Conflict(
            "case_not_open_for_licence_use",
            "只有尚未提交或待补正的办件可以授权使用电子证照；办件已提交、办结或终止。",
        )


def _cause(cause: str) -> str:
    cause = (cause or "").strip()
    if not cause:
        raise DomainError("use_cause_required", "请写明用证事由（为办理什么事项、为什么使用该证照）。", status=422)
    if len(cause) > CAUSE_MAX:
        raise DomainError("use_cause_too_long", f"用证事由不能超过 {CAUSE_MAX} 字。", status=422)
    return cause


def _chosen_licence(actor: Actor, licence_type: str, identifier: str) -> Licence:
    mine = holder_numbers(actor)
    if identifier:
        parse_identifier(identifier)
        licence = Licence.objects.filter(identifier=identifier.strip()).select_related("licence_type").first()
        if licence is None:
            raise NotFound("licence_not_found", f"没有标识为 {identifier} 的电子证照。")
        if licence.licence_type_id != licence_type:
            wanted, chosen = _type_name(licence_type), licence.licence_type.name
            raise DomainError("licence_type_mismatch", f"该材料需要{wanted}，所选证照是{chosen}。", status=422)
        if not is_holder(actor, licence):
            raise Forbidden("licence_of_someone_else", "所选电子证照的持证主体不是申请人，不能使用。")
        return licence
    # The newest of the type, whatever its state: a suspended one is refused with its reason after.
    held = (
        Licence.objects.filter(licence_type_id=licence_type, holders__id_number__in=mine)
        .select_related("licence_type")
        .order_by("-issued_at", "-id")
        .first()
    )
    if held is None:
        raise Conflict("licence_not_held", f"申请人没有有效的{_type_name(licence_type)}电子证照，请上传材料。")
    return held


def _type_name(code: str) -> str:
    return LicenceType.objects.filter(code=code).values_list("name", flat=True).first() or code


def _check_usable(licence: Licence) -> None:
    checked = verify_identifier(licence.identifier, licence.node)
    if checked.verdict.code != "valid":
        raise Conflict(
            "licence_not_usable",
            f"该电子证照当前不能使用：{checked.verdict.label}。{checked.verdict.reason}",
        )


def find_use(case: Case, use_id: int) -> LicenceUse:
    use = LicenceUse.objects.filter(pk=use_id, case=case).first()
    if use is None:
        raise NotFound("licence_use_not_found", "该办件没有这项用证授权。")
    return use


def decide_use(actor: Actor, case: Case, use_id: int, *, accept: bool) -> LicenceUse:
    """A holder's answer. All holders accept: the licence is attached; any refuses: the material stays open."""
    with transaction.atomic():
        use = LicenceUse.objects.select_for_update().filter(pk=use_id, case=case).first()
        if use is None:
            raise NotFound("licence_use_not_found", "该办件没有这项用证授权。")
        if use.status != LicenceUse.Status.AWAITING_CONSENT:
            raise Conflict("licence_use_decided", f"这项用证授权已处理（{use.get_status_display()}），不能重复授权。")
        _check_open(case)
        pending = [key for key, answer in use.consents.items() if answer is None]
        mine = [key for key in holder_keys(actor) if key in use.consents]
        if not mine:
            raise Forbidden("not_licence_holder", "只有该电子证照的持证人可以授权或拒绝使用。")
        answering = [key for key in mine if key in pending]
        if not answering:
            raise Conflict("licence_use_decided", "您已对这项用证授权作出答复。")
        now = clock.now()
        for key in answering:
            use.consents[key] = {"by": actor.username, "at": now.isoformat(), "accept": accept}
        if not accept:
            use.status, use.decided_at = LicenceUse.Status.REFUSED, now
        elif all(answer and answer["accept"] for answer in use.consents.values()):
            _attach(use, case, now)
        use.save()
        audit(
            "tongban.licence.use_accepted" if accept else "tongban.licence.use_refused",
            node=case.node,
            object_type="licence",
            object_id=use.identifier,
            actor=actor.username,
            data={"case_no": case.case_no, "use": use.pk, "status": use.status},
        )
    return use


def _attach(use: LicenceUse, case: Case, now: dt.datetime) -> None:
    """The licence travels signed and becomes the case's annotated copy, valid for this case only."""
    licence = Licence.objects.select_related("licence_type").get(identifier=use.identifier)
    _check_usable(licence)
    until = (case.legal_due or now.astimezone(CHINA_TZ).date()) + dt.timedelta(days=ANNOTATION_DAYS)
    use.copy = {"document": signed_document(licence), "key_id": licence.key_id, "signature": licence.signature}
    use.annotation = {
        "JZJZZSJ": now.astimezone(CHINA_TZ).isoformat(),
        "JZJZZZ": licence.issuer_name,
        "JZJZZSY": f"{use.cause}（办件 {case.case_no}，{case.item.name}）",
        "JZJYXQJZSJ": until.isoformat(),
    }
    use.status, use.decided_at = LicenceUse.Status.ACCEPTED, now


def accepted_materials(case: Case) -> set[str]:
    return set(
        LicenceUse.objects.filter(case=case, status=LicenceUse.Status.ACCEPTED).values_list("material_code", flat=True)
    )


def use_out(use: LicenceUse, *, with_preview: bool) -> dict[str, Any]:
    return {
        "id": use.pk,
        "case_no": use.case.case_no,
        "material_code": use.material_code,
        "identifier": use.identifier,
        "licence_type": use.licence_type,
        "cause": use.cause,
        "status": use.status,
        "status_label": use.get_status_display(),
        "requested_by": use.requested_by,
        "requested_at": use.requested_at.astimezone(CHINA_TZ).isoformat(),
        "decided_at": use.decided_at.astimezone(CHINA_TZ).isoformat() if use.decided_at else None,
        "awaiting_holders": sum(1 for answer in use.consents.values() if answer is None),
        "preview": use.preview if with_preview else [],
        "annotation": use.annotation,
    }


def uses_of_licence(identifier: str) -> list[LicenceUse]:
    """The use log the holder sees: every case that asked for the licence, why, and what came of it."""
    return list(LicenceUse.objects.filter(identifier=identifier).select_related("case").order_by("-requested_at"))


def awaiting_consent_of(actor: Actor) -> list[LicenceUse]:
    """Uses awaiting this holder's answer — also in cases they cannot see (a spouse's 户口迁移)."""
    mine = holder_keys(actor)
    if not mine:
        return []
    named = Q()
    for key in mine:
        named |= Q(consents__has_key=key)
    pending = LicenceUse.objects.filter(named, status=LicenceUse.Status.AWAITING_CONSENT).select_related("case")
    return [use for use in pending.order_by("requested_at", "id") if _unanswered(use, mine)]


def _unanswered(use: LicenceUse, keys: list[str]) -> bool:
    return any(key in use.consents and use.consents[key] is None for key in keys)


def use_for_holder(actor: Actor, use_id: int) -> LicenceUse:
    use = LicenceUse.objects.select_related("case", "case__item").filter(pk=use_id).first()
    if use is None or not set(holder_keys(actor)) & set(use.consents):
        raise NotFound("licence_use_not_found", "没有这项用证授权，或您不是该证照的持证人。")
    return use
