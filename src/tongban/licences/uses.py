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
from django.db.models import F, Q

from tongban import clock
from tongban.audit.log import record as audit
from tongban.cases.models import Case
from tongban.cases.policy import is_applicant
from tongban.clock import CHINA_TZ
from tongban.errors import Conflict, DomainError, Forbidden, NotFound
from tongban.identity.actors import Actor
from tongban.licences import sharing
from tongban.licences.directory import holder_key
from tongban.licences.identifiers import parse_identifier
from tongban.licences.issuing import signed_document
from tongban.licences.models import Licence, LicenceHolder, LicenceType, LicenceUse
from tongban.licences.qr import qr_text
from tongban.licences.render import face_fields
from tongban.licences.services import holder_numbers, is_holder
from tongban.licences.verification import verify_identifier
from tongban.licences.wallet import holder_keys

ENDED = (LicenceUse.Status.REFUSED, LicenceUse.Status.FAILED)  # the material is open again
OPEN_STATUSES = ("draft", "correction")  # a licence replaces a material while materials are still asked for
CAUSE_MAX = 200
ANNOTATION_DAYS = 30  # an annotated copy outlives its case's decision by no more than this


def request_use(actor: Actor, case: Case, *, material_code: str, cause: str, identifier: str = "") -> LicenceUse:
    """Ask for a licence of the type the material accepts. One issued at the case's node is taken at
    once and shown for consent; any other is asked of its issuing node through the hub, and the use
    waits for the issuer's preview (`requested`)."""
    if not is_applicant(actor, case):
        raise Forbidden("not_case_applicant", "只有申请人（或企业经办人）本人可以授权使用其电子证照。")
    _check_open(case)
    material = case.item_version.materials.filter(code=material_code).first()
    if material is None:
        raise DomainError("material_unknown", f"该事项没有编码为 {material_code} 的材料。", status=422)
    if not material.licence_type:
        raise DomainError("material_not_replaceable", f"“{material.name}”不能以电子证照代替，请上传材料。", status=422)
    cause = _cause(cause)
    identifier = (identifier or "").strip()
    if identifier:
        _check_type_of(identifier, material.licence_type)
    if not holder_numbers(actor):
        raise Conflict(
            "licence_not_held",
            "只有经实名核验（二级及以上）的本人或企业经办人可以使用其电子证照；请上传材料，或先完成实名核验。",
        )
    with transaction.atomic():
        if LicenceUse.objects.filter(case=case, material_code=material_code).exclude(status__in=ENDED).exists():
            raise Conflict("licence_use_exists", f"“{material.name}”已申请使用电子证照，无需重复申请。")
        licence = _issued_here(actor, material.licence_type, identifier, case.node)
        use = LicenceUse(
            node=case.node,
            case=case,
            case_no=case.case_no,
            case_node=case.node,
            item_name=case.item.name,
            material_code=material_code,
            identifier=identifier,
            licence_type=material.licence_type,
            cause=cause,
            requested_by=actor.username,
            requested_at=clock.now(),
        )
        if licence is not None:
            check_usable(licence)
            use.identifier, use.issuer_node = licence.identifier, licence.node
            use.preview = [{"label": label, "value": value} for label, value in face_fields(licence)]
            use.consents = {holder_key(h.id_number): None for h in licence.holders.all()}
            use.status = LicenceUse.Status.AWAITING_CONSENT
            use.save()
        else:
            use.status = LicenceUse.Status.REQUESTED
            use.save()
            sharing.ask_issuer(use, holder_keys(actor))
        audit(
            "tongban.licence.use_requested",
            node=case.node,
            object_type="licence",
            object_id=use.identifier or use.licence_type,
            actor=actor.username,
            data={"case_no": case.case_no, "material": material_code, "cause": cause, "use": str(use.ref)},
        )
    return use


def _check_type_of(identifier: str, licence_type: str) -> None:
    """The identifier names its type (GB/T 36904): a licence of another type is refused at once."""
    type_code = parse_identifier(identifier).type_code
    named = LicenceType.objects.filter(type_code=type_code).first()
    wanted = LicenceType.objects.filter(code=licence_type).first()
    if named is None or wanted is None or named.code != wanted.code:
        chosen = named.name if named else f"类型代码为 {type_code} 的证照"
        raise DomainError(
            "licence_type_mismatch", f"该材料需要{_type_name(licence_type)}，所选证照是{chosen}。", status=422
        )


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


def _issued_here(actor: Actor, licence_type: str, identifier: str, node: str) -> Licence | None:
    """The licence issued at this node that the use takes, or None: then its issuer is asked."""
    if identifier:
        licence = Licence.objects.filter(identifier=identifier, node=node).select_related("licence_type").first()
        if licence is not None and not is_holder(actor, licence):
            raise Forbidden("licence_of_someone_else", "所选电子证照的持证主体不是申请人，不能使用。")
        return licence
    # The newest of the type, whatever its state: a suspended one is refused with its reason after.
    return (
        Licence.objects.filter(node=node, licence_type_id=licence_type, holders__id_number__in=holder_numbers(actor))
        .select_related("licence_type")
        .order_by("-issued_at", "-id")
        .first()
    )


def _type_name(code: str) -> str:
    return LicenceType.objects.filter(code=code).values_list("name", flat=True).first() or code


def check_usable(licence: Licence) -> None:
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
    """A holder's answer. All holders accept: the licence is attached (from its issuing node where it
    was issued elsewhere); any refuses: the material stays open."""
    with transaction.atomic():
        use = LicenceUse.objects.select_for_update().filter(pk=use_id, case=case).first()
        if use is None:
            raise NotFound("licence_use_not_found", "该办件没有这项用证授权。")
        if use.status == LicenceUse.Status.REQUESTED:
            raise Conflict("licence_use_not_ready", "签发机构尚未答复共享内容预览，暂不能授权，请稍后再试。")
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
        everyone = all(answer and answer["accept"] for answer in use.consents.values())
        if not accept:
            use.status, use.decided_at = LicenceUse.Status.REFUSED, now
        elif everyone and not is_remote(use):
            licence = Licence.objects.select_related("licence_type").get(identifier=use.identifier)
            check_usable(licence)
            copy = {
                "document": signed_document(licence),
                "key_id": licence.key_id,
                "signature": licence.signature,
                "qr": qr_text(licence),
            }
            attach(use, case, copy, now)
        elif everyone:
            use.status = LicenceUse.Status.RELEASING
        use.save()
        if is_remote(use) and (not accept or everyone):
            sharing.answer_issuer(use, accept=accept)
        audit(
            "tongban.licence.use_accepted" if accept else "tongban.licence.use_refused",
            node=case.node,
            object_type="licence",
            object_id=use.identifier,
            actor=actor.username,
            data={"case_no": case.case_no, "use": str(use.ref), "status": use.status},
        )
    return use


def is_remote(use: LicenceUse) -> bool:
    """Issued at another node than the case's: the issuing node previews, releases and logs it."""
    return bool(use.issuer_node) and use.issuer_node != use.node


def attach(use: LicenceUse, case: Case, copy: dict[str, Any], now: dt.datetime) -> None:
    """The licence, as it travelled signed, becomes the case's annotated copy, valid for this case only."""
    until = (case.legal_due or now.astimezone(CHINA_TZ).date()) + dt.timedelta(days=ANNOTATION_DAYS)
    use.copy = copy
    use.annotation = {
        "JZJZZSJ": now.astimezone(CHINA_TZ).isoformat(),
        "JZJZZZ": str(copy["document"]["data"].get("ZZBFJG", "")),
        "JZJZZSY": f"{use.cause}（办件 {case.case_no}，{case.item.name}）",
        "JZJYXQJZSJ": until.isoformat(),
    }
    use.status, use.decided_at = LicenceUse.Status.ACCEPTED, now


def copy_of(use: LicenceUse) -> tuple[Licence, list[LicenceHolder]]:
    """The annotated copy's licence as it travelled — not saved here: its signed document, read back."""
    document = use.copy["document"]
    licence = Licence(
        node=document["issuer_node"],
        identifier=document["identifier"],
        licence_type=LicenceType.objects.get(code=use.licence_type),
        number=str(document["data"].get("ZZBH", "")),
        issuer_name=str(document["data"].get("ZZBFJG", "")),
        issuer_code=str(document["data"].get("ZZBFJGDM", "")),
        operation=document["operation"],
        previous=document["previous"],
        data=document["data"],
        valid_from=dt.date.fromisoformat(document["valid_from"]),
        valid_until=dt.date.fromisoformat(document["valid_until"]) if document["valid_until"] else None,
        issued_at=dt.datetime.fromisoformat(document["issued_at"]),
        key_id=use.copy["key_id"],
        signature=use.copy["signature"],
    )
    holders = [
        LicenceHolder(
            order=order,
            kind=h["kind"],
            label=h["label"],
            name=h["name"],
            id_kind=h["id_kind"],
            id_number=h["id_number"],
        )
        for order, h in enumerate(document["holders"])
    ]
    return licence, holders


TRAVELLING = (
    "material_code",
    "identifier",
    "licence_type",
    "issuer_node",
    "cause",
    "requested_by",
    "preview",
    "consents",
    "copy",
    "annotation",
)


def travelling_uses(case: Case) -> list[dict[str, Any]]:
    """The accepted uses, as they go with the case to the nodes that decide it: the annotated copy with
    its issuer's signature, so the deciding node has the material and can check it."""
    accepted = case.licence_uses.filter(status=LicenceUse.Status.ACCEPTED).order_by("id")
    return [
        {
            "ref": str(use.ref),
            "case_node": use.case_node,
            "item": use.item_name,
            "requested_at": use.requested_at.isoformat(),
            "decided_at": use.decided_at.isoformat() if use.decided_at else None,
            **{name: getattr(use, name) for name in TRAVELLING},
        }
        for use in accepted
    ]


def receive_uses(case: Case, uses: list[dict[str, Any]]) -> None:
    """The copies that came with a case; the issuer's signature is checked again on arrival. A copy
    that does not verify is left out (and audited): the deciding node then sees the material missing."""
    from tongban.licences.verification import verify_document

    for use in uses:
        refused = verify_document(use["copy"], identifier=use["identifier"], issuer_node=use["issuer_node"])
        if refused is not None:
            audit(
                "tongban.licence.copy_refused",
                node=case.node,
                object_type="licence",
                object_id=use["identifier"],
                data={"case_no": case.case_no, "use": use["ref"], "verdict": refused.code},
            )
            continue
        LicenceUse.objects.create(
            ref=use["ref"],
            node=case.node,
            case=case,
            case_no=case.case_no,
            case_node=use["case_node"],
            item_name=use["item"],
            requested_at=dt.datetime.fromisoformat(use["requested_at"]),
            decided_at=dt.datetime.fromisoformat(use["decided_at"]) if use["decided_at"] else None,
            status=LicenceUse.Status.ACCEPTED,
            **{name: use[name] for name in TRAVELLING},
        )


def accepted_materials(case: Case) -> set[str]:
    return set(
        LicenceUse.objects.filter(case=case, status=LicenceUse.Status.ACCEPTED).values_list("material_code", flat=True)
    )


def use_out(use: LicenceUse, *, with_preview: bool) -> dict[str, Any]:
    return {
        "id": use.pk,
        "case_no": use.case_no,
        "material_code": use.material_code,
        "identifier": use.identifier,
        "licence_type": use.licence_type,
        "issuer_node": use.issuer_node,
        "cause": use.cause,
        "status": use.status,
        "status_label": use.get_status_display(),
        "requested_by": use.requested_by,
        "requested_at": use.requested_at.astimezone(CHINA_TZ).isoformat(),
        "decided_at": use.decided_at.astimezone(CHINA_TZ).isoformat() if use.decided_at else None,
        "awaiting_holders": sum(1 for answer in use.consents.values() if answer is None),
        "preview": use.preview if with_preview else [],
        "annotation": use.annotation,
        "error_code": use.error_code,
        "error_detail": use.error_detail,
    }


def uses_of_licence(licence: Licence) -> list[LicenceUse]:
    """The use log the holder sees at the issuing node: every case that asked for the licence, where,
    why, and what came of it — one row per use (the issuer's own row of a use from elsewhere, the
    case's row of a use at this node; never the copies that travelled with a case)."""
    logged = Q(case__isnull=True) | Q(case_node=F("node"))
    rows = LicenceUse.objects.filter(logged, identifier=licence.identifier, node=licence.node)
    return list(rows.order_by("-requested_at", "-id"))


def awaiting_consent_of(actor: Actor) -> list[LicenceUse]:
    """Uses awaiting this holder's answer — also in cases they cannot see (a spouse's 户口迁移)."""
    mine = holder_keys(actor)
    if not mine:
        return []
    named = Q()
    for key in mine:
        named |= Q(consents__has_key=key)
    pending = LicenceUse.objects.filter(
        named, status=LicenceUse.Status.AWAITING_CONSENT, case__isnull=False
    ).select_related("case")
    return [use for use in pending.order_by("requested_at", "id") if _unanswered(use, mine)]


def _unanswered(use: LicenceUse, keys: list[str]) -> bool:
    return any(key in use.consents and use.consents[key] is None for key in keys)


def use_for_holder(actor: Actor, use_id: int) -> LicenceUse:
    use = LicenceUse.objects.select_related("case", "case__item").filter(pk=use_id, case__isnull=False).first()
    if use is None or not set(holder_keys(actor)) & set(use.consents):
        raise NotFound("licence_use_not_found", "没有这项用证授权，或您不是该证照的持证人。")
    return use
