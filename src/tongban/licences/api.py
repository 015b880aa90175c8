"""Licence endpoints: /api/v1/licenses/…"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Status

from tongban.cases.schemas import Strict
from tongban.cases.views import iso, node_name
from tongban.errors import NotFound
from tongban.identity.actors import NODE_HEADER, request_actor
from tongban.identity.auth import token_or_session
from tongban.licences.identifiers import parse_identifier
from tongban.licences.models import Licence, LicenceIndexEntry, LicenceState, LicenceType
from tongban.licences.registration import HolderIn, Registration, do_register_licence
from tongban.licences.services import do_licence_action, visible_licence
from tongban.licences.uses import uses_of_licence
from tongban.licences.verification import verify_identifier
from tongban.licences.wallet import from_the_issuer, issued_elsewhere, wallet
from tongban.problems import problems

router = Router(tags=["电子证照"])


class TypeRef(Strict):
    code: str
    name: str


class IssuerRef(Strict):
    node: str
    name: str
    code: str = Field(..., description="颁发机构代码（统一社会信用代码，或其所在区划代码）")


class Verification(Strict):
    identifier: str
    result: str = Field(
        ..., description="valid、suspended、revoked、cancelled、expired、withdrawn、forged、untrusted_issuer 等"
    )
    result_label: str = Field(..., description="有效、暂扣、撤销、注销、失效、吊销、伪造或篡改、签发机构不受信任")
    reason: str
    type: TypeRef
    issuer_node: str
    issuer_node_name: str
    issuer_name: str = Field(..., description="颁发机构；经国家平台目录核验时为空")
    holder: str = Field(..., description="遮蔽后的持证主体；经国家平台目录核验时为空（目录不存证照内容）")
    valid_until: str | None = Field(..., description="有效期截止日期；长期有效为空")
    state: str = Field(..., description="证照状态代码：01 有效、02 暂扣、03 撤销、04 注销、05 失效、07 吊销")
    state_label: str
    state_changed_at: str
    confirmed_at: str = Field(..., description="状态经签发节点的签名确认的时间")
    source: str = Field(..., description="issuer：核验证照本身的签名；directory：核验签发节点报送目录的签名报告")
    stale: bool = Field(..., description="无法连接国家平台时为是：给出的是上次确认的状态")


class HolderOut(Strict):
    label: str
    kind: str
    name: str
    id_kind: str
    id_number: str


class EventOut(Strict):
    operation: str
    operation_label: str
    at: str
    from_state: str
    to_state: str
    reason: str


class UseLogEntry(Strict):
    case_no: str
    node: str = Field(..., description="使用该证照的办件所在节点")
    item: str = Field(..., description="办理的事项")
    material_code: str
    cause: str = Field(..., description="用证事由")
    status: str
    status_label: str
    requested_by: str
    requested_at: str
    decided_at: str | None


class LicenceOut(Strict):
    identifier: str
    type: TypeRef
    number: str
    version: int
    issuer: IssuerRef
    holders: list[HolderOut]
    data: dict[str, str] = Field(..., description="照面信息：GB/T 36903 元数据与 KZ_ 扩展字段")
    valid_from: str
    valid_until: str | None
    issued_at: str
    operation: str
    operation_label: str
    previous: str = Field(..., description="被延续、变更或转入所替代的前一张证照的标识")
    case_no: str
    state: str
    state_label: str
    state_reason: str
    state_changed_at: str
    key_id: str
    signature: str = Field(..., description="SM2 签名（Base64，DER），覆盖 docs/licences.md 所述的规范编码")
    events: list[EventOut]
    uses: list[UseLogEntry] = Field(..., description="用证记录：哪个办件、为什么、何时使用了该证照")


class RegisteredHolderIn(Strict):
    name: str = Field(..., description="持证主体名称（姓名或企业名称）")
    id_number: str = Field(..., description="公民身份号码，或企业的统一社会信用代码")
    label: str = Field("", description="称谓（共同持证时，如 男方、女方）")


class RegistrationIn(Strict):
    licence_type: str = Field(..., description="证照类型编码（content/licences/types.yaml），如 budongchan_quanzheng")
    number: str = Field(..., description="证照上的编号（ZZBH），如 冀（2024）保定市不动产权第0012345号")
    issued_on: dt.date = Field(..., description="颁发日期（ZZBFRQ），不晚于今天")
    holders: list[RegisteredHolderIn] = Field(..., description="持证主体")
    valid_from: dt.date | None = Field(None, description="有效期起始日期；不填为颁发日期")
    valid_until: dt.date | None = Field(
        None, description="有效期截止日期；不填时按证照类型的有效期规则（长期有效为空）"
    )
    fields: dict[str, str] = Field(default_factory=dict, description="该类型的 KZ_ 扩展字段")


class LicenceActionIn(Strict):
    action: str = Field(..., description="suspend 暂扣、return 暂扣发还、revoke 撤销、cancel 注销、withdraw 吊销")
    reason: str = Field("", description="理由（必填）")


def _type(licence: Licence) -> TypeRef:
    return TypeRef(code=licence.licence_type_id, name=licence.licence_type.name)


def _issuer(licence: Licence) -> IssuerRef:
    return IssuerRef(node=licence.node, name=licence.issuer_name, code=licence.issuer_code)


@router.get(
    "/{identifier}/verify",
    response=Verification,
    summary="核验电子证照（无需登录；持证主体遮蔽）",
    openapi_extra=problems(
        {404: ["licence_not_found"], 422: ["invalid_licence_identifier"], 503: ["directory_unreachable"]}
    ),
)
def verify(request: HttpRequest, identifier: str):
    checked = verify_identifier(identifier, request.headers.get(NODE_HEADER) or settings.TONGBAN_NODE or None)
    names = dict(LicenceType.objects.values_list("code", "name"))
    return Verification(
        identifier=checked.identifier,
        result=checked.verdict.code,
        result_label=checked.verdict.label,
        reason=checked.verdict.reason,
        type=TypeRef(code=checked.licence_type, name=names.get(checked.licence_type, "")),
        issuer_node=checked.issuer_node,
        issuer_node_name=node_name(checked.issuer_node) if checked.issuer_node else "",
        issuer_name=checked.issuer_name,
        holder=checked.holder,
        valid_until=checked.valid_until.isoformat() if checked.valid_until else None,
        state=checked.state,
        state_label=LicenceState(checked.state).label if checked.state else "",
        state_changed_at=iso(checked.state_changed_at) or "",
        confirmed_at=iso(checked.confirmed_at) or "",
        source=checked.source,
        stale=checked.stale,
    )


def _out(licence: Licence) -> LicenceOut:
    return LicenceOut(
        identifier=licence.identifier,
        type=_type(licence),
        number=licence.number,
        version=licence.version,
        issuer=_issuer(licence),
        holders=[
            HolderOut(label=h.label, kind=h.kind, name=h.name, id_kind=h.id_kind, id_number=h.id_number)
            for h in licence.holders.all()
        ],
        data=licence.data,
        valid_from=licence.valid_from.isoformat(),
        valid_until=licence.valid_until.isoformat() if licence.valid_until else None,
        issued_at=iso(licence.issued_at) or "",
        operation=licence.operation,
        operation_label=licence.get_operation_display(),
        previous=licence.previous,
        case_no=licence.case_no,
        state=licence.state,
        state_label=licence.get_state_display(),
        state_reason=licence.state_reason,
        state_changed_at=iso(licence.state_changed_at) or "",
        key_id=licence.key_id,
        signature=licence.signature,
        events=[
            EventOut(
                operation=e.operation,
                operation_label=e.get_operation_display(),
                at=iso(e.at) or "",
                from_state=e.from_state,
                to_state=e.to_state,
                reason=e.reason,
            )
            for e in licence.events.all()
        ],
        uses=[
            UseLogEntry(
                case_no=u.case_no,
                node=u.case_node,
                item=u.item_name,
                material_code=u.material_code,
                cause=u.cause,
                status=u.status,
                status_label=u.get_status_display(),
                requested_by=u.requested_by,
                requested_at=iso(u.requested_at) or "",
                decided_at=iso(u.decided_at),
            )
            for u in uses_of_licence(licence)
        ],
    )


@router.get(
    "/{identifier}",
    response=LicenceOut,
    auth=token_or_session,
    summary="电子证照全文（持证主体本人、企业经办人或颁发机构）",
    openapi_extra=problems({404: ["licence_not_found"], 422: ["invalid_licence_identifier"]}),
)
def get_licence(request: HttpRequest, identifier: str):
    return _out(visible_licence(request_actor(request), identifier))


@router.post(
    "",
    response={201: LicenceOut},
    auth=token_or_session,
    summary="存量证照归集：登记部门自有系统颁发的证照，由本节点签名、报送国家平台目录（主管部门工作人员）",
    openapi_extra=problems(
        {
            400: ["invalid_id_number", "invalid_credit_code"],
            403: ["licence_registration_not_permitted"],
            409: ["licence_already_registered"],
            422: [
                "licence_type_unknown",
                "licence_number_required",
                "licence_number_too_long",
                "licence_holder_required",
                "licence_holders_too_many",
                "licence_holder_invalid",
                "licence_dates_invalid",
                "licence_already_expired",
                "licence_field_unknown",
                "licence_field_too_long",
                "licence_field_missing",
            ],
        }
    ),
)
def register(request: HttpRequest, body: RegistrationIn):
    registration = Registration(
        licence_type=body.licence_type,
        number=body.number,
        issued_on=body.issued_on,
        holders=[HolderIn(h.name, h.id_number, h.label) for h in body.holders],
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        fields=body.fields,
    )
    return Status(201, _out(do_register_licence(request_actor(request), registration)))


@router.post(
    "/{identifier}/actions",
    response=LicenceOut,
    auth=token_or_session,
    summary="暂扣、发还、撤销、注销或吊销电子证照（颁发机构）",
    openapi_extra=problems(
        {
            403: ["licence_action_not_permitted"],
            404: ["licence_not_found"],
            409: ["licence_action_not_allowed_in_state"],
            422: ["invalid_licence_identifier", "licence_action_unknown", "reason_required", "reason_too_long"],
        }
    ),
)
def act(request: HttpRequest, identifier: str, body: LicenceActionIn):
    licence = do_licence_action(request_actor(request), identifier, body.action, body.reason)
    return _out(licence)


wallet_router = Router(tags=["电子证照"], auth=token_or_session)


class WalletEntry(Strict):
    identifier: str
    type: TypeRef
    issuer_node: str
    issuer_node_name: str
    state: str
    state_label: str
    state_changed_at: str
    valid_until: str | None


class Wallet(Strict):
    items: list[WalletEntry]


@wallet_router.get(
    "",
    response=Wallet,
    summary="我的证照：本人及所代理企业的电子证照（来自国家平台证照目录）",
    openapi_extra=problems({401: ["hub_token_required"], 503: ["directory_unreachable"]}),
)
def my_licences(request: HttpRequest):
    return Wallet(items=wallet(request_actor(request), request))


@wallet_router.get(
    "/{identifier}",
    response=LicenceOut,
    summary="我的一张证照的全文：由签发节点提供，本节点核验其签名后返回",
    openapi_extra=problems(
        {
            401: ["hub_token_required"],
            404: ["licence_not_found"],
            422: ["invalid_licence_identifier"],
            502: ["issuer_answer_invalid", "directory_statement_invalid"],
            503: ["directory_unreachable", "issuer_unreachable"],
        }
    ),
)
def my_licence(request: HttpRequest, identifier: str):
    if issued_elsewhere(identifier):
        return LicenceOut.model_validate(from_the_issuer(request, identifier))
    return _out(visible_licence(request_actor(request), identifier))


directory_router = Router(tags=["电子证照"])


class DirectoryStatement(Strict):
    statement: dict = Field(..., description="签发节点报送的 licence.indexed 消息（含签名），任何节点可凭信任列表核验")


@directory_router.get(
    "/{identifier}",
    response=DirectoryStatement,
    summary="国家平台证照目录：签发节点对证照状态的最近一次签名报告（无需登录，不含证照内容）",
    openapi_extra=problems({404: ["licence_not_found"], 422: ["invalid_licence_identifier"]}),
)
def directory_statement(request: HttpRequest, identifier: str):
    parse_identifier(identifier)
    entry = LicenceIndexEntry.objects.filter(node=settings.TONGBAN_HUB_NODE, identifier=identifier.strip()).first()
    if entry is None:
        raise NotFound("licence_not_found", f"国家平台证照目录中没有标识为 {identifier} 的电子证照。")
    return DirectoryStatement(statement=entry.statement)
