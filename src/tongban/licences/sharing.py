"""用证授权 across nodes: the case's node asks for a licence issued elsewhere, the issuing node
answers with a preview of exactly what it would share, the holders decide at the case's node, and
only an accepted use makes the issuing node release the signed licence.

    case node ──licence.use_requested──▶ hub ──(finds the licence in the directory)──▶ issuing node
    case node ◀──licence.use_preview─────────────────────────────────────────────────── issuing node
    case node ──licence.use_answered (accept / refuse)─────────────────────────────────▶ issuing node
    case node ◀──licence.released (the signed licence)──────────────────────────────── issuing node

The requests are answered exchanges: a refusal (not the holder's licence, not in force, …) comes
back as the exchange's answer, and a timeout ends the use too — it never waits for ever.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Value, When

from tongban import clock
from tongban.audit.log import record as audit
from tongban.errors import DomainError
from tongban.exchange import outbox
from tongban.exchange.envelope import Envelope
from tongban.exchange.exchanges import FORWARDED, Rejected, when_ended
from tongban.exchange.handlers import handles
from tongban.exchange.models import Exchange
from tongban.licences.directory import holder_key
from tongban.licences.models import Licence, LicenceIndexEntry, LicenceState, LicenceType, LicenceUse

log = logging.getLogger(__name__)

USE_REQUESTED = "licence.use_requested"
USE_PREVIEW = "licence.use_preview"
USE_ANSWERED = "licence.use_answered"
RELEASED = "licence.released"


# ---------------------------------------------------------------- at the case's node


def ask_issuer(use: LicenceUse, requester_keys: list[str]) -> None:
    """Ask, through the hub's directory, the node that issued the licence (in the caller's transaction)."""
    message = outbox.send(
        USE_REQUESTED,
        from_node=use.node,
        to_node=settings.TONGBAN_HUB_NODE,
        case_no=use.case_no,
        payload={
            "use": str(use.ref),
            "identifier": use.identifier,
            "licence_type": use.licence_type,
            "holder_keys": requester_keys,
            "case_no": use.case_no,
            "item": use.item_name,
            "material": use.material_code,
            "cause": use.cause,
            "requested_by": use.requested_by,
            "requested_at": use.requested_at.isoformat(),
        },
    )
    LicenceUse.objects.filter(pk=use.pk).update(pending_message=message.message_id)


def answer_issuer(use: LicenceUse, *, accept: bool) -> None:
    """Tell the issuing node the holders' answer; an acceptance asks it to release the licence."""
    answers = [{"holder_key": key, **answer} for key, answer in sorted(use.consents.items()) if answer]
    message = outbox.send(
        USE_ANSWERED,
        from_node=use.node,
        to_node=use.issuer_node,
        case_no=use.case_no,
        payload={"use": str(use.ref), "identifier": use.identifier, "accept": accept, "consents": answers},
    )
    LicenceUse.objects.filter(pk=use.pk).update(pending_message=message.message_id)


def _case_use(node: str, ref: str) -> LicenceUse | None:
    return (
        LicenceUse.objects.select_for_update()
        .select_related("case", "case__item")
        .filter(node=node, ref=uuid.UUID(ref), case__isnull=False)
        .first()
    )


@handles(USE_PREVIEW)
def on_use_preview(envelope: Envelope) -> None:
    preview = envelope.payload
    use = _case_use(envelope.to_node, preview["use"])
    if use is None or use.status != LicenceUse.Status.REQUESTED:
        return  # ended meanwhile (timed out): the late preview is not shown
    if use.identifier and preview["identifier"] != use.identifier:
        log.warning("a preview of %s for use %s, which asked for %s", preview["identifier"], use.ref, use.identifier)
        return
    use.identifier = preview["identifier"]
    use.issuer_node = envelope.from_node
    use.preview = [{"label": str(f["label"]), "value": str(f["value"])} for f in preview["preview"]]
    use.consents = dict.fromkeys(preview["holder_keys"])
    use.status, use.pending_message = LicenceUse.Status.AWAITING_CONSENT, None
    use.save()


@handles(RELEASED)
def on_released(envelope: Envelope) -> None:
    """The signed licence arrives: checked against the trust list before it becomes the annotated copy."""
    from tongban.licences.uses import attach
    from tongban.licences.verification import verify_document

    released = envelope.payload
    use = _case_use(envelope.to_node, released["use"])
    if use is None or use.status != LicenceUse.Status.RELEASING:
        return
    copy = released["copy"]
    verdict = verify_document(copy, identifier=use.identifier, issuer_node=envelope.from_node)
    now = clock.now()
    if verdict is not None:
        _fail(use, verdict.code, f"签发节点提供的证照未通过核验：{verdict.reason}")
        return
    attach(use, use.case, copy, now)
    use.pending_message = None
    use.save()
    audit(
        "tongban.licence.use_attached",
        node=use.node,
        object_type="licence",
        object_id=use.identifier,
        data={"case_no": use.case_no, "use": str(use.ref), "from": envelope.from_node},
    )


@when_ended(USE_REQUESTED)
@when_ended(USE_ANSWERED)
def on_exchange_ended(exchange: Exchange) -> None:
    """Refused or unanswered: the use ends with the reason, and the material is open again."""
    use = LicenceUse.objects.select_for_update().filter(pending_message=exchange.message_id).first()
    if use is None or use.status not in (LicenceUse.Status.REQUESTED, LicenceUse.Status.RELEASING):
        return
    if exchange.state == Exchange.State.TIMED_OUT:
        _fail(use, "timeout", "签发机构未在答复期限内答复：可以重新申请用证，或上传材料。")
    else:
        _fail(use, exchange.error_code or "failed", exchange.error_detail or "签发机构未能提供该证照。")


def _fail(use: LicenceUse, code: str, detail: str) -> None:
    use.status, use.error_code, use.error_detail = LicenceUse.Status.FAILED, code[:64], detail[:255]
    use.pending_message, use.decided_at = None, clock.now()
    use.save()
    audit(
        "tongban.licence.use_failed",
        node=use.node,
        object_type="licence",
        object_id=use.identifier or use.licence_type,
        data={"case_no": use.case_no, "use": str(use.ref), "code": use.error_code},
    )


# ---------------------------------------------------------------- at the hub


@handles(USE_REQUESTED)
def on_use_requested(envelope: Envelope) -> object:
    if envelope.to_node == settings.TONGBAN_HUB_NODE:
        return _route(envelope)
    return _preview(envelope)


def _route(envelope: Envelope) -> object:
    """Find the licence in the directory and pass the request to its issuing node."""
    request = envelope.payload
    try:
        entry = _directory_entry(request)
    except (KeyError, TypeError, ValueError):  # a payload of the wrong shape is answered, never retried
        return Rejected("request_invalid", "用证请求内容不完整。")
    if isinstance(entry, Rejected):
        return entry
    outbox.send(
        USE_REQUESTED,
        from_node=envelope.to_node,
        to_node=entry.issuer_node,
        case_no=envelope.case_no,
        correlation_id=envelope.correlation_id,
        # The origin is the node that signed the request to the hub, not what a payload says.
        payload={**request, "identifier": entry.identifier, "origin": envelope.from_node},
    )
    return FORWARDED


def _directory_entry(request: dict[str, Any]) -> LicenceIndexEntry | Rejected:
    if not isinstance(request["holder_keys"], list) or not isinstance(request["licence_type"], str):
        raise TypeError("holder_keys must be a list and licence_type a string")
    keys = [str(key) for key in request["holder_keys"]]
    name = _type_name(request["licence_type"])
    entries = LicenceIndexEntry.objects.filter(node=settings.TONGBAN_HUB_NODE)
    if request["identifier"]:
        entry = entries.filter(identifier=request["identifier"]).first()
        if entry is None:
            return Rejected("licence_not_found", f"国家平台证照目录中没有标识为 {request['identifier']} 的电子证照。")
        if entry.licence_type != request["licence_type"]:
            return Rejected("licence_type_mismatch", f"该材料需要{name}，所选证照是{_type_name(entry.licence_type)}。")
        if not entry.holders.filter(holder_key__in=keys).exists():
            return Rejected("licence_of_someone_else", "所选电子证照的持证主体不是申请人，不能使用。")
        return entry
    # The applicant's licence of the type: one in force first, then the most recently changed.
    in_force_first = SqlCase(
        When(state=LicenceState.VALID, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    entry = (
        entries.filter(licence_type=request["licence_type"], holders__holder_key__in=keys)
        .annotate(order=in_force_first)
        .order_by("order", "-state_changed_at", "identifier")
        .first()
    )
    if entry is None:
        return Rejected("licence_not_held", f"申请人没有{name}电子证照，请上传材料。")
    return entry


def _type_name(code: str) -> str:
    return LicenceType.objects.filter(code=code).values_list("name", flat=True).first() or code


# ---------------------------------------------------------------- at the issuing node


def _preview(envelope: Envelope) -> object:
    """Check the request against the licence and answer with exactly what would be shared."""
    from tongban.licences.render import face_fields
    from tongban.licences.uses import check_usable

    request = envelope.payload
    if envelope.from_node != settings.TONGBAN_HUB_NODE or "origin" not in request:
        # Only the hub routes requests: the origin it names is the node that signed the request to it.
        return Rejected("request_misrouted", "用证请求须经国家平台证照目录转来。")
    origin = request["origin"]
    licence = (
        Licence.objects.filter(node=envelope.to_node, identifier=request["identifier"])
        .select_related("licence_type")
        .first()
    )
    if licence is None:
        return Rejected("licence_not_found", f"签发节点没有标识为 {request['identifier']} 的电子证照。")
    holder_keys = [holder_key(h.id_number) for h in licence.holders.all()]
    if not set(holder_keys) & set(request["holder_keys"]):
        return Rejected("licence_of_someone_else", "所选电子证照的持证主体不是申请人，不能使用。")
    if licence.licence_type_id != request["licence_type"]:
        return Rejected("licence_type_mismatch", f"该材料需要{_type_name(request['licence_type'])}。")
    try:
        check_usable(licence)
    except DomainError as error:
        return Rejected(error.code, error.detail)
    preview = [{"label": label, "value": value} for label, value in face_fields(licence)]
    LicenceUse.objects.create(
        ref=uuid.UUID(request["use"]),
        node=licence.node,
        case=None,
        case_no=request["case_no"],
        case_node=origin,
        item_name=str(request.get("item", ""))[:128],
        material_code=request["material"],
        identifier=licence.identifier,
        licence_type=licence.licence_type_id,
        issuer_node=licence.node,
        cause=str(request["cause"])[:200],
        requested_by=str(request["requested_by"])[:150],
        requested_at=clock.now(),
        status=LicenceUse.Status.AWAITING_CONSENT,
        preview=preview,
        consents=dict.fromkeys(holder_keys),
    )
    audit(
        "tongban.licence.use_requested",
        node=licence.node,
        object_type="licence",
        object_id=licence.identifier,
        data={"case_no": request["case_no"], "by_node": origin, "cause": request["cause"], "use": request["use"]},
    )
    outbox.send(
        USE_PREVIEW,
        from_node=licence.node,
        to_node=origin,
        case_no=envelope.case_no,
        payload={
            "use": request["use"],
            "identifier": licence.identifier,
            "licence_type": licence.licence_type_id,
            "preview": preview,
            "holder_keys": holder_keys,
        },
    )
    return None


@handles(USE_ANSWERED)
def on_use_answered(envelope: Envelope) -> object:
    """The holders' answer: a refusal is logged; an acceptance by every holder releases the licence."""
    from tongban.licences.issuing import signed_document
    from tongban.licences.qr import qr_text
    from tongban.licences.uses import check_usable

    answer = envelope.payload
    use = (
        LicenceUse.objects.select_for_update()
        .filter(node=envelope.to_node, ref=uuid.UUID(answer["use"]), case__isnull=True)
        .first()
    )
    if use is None or use.case_node != envelope.from_node:
        return Rejected("licence_use_not_found", "签发节点没有这项用证申请。")
    if use.status != LicenceUse.Status.AWAITING_CONSENT:
        return Rejected("licence_use_decided", f"这项用证申请已处理（{use.get_status_display()}）。")
    now = clock.now()
    for given in answer["consents"]:
        if given["holder_key"] in use.consents:
            use.consents[given["holder_key"]] = {"by": given["by"], "at": given["at"], "accept": given["accept"]}
    if not answer["accept"]:
        use.status, use.decided_at = LicenceUse.Status.REFUSED, now
        use.save()
        _logged(use, "tongban.licence.use_refused")
        return None
    if not all(given and given["accept"] for given in use.consents.values()):
        return Rejected("consent_incomplete", "并非每一位持证人都已同意共享，签发节点不提供该证照。")
    licence = Licence.objects.select_related("licence_type").get(node=use.node, identifier=use.identifier)
    try:
        check_usable(licence)
    except DomainError as error:
        use.status, use.error_code, use.error_detail = LicenceUse.Status.FAILED, error.code, error.detail[:255]
        use.save()
        return Rejected(error.code, error.detail)
    use.status, use.decided_at = LicenceUse.Status.ACCEPTED, now
    use.save()
    _logged(use, "tongban.licence.use_accepted")
    copy = {
        "document": signed_document(licence),
        "key_id": licence.key_id,
        "signature": licence.signature,
        "qr": qr_text(licence),
    }
    outbox.send(
        RELEASED,
        from_node=licence.node,
        to_node=use.case_node,
        case_no=use.case_no,
        payload={"use": str(use.ref), "identifier": licence.identifier, "copy": copy},
    )
    return None


def _logged(use: LicenceUse, code: str) -> None:
    audit(
        code,
        node=use.node,
        object_type="licence",
        object_id=use.identifier,
        data={"case_no": use.case_no, "by_node": use.case_node, "use": str(use.ref), "status": use.status},
    )
