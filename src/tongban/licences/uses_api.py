"""用证授权 endpoints: /api/v1/cases/{case_no}/licence-uses…"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Router, Status

from tongban.cases.api import _case
from tongban.cases.schemas import LicenceUseItem, Strict
from tongban.errors import Conflict, NotFound
from tongban.identity.actors import request_actor
from tongban.identity.auth import token_or_session
from tongban.licences.models import Licence, LicenceUse
from tongban.licences.render import Annotation, render_pdf
from tongban.licences.uses import (
    awaiting_consent_of,
    copy_of,
    decide_use,
    find_use,
    request_use,
    use_for_holder,
    use_out,
)
from tongban.licences.wallet import holder_keys
from tongban.problems import problems

router = Router(tags=["电子证照"], auth=token_or_session)


class LicenceUseIn(Strict):
    material_code: str = Field(..., description="以电子证照代替的材料编码")
    cause: str = Field("", description="用证事由（必填）")
    identifier: str = Field("", description="所用电子证照的标识；不填时使用申请人持有的该类型有效证照")


class ConsentIn(Strict):
    accept: bool = Field(..., description="是：同意共享预览中的内容；否：拒绝")


LicenceUseOut = LicenceUseItem


class LicenceUseList(Strict):
    items: list[LicenceUseOut]


def _sees_preview(request: HttpRequest, use: LicenceUse) -> bool:
    actor = request_actor(request)
    return use.requested_by == actor.username or bool(set(holder_keys(actor)) & set(use.consents))


@router.post(
    "/{case_no}/licence-uses",
    response={201: LicenceUseOut},
    summary="申请以电子证照代替材料（用证授权）",
    openapi_extra=problems(
        {
            403: ["not_case_applicant", "licence_of_someone_else"],
            404: ["case_not_found", "licence_not_found"],
            409: ["case_not_open_for_licence_use", "licence_not_held", "licence_not_usable", "licence_use_exists"],
            422: [
                "material_unknown",
                "material_not_replaceable",
                "use_cause_required",
                "use_cause_too_long",
                "invalid_licence_identifier",
                "licence_type_mismatch",
            ],
            503: ["directory_unreachable"],
        }
    ),
)
def ask(request: HttpRequest, case_no: str, body: LicenceUseIn):
    case = _case(request, case_no)
    use = request_use(
        request_actor(request), case, material_code=body.material_code, cause=body.cause, identifier=body.identifier
    )
    return Status(201, use_out(use, with_preview=True))


@router.get(
    "/{case_no}/licence-uses",
    response=LicenceUseList,
    summary="办件的用证授权",
    openapi_extra=problems({404: ["case_not_found"]}),
)
def list_uses(request: HttpRequest, case_no: str):
    case = _case(request, case_no)
    uses = case.licence_uses.select_related("case").order_by("requested_at", "id")
    return LicenceUseList(items=[use_out(u, with_preview=_sees_preview(request, u)) for u in uses])


@router.post(
    "/{case_no}/licence-uses/{use_id}/consent",
    response=LicenceUseOut,
    summary="持证人同意或拒绝共享证照内容",
    openapi_extra=problems(
        {
            403: ["not_licence_holder"],
            404: ["case_not_found", "licence_use_not_found"],
            409: [
                "licence_use_decided",
                "licence_use_not_ready",
                "case_not_open_for_licence_use",
                "licence_not_usable",
            ],
            503: ["directory_unreachable"],
        }
    ),
)
def consent(request: HttpRequest, case_no: str, use_id: int, body: ConsentIn):
    case = _case(request, case_no)
    use = decide_use(request_actor(request), case, use_id, accept=body.accept)
    return use_out(use, with_preview=True)


holder_router = Router(tags=["电子证照"], auth=token_or_session)


@holder_router.get(
    "",
    response=LicenceUseList,
    summary="待我授权的用证申请（我是持证人，包括他人办件中使用我的共有证照）",
)
def awaiting_me(request: HttpRequest):
    uses = awaiting_consent_of(request_actor(request))
    return LicenceUseList(items=[use_out(use, with_preview=True) for use in uses])


@holder_router.post(
    "/{use_id}/consent",
    response=LicenceUseOut,
    summary="持证人同意或拒绝（无须能查看该办件）",
    openapi_extra=problems(
        {
            403: ["not_licence_holder"],
            404: ["licence_use_not_found"],
            409: [
                "licence_use_decided",
                "licence_use_not_ready",
                "case_not_open_for_licence_use",
                "licence_not_usable",
            ],
            503: ["directory_unreachable"],
        }
    ),
)
def holder_consent(request: HttpRequest, use_id: int, body: ConsentIn):
    actor = request_actor(request)
    use = use_for_holder(actor, use_id)
    return use_out(decide_use(actor, use.case, use.pk, accept=body.accept), with_preview=True)


_COPY_RESPONSE = {
    200: {
        "description": "加注件 PDF：带“此件由××提供，仅供办理××时使用，有效期至××”水印，只用于本办件",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/{case_no}/licence-uses/{use_id}/pdf",
    summary="用证授权所得的加注件（PDF）",
    openapi_extra=problems(
        {404: ["case_not_found", "licence_use_not_found", "licence_not_found"], 409: ["licence_use_not_accepted"]},
        responses=_COPY_RESPONSE,
    ),
)
def annotated_copy(request: HttpRequest, case_no: str, use_id: int):
    case = _case(request, case_no)
    use = find_use(case, use_id)
    if use.status != LicenceUse.Status.ACCEPTED:
        raise Conflict("licence_use_not_accepted", "持证人尚未同意使用该证照，没有加注件。")
    licence, holders = copy_of(use)
    qr = use.copy.get("qr")
    if not qr:  # a copy made before copies carried their issuer's code: signed here, where it is kept
        licence = Licence.objects.select_related("licence_type").filter(identifier=use.identifier).first()
        if licence is None:
            raise NotFound("licence_not_found", f"没有标识为 {use.identifier} 的电子证照。")
        holders = None
    annotation = Annotation(
        provider=use.annotation["JZJZZZ"],
        item=case.item.name,
        valid_until=dt.date.fromisoformat(use.annotation["JZJYXQJZSJ"]),
        made_at=use.decided_at,
    )
    pdf = render_pdf(licence, annotation, holders=holders, qr=qr or None)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{licence.licence_type.name}-加注件-{case.case_no}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
