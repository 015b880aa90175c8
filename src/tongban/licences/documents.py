"""A licence as documents: the printable PDF, its signed QR code, and the offline check of a scanned
code (/api/v1/licenses/…; docs/licences.md)."""

from __future__ import annotations

import io

import segno
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Router

from tongban.cases.schemas import Strict
from tongban.cases.views import iso
from tongban.identity.actors import request_actor
from tongban.identity.auth import token_or_session
from tongban.licences.qr import OfflineVerdict, QrClaims, qr_text, verify_qr
from tongban.licences.render import qr_code, render_pdf
from tongban.licences.services import visible_licence
from tongban.problems import problems

router = Router(tags=["电子证照"])

_SEEN_BY = "持证主体本人、企业经办人或颁发机构"
_PDF_RESPONSE = {
    200: {
        "description": "电子证照 PDF（A4 一页，附签名二维码），作为附件下载",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class QrOut(Strict):
    identifier: str
    payload: str = Field(..., description="二维码文本：TBL1.<载荷>.<签名>，每次请求重新签名（docs/licences.md）")
    version: int = Field(..., description="二维码版本（1–40，纠错等级 M 或更高）")
    svg: str = Field(..., description="二维码图像（SVG 文档）")


class QrIn(Strict):
    payload: str = Field(..., description="扫描得到的二维码文本（TBL1. 开头）")


class QrLicence(Strict):
    identifier: str
    type_code: str = Field(..., description="证照类型代码（GB/T 36904）")
    type_name: str
    holder: str = Field(..., description="遮蔽后的持证主体")
    valid_from: str
    valid_until: str | None = Field(..., description="有效期截止日期；长期有效为空")
    issuer_node: str
    issuer_name: str
    issued_at: str
    signed_at: str = Field(..., description="二维码的签名时间")
    key_id: str


class OfflineVerification(Strict):
    result: str = Field(..., description="valid、expired、other、forged、untrusted_issuer")
    result_label: str = Field(..., description="有效、失效、其他、伪造或篡改、签发机构不受信任")
    reason: str
    summary: str = Field(
        ..., description="结果与原因，如“有效（离线核验：签名有效、在有效期内；证照状态以签发机构为准）”"
    )
    state_confirmed: bool = Field(..., description="恒为 false：离线核验不能确认证照当前状态，以签发机构为准")
    licence: QrLicence | None = Field(..., description="二维码所载内容；仅在签名核验通过时给出")


def _licence(claims: QrClaims) -> QrLicence:
    return QrLicence(
        identifier=claims.identifier,
        type_code=claims.type_code,
        type_name=claims.type_name,
        holder=claims.holder,
        valid_from=claims.valid_from.isoformat(),
        valid_until=claims.valid_until.isoformat() if claims.valid_until else None,
        issuer_node=claims.issuer_node,
        issuer_name=claims.issuer_name,
        issued_at=iso(claims.issued_at) or "",
        signed_at=iso(claims.signed_at) or "",
        key_id=claims.key_id,
    )


def verification_out(verdict: OfflineVerdict) -> OfflineVerification:
    return OfflineVerification(
        result=verdict.code,
        result_label=verdict.label,
        reason=verdict.reason,
        summary=verdict.summary,
        state_confirmed=verdict.state_confirmed,
        licence=_licence(verdict.claims) if verdict.claims else None,
    )


def _svg(code: segno.QRCode) -> str:
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=4, border=4, xmldecl=False, title="电子证照二维码")
    return buffer.getvalue().decode("utf-8")


@router.post(
    "/verify-qr",
    response=OfflineVerification,
    summary="离线核验电子证照二维码（无需登录；只用本节点保存的信任列表）",
    openapi_extra=problems({422: {"invalid_qr_payload": "不是有效的电子证照二维码文本"}}),
)
def verify_scanned(request: HttpRequest, body: QrIn):
    return verification_out(verify_qr(body.payload))


@router.get(
    "/{identifier}/qr",
    response=QrOut,
    auth=token_or_session,
    summary=f"电子证照的签名二维码（{_SEEN_BY}）",
    openapi_extra=problems({404: ["licence_not_found"], 422: ["invalid_licence_identifier"]}),
)
def licence_qr(request: HttpRequest, identifier: str):
    licence = visible_licence(request_actor(request), identifier)
    text = qr_text(licence)
    code = qr_code(text)
    return QrOut(identifier=licence.identifier, payload=text, version=code.version, svg=_svg(code))


@router.get(
    "/{identifier}/pdf",
    auth=token_or_session,
    summary=f"电子证照 PDF（{_SEEN_BY}）",
    openapi_extra=problems({404: ["licence_not_found"], 422: ["invalid_licence_identifier"]}, responses=_PDF_RESPONSE),
)
def licence_pdf(request: HttpRequest, identifier: str):
    licence = visible_licence(request_actor(request), identifier)
    response = HttpResponse(render_pdf(licence), content_type="application/pdf")
    filename = f"{licence.licence_type.name}-{licence.number}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
