"""Identity API: registration, tokens, the current account, real-name verification, enterprises,
their review and their agents.

Mounted at /api/v1/, so the paths below are /api/v1/accounts, /api/v1/auth/token, /api/v1/me ….
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth import logout as session_logout
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from tongban import clock
from tongban.audit import log as audit
from tongban.errors import DomainError, Forbidden, Unauthorized
from tongban.identity import enterprises as enterprise_service
from tongban.identity import facts, onboarding
from tongban.identity.actors import request_actor
from tongban.identity.auth import token_or_session
from tongban.identity.models import (
    Account,
    Enterprise,
    EnterpriseAgent,
    RealNameLevel,
    RealNameVerification,
    StaffBinding,
)
from tongban.identity.tokens import EVERY_NODE, issue_token, issues_tokens, revoke_tokens
from tongban.identity.validators import mask_id_number, mask_phone
from tongban.problems import problems
from tongban.regions.models import Node
from tongban.validation import page_window

router = Router(tags=["统一身份认证"])

# The codes each operation raises itself; the login, node and validation codes are added to all.
ID_NUMBER = {"invalid_id_number": "公民身份号码格式、地址码、出生日期或校验码不正确"}
CREDIT_CODE = {"invalid_credit_code": "统一社会信用代码格式或校验码不正确"}
ENTERPRISE_FIELDS = {
    **CREDIT_CODE,
    "enterprise_name_required": "未填写企业名称",
    "unknown_region": "住所地区划代码不存在",
    **ID_NUMBER,
}
ENTERPRISE_EXISTS = {"enterprise_exists": "该统一社会信用代码的企业已在平台注册"}
ENTERPRISE_NOT_FOUND = {"enterprise_not_found": "该统一社会信用代码的企业尚未在平台注册"}
NOT_AUTHORIZED = {"not_authorized": "无权查看、审核或管理该企业"}
USE_THE_HUB = {"use_the_hub": "本节点是联邦中的省级节点：账号在国家平台注册和登录"}
AGENT_ERRORS = {
    400: {**CREDIT_CODE, **ID_NUMBER},
    403: NOT_AUTHORIZED,
    404: {**ENTERPRISE_NOT_FOUND, "account_not_found": "没有用户名与公民身份号码相符的有效账号"},
    409: {"enterprise_not_approved": "企业尚未审核通过", "agent_exists": "该账号已是企业经办人"},
    422: {"agent_real_name_required": "该账号尚未实名认证"},
}


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, description="用户名")
    password: str = Field(..., min_length=1, max_length=256, description="密码")
    audience: list[str] | None = Field(
        None,
        max_length=40,
        description=(
            "令牌适用的节点编码（6 位）；不填为全部节点（全国漫游）。只在个别节点办事时可限定，令牌被盗用时影响更小"
        ),
    )


class TokenOut(Schema):
    access_token: str = Field(
        ..., description="访问令牌，由国家平台以 SM2 签名签发，各节点以信任列表中的国家平台公钥核验"
    )
    audience: list[str] = Field(..., description="令牌适用的节点编码；* 为全部节点")
    token_type: Literal["Bearer"] = Field("Bearer", description="令牌类型，放在 Authorization 请求头中")
    expires_at: dt.datetime = Field(..., description="过期时间")
    expires_in: int = Field(..., description="剩余有效秒数")


class BindingOut(Schema):
    node: str = Field(..., description="节点编码")
    node_name: str = Field(..., description="节点名称")
    region: str | None = Field(..., description="区划代码；国家平台的岗位不属于任何区划，为空")
    region_name: str = Field(..., description="区划名称")
    department_id: int | None = Field(None, description="部门标识")
    department_name: str = Field("", description="部门名称")
    department_function: str = Field("", description="部门职能代码")
    role: str = Field(..., description="角色代码")
    role_label: str = Field(..., description="角色名称")
    is_cross_province_window: bool = Field(..., description="是否跨省通办窗口")


class AgencyOut(Schema):
    credit_code: str = Field(..., description="统一社会信用代码")
    name: str = Field(..., description="企业名称")
    status: str = Field(..., description="审核状态代码")
    status_label: str = Field(..., description="审核状态")
    can_act: bool = Field(..., description="能否代表企业办事（企业审核通过后才可以）")


class MeOut(Schema):
    username: str = Field(..., description="用户名")
    name: str = Field(..., description="姓名")
    id_number_masked: str = Field(..., description="公民身份号码（脱敏）")
    phone_masked: str = Field(..., description="手机号码（脱敏）")
    real_name_level: int = Field(..., description="实名等级代码")
    real_name_level_label: str = Field(..., description="实名等级")
    node: str | None = Field(None, description="本次请求的办理节点")
    roles: list[str] = Field(..., description="在办理节点的角色")
    staff_bindings: list[BindingOut] = Field(..., description="全部有效的工作人员岗位")
    enterprises: list[AgencyOut] = Field(..., description="作为经办人的企业")


class EnterpriseIn(Schema):
    credit_code: str = Field(..., min_length=1, max_length=32, description="统一社会信用代码（18 位）")
    name: str = Field(..., min_length=1, max_length=128, description="企业名称")
    domicile: str = Field(..., min_length=6, max_length=6, description="住所地行政区划代码（6 位）")
    legal_representative: str = Field("", max_length=64, description="法定代表人")
    legal_representative_id_number: str = Field(
        "",
        max_length=32,
        description="法定代表人公民身份号码（可选；填写后，法定代表人本人经实人核验的账号可以管理经办人）",
    )


class AccountIn(Schema):
    username: str = Field(
        ...,
        min_length=1,
        max_length=150,
        description="用户名：以英文字母开头，4–32 位英文字母、数字、下划线、点或连字符",
    )
    name: str = Field(..., min_length=1, max_length=128, description="姓名（与身份证件一致）")
    id_number: str = Field(..., min_length=1, max_length=32, description="公民身份号码（18 位）")
    phone: str = Field(..., min_length=1, max_length=32, description="中国大陆手机号码（11 位）")
    password: str = Field(..., min_length=1, max_length=128, description="密码（至少 8 位）")
    enterprise: EnterpriseIn | None = Field(
        None, description="同时注册的单位（可选）：本人成为其第一名经办人，单位待审核"
    )


class VerificationIn(Schema):
    method: Literal["window"] = Field(..., description="核验方式：window 窗口现场核验（查验了身份证件原件）")
    id_number: str = Field(..., min_length=1, max_length=32, description="证件上的公民身份号码")
    name: str = Field(..., min_length=1, max_length=128, description="证件上的姓名")


class VerificationOut(Schema):
    username: str = Field(..., description="被核验的账号")
    method: str = Field(..., description="核验方式代码")
    method_label: str = Field(..., description="核验方式")
    level_before: int = Field(..., description="核验前的实名等级代码")
    real_name_level: int = Field(..., description="核验后的实名等级代码")
    real_name_level_label: str = Field(..., description="核验后的实名等级")
    node: str = Field(..., description="核验节点")
    verified_at: dt.datetime = Field(..., description="核验时间")


class AgentIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, description="经办人的用户名")
    id_number: str = Field(..., min_length=1, max_length=32, description="经办人的公民身份号码（须与该账号一致）")


class AgentOut(Schema):
    username: str = Field(..., description="用户名")
    name: str = Field(..., description="姓名")
    active: bool = Field(..., description="是否有效")


class EnterpriseOut(Schema):
    credit_code: str = Field(..., description="统一社会信用代码")
    name: str = Field(..., description="企业名称")
    applicant_type: str = Field(..., description="申请人类型代码")
    domicile: str | None = Field(None, description="住所地区划代码")
    domicile_name: str = Field("", description="住所地名称")
    legal_representative: str = Field("", description="法定代表人")
    legal_representative_id_number_masked: str = Field("", description="法定代表人公民身份号码（脱敏）")
    status: str = Field(..., description="审核状态代码：pending 待审核，approved 已通过，rejected 未通过")
    status_label: str = Field(..., description="审核状态")
    registered_at: dt.datetime | None = Field(None, description="注册时间")
    reviewed_at: dt.datetime | None = Field(None, description="审核时间")
    review_note: str = Field("", description="审核意见")


class EnterprisePage(Schema):
    total: int = Field(..., description="符合条件的企业总数")
    limit: int = Field(..., description="每页条数")
    offset: int = Field(..., description="起始位置")
    items: list[EnterpriseOut] = Field(..., description="企业，最新注册的在前")


class ReviewIn(Schema):
    decision: Literal["approve", "reject"] = Field(..., description="审核结论：approve 通过，reject 不予通过")
    note: str = Field("", max_length=255, description="审核意见；不予通过时必填")


def _invalid_credentials() -> Unauthorized:
    # One answer for an unknown user and a wrong password: no hint which one was wrong.
    return Unauthorized("invalid_credentials", "用户名或密码错误。")


def _audit_node() -> str:
    return settings.TONGBAN_NODE or settings.TONGBAN_HUB_NODE


def _at_the_hub(what: str) -> None:
    """Accounts live at the hub: a provincial node of a federation neither registers nor logs in."""
    if issues_tokens():
        return
    hub = settings.TONGBAN_HUB_URL.rstrip("/") or "国家平台"
    raise DomainError(
        "use_the_hub",
        f"{what}请在国家平台统一身份认证办理（{hub}/api/v1/），本节点接受国家平台签发的访问令牌。",
        status=421,
        hub_url=settings.TONGBAN_HUB_URL,
    )


def _audience(requested: list[str] | None) -> list[str]:
    if not requested:
        return [EVERY_NODE]
    codes = [code.strip() for code in requested]
    known = set(Node.objects.filter(code__in=codes, active=True).values_list("code", flat=True))
    unknown = [code for code in codes if code != EVERY_NODE and code not in known]
    if unknown:
        raise DomainError("unknown_node", f"节点“{'、'.join(unknown)}”不存在或未启用。", field="audience")
    return codes


@router.post(
    "/accounts",
    response={201: MeOut},
    summary="注册个人账号（可同时注册单位）",
    openapi_extra=problems(
        {
            400: {
                "invalid_username": "用户名不符合要求",
                "invalid_name": "姓名不符合要求",
                **ID_NUMBER,
                "invalid_phone": "不是中国大陆手机号码",
                "weak_password": "密码不符合要求",
                **ENTERPRISE_FIELDS,
            },
            421: USE_THE_HUB,
            409: {
                "username_taken": "用户名已被使用",
                "id_number_registered": "该公民身份号码已注册账号",
                **ENTERPRISE_EXISTS,
            },
        }
    ),
)
def register_account(request: HttpRequest, payload: AccountIn) -> Status[MeOut]:
    _at_the_hub("注册账号")
    unit = payload.enterprise
    account = onboarding.register_account(
        onboarding.NewAccount(
            username=payload.username,
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            password=payload.password,
        ),
        None
        if unit is None
        else onboarding.UnitRegistration(
            credit_code=unit.credit_code,
            name=unit.name,
            domicile=unit.domicile,
            legal_representative=unit.legal_representative,
            legal_representative_id_number=unit.legal_representative_id_number,
        ),
    )
    return Status(201, _profile(account, node=None, roles=[]))


@router.post(
    "/accounts/{username}/real-name-verifications",
    response={201: VerificationOut},
    auth=token_or_session,
    summary="窗口实名核验（提升实名等级）",
    openapi_extra=problems(
        {
            400: ID_NUMBER,
            403: {"window_clerk_required": "不是本节点的窗口收件员", "not_authorized": "不能为本人核验"},
            404: {"account_not_found": "账号不存在或已停用"},
            422: {"identity_mismatch": "证件与账号登记的公民身份号码或姓名不一致"},
        }
    ),
)
def verify_real_name(request: HttpRequest, username: str, payload: VerificationIn) -> Status[VerificationOut]:
    verification = onboarding.verify_real_name(
        request_actor(request), username, method=payload.method, id_number=payload.id_number, name=payload.name
    )
    return Status(201, _verification_out(verification))


def _verification_out(verification: RealNameVerification) -> VerificationOut:
    return VerificationOut(
        username=verification.account.username,
        method=verification.method,
        method_label=verification.get_method_display(),
        level_before=verification.level_before,
        real_name_level=verification.level,
        real_name_level_label=RealNameLevel(verification.level).label,
        node=verification.node_id,
        verified_at=verification.verified_at,
    )


@router.post(
    "/auth/token",
    response=TokenOut,
    summary="登录并获取访问令牌",
    openapi_extra=problems(
        {
            400: {"unknown_node": "令牌适用的节点不存在或未启用"},
            401: {"invalid_credentials": "用户名或密码错误"},
            403: {"account_disabled": "账号已停用"},
            421: USE_THE_HUB,
        }
    ),
)
def obtain_token(request: HttpRequest, payload: TokenIn) -> TokenOut:
    _at_the_hub("登录")
    audience = _audience(payload.audience)
    account = Account.objects.filter(username=payload.username).first()
    if account is None:
        make_password(payload.password)  # spend the same time as a real check
        raise _invalid_credentials()
    if not account.check_password(payload.password):
        raise _invalid_credentials()
    if not account.is_active:
        raise Forbidden("account_disabled", "账号已停用，请联系平台管理员。")
    with transaction.atomic():
        now = clock.now()
        Account.objects.filter(pk=account.pk).update(last_login=now)
        issued = issue_token(account, audience)
        audit.record(
            "tongban.account.token_issued",
            node=_audit_node(),
            object_type="account",
            object_id=str(account.pk),
            actor=account.username,
        )
    return TokenOut(
        access_token=issued.token,
        audience=list(issued.audience),
        expires_at=issued.expires_at,
        expires_in=max(0, int((issued.expires_at - now).total_seconds())),
    )


@router.post(
    "/auth/logout",
    response={204: None},
    auth=token_or_session,
    summary="退出登录（作废全部访问令牌）",
    openapi_extra=problems({421: USE_THE_HUB}),
)
def logout(request: HttpRequest) -> Status[None]:
    # At the hub only: a node raising its replica's version would be undone by the hub's next facts.
    _at_the_hub("退出登录")
    account: Account = request.auth  # type: ignore[attr-defined]
    with transaction.atomic():
        revoke_tokens(account)
        _audit_account(account, "tongban.account.logout")
    return _end_session(request)


def _audit_account(account: Account, code: str) -> None:
    audit.record(code, node=_audit_node(), object_type="account", object_id=str(account.pk), actor=account.username)


def _end_session(request: HttpRequest) -> Status[None]:
    if getattr(request, "session", None) is not None and request.user.is_authenticated:
        session_logout(request)
    return Status(204, None)


class PasswordIn(Schema):
    current_password: str = Field(..., min_length=1, max_length=256, description="当前密码")
    new_password: str = Field(..., min_length=1, max_length=128, description="新密码（至少 8 位）")


@router.post(
    "/me/password",
    response={204: None},
    auth=token_or_session,
    summary="修改密码（此前签发的全部访问令牌随即在各节点作废）",
    openapi_extra=problems(
        {
            400: {"weak_password": "新密码不符合要求"},
            401: {"invalid_credentials": "当前密码错误"},
            421: USE_THE_HUB,
        }
    ),
)
def change_password(request: HttpRequest, payload: PasswordIn) -> Status[None]:
    _at_the_hub("修改密码")
    account: Account = request.auth  # type: ignore[attr-defined]
    if not account.check_password(payload.current_password):
        raise Unauthorized("invalid_credentials", "当前密码错误。")
    onboarding.clean_password(payload.new_password, username=account.username, name=account.display_name)
    with transaction.atomic():
        account.set_password(payload.new_password)
        account.save()  # raises the token version; the nodes holding a replica are told (identity.facts)
        _audit_account(account, "tongban.account.password_changed")
    return _end_session(request)


def _binding_out(binding: StaffBinding) -> BindingOut:
    department = binding.department
    return BindingOut(
        node=binding.node_id,
        node_name=binding.node.name,
        region=binding.region_id,
        region_name=binding.region.name if binding.region else "",
        department_id=department.pk if department else None,
        department_name=department.name if department else "",
        department_function=department.function if department else "",
        role=binding.role,
        role_label=binding.get_role_display(),
        is_cross_province_window=binding.is_cross_province_window,
    )


def _agency_out(agency: EnterpriseAgent) -> AgencyOut:
    enterprise = agency.enterprise
    return AgencyOut(
        credit_code=enterprise.credit_code,
        name=enterprise.name,
        status=enterprise.status,
        status_label=enterprise.get_status_display(),
        can_act=enterprise.status == Enterprise.Status.APPROVED,
    )


@router.get("/me", response=MeOut, auth=token_or_session, summary="当前账号")
def me(request: HttpRequest) -> MeOut:
    actor = request_actor(request)
    return _profile(request.auth, node=actor.node, roles=sorted(actor.roles))  # type: ignore[attr-defined]


def _profile(account: Account, *, node: str | None, roles: list[str]) -> MeOut:
    bindings = (
        StaffBinding.objects.filter(account=account, active=True)
        .select_related("node", "region", "department")
        .order_by("node_id", "id")
    )
    agencies = (
        EnterpriseAgent.objects.filter(account=account, active=True)
        .select_related("enterprise")
        .order_by("enterprise__credit_code")
    )
    return MeOut(
        username=account.username,
        name=account.display_name or account.username,
        id_number_masked=mask_id_number(account.id_number),
        phone_masked=mask_phone(account.phone),
        real_name_level=account.real_name_level,
        real_name_level_label=RealNameLevel(account.real_name_level).label,
        node=node,
        roles=roles,
        staff_bindings=[_binding_out(binding) for binding in bindings],
        enterprises=[_agency_out(agency) for agency in agencies],
    )


def _enterprise_out(enterprise: Enterprise) -> EnterpriseOut:
    return EnterpriseOut(
        credit_code=enterprise.credit_code,
        name=enterprise.name,
        applicant_type=enterprise.applicant_type,
        domicile=enterprise.domicile_id,
        domicile_name=enterprise.domicile.name if enterprise.domicile else "",
        legal_representative=enterprise.legal_representative,
        legal_representative_id_number_masked=mask_id_number(enterprise.legal_representative_id_number),
        status=enterprise.status,
        status_label=enterprise.get_status_display(),
        registered_at=enterprise.registered_at,
        reviewed_at=enterprise.reviewed_at,
        review_note=enterprise.review_note,
    )


@router.post(
    "/enterprises",
    response={201: EnterpriseOut},
    auth=token_or_session,
    summary="注册企业（待审核）",
    openapi_extra=problems(
        {400: ENTERPRISE_FIELDS, 403: {"real_name_required": "尚未实名认证"}, 409: ENTERPRISE_EXISTS}
    ),
)
def register_enterprise(request: HttpRequest, payload: EnterpriseIn) -> Status[EnterpriseOut]:
    enterprise = enterprise_service.register_enterprise(
        request_actor(request),
        credit_code=payload.credit_code,
        name=payload.name,
        domicile_code=payload.domicile,
        legal_representative=payload.legal_representative,
        legal_representative_id_number=payload.legal_representative_id_number,
    )
    return Status(201, _enterprise_out(enterprise))


@router.get(
    "/enterprises",
    response=EnterprisePage,
    auth=token_or_session,
    summary="可审核的企业（按审核状态）",
    openapi_extra=problems(
        {403: {"not_authorized": "不是审核部门的审查员或审批人"}, 422: {"invalid_query": "审核状态无效"}}
    ),
)
def list_enterprises(
    request: HttpRequest, status: str | None = None, limit: int = 50, offset: int = 0
) -> EnterprisePage:
    query = enterprise_service.reviewable(request_actor(request))
    if status is not None:
        if status not in Enterprise.Status.values:
            allowed = list(Enterprise.Status.values)
            raise DomainError(
                "invalid_query", f"审核状态“{status}”无效，可选：{'、'.join(allowed)}。", status=422, allowed=allowed
            )
        query = query.filter(status=status)
    limit, offset = page_window(limit, offset)
    total = query.count()
    items = [_enterprise_out(enterprise) for enterprise in query[offset : offset + limit]]
    return EnterprisePage(total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/enterprises/{credit_code}",
    response=EnterpriseOut,
    auth=token_or_session,
    summary="企业注册信息",
    openapi_extra=problems({400: CREDIT_CODE, 403: NOT_AUTHORIZED, 404: ENTERPRISE_NOT_FOUND}),
)
def get_enterprise(request: HttpRequest, credit_code: str) -> EnterpriseOut:
    enterprise = enterprise_service.get_enterprise(credit_code)
    if not enterprise_service.can_view(request_actor(request), enterprise):
        raise Forbidden("not_authorized", "只有企业经办人和住所地所在省份的工作人员可以查看该企业的注册信息。")
    return _enterprise_out(enterprise)


@router.post(
    "/enterprises/{credit_code}/review",
    response=EnterpriseOut,
    auth=token_or_session,
    summary="审核企业注册",
    openapi_extra=problems(
        {
            400: CREDIT_CODE,
            403: NOT_AUTHORIZED,
            404: ENTERPRISE_NOT_FOUND,
            409: {"enterprise_already_reviewed": "企业已审核"},
            422: {"review_note_required": "不予通过时须填写审核意见"},
        }
    ),
)
def review_enterprise(request: HttpRequest, credit_code: str, payload: ReviewIn) -> EnterpriseOut:
    enterprise = enterprise_service.review_enterprise(
        request_actor(request), credit_code, approve=payload.decision == "approve", note=payload.note
    )
    return _enterprise_out(enterprise)


def _agent_out(link: EnterpriseAgent) -> AgentOut:
    return AgentOut(
        username=link.account.username, name=link.account.display_name or link.account.username, active=link.active
    )


@router.get(
    "/enterprises/{credit_code}/agents",
    response=list[AgentOut],
    auth=token_or_session,
    summary="企业经办人",
    openapi_extra=problems({400: CREDIT_CODE, 403: NOT_AUTHORIZED, 404: ENTERPRISE_NOT_FOUND}),
)
def list_agents(request: HttpRequest, credit_code: str) -> list[AgentOut]:
    return [_agent_out(link) for link in enterprise_service.agents(request_actor(request), credit_code)]


@router.post(
    "/enterprises/{credit_code}/agents",
    response={201: AgentOut},
    auth=token_or_session,
    summary="添加企业经办人",
    openapi_extra=problems(AGENT_ERRORS),
)
def add_agent(request: HttpRequest, credit_code: str, payload: AgentIn) -> Status[AgentOut]:
    link = enterprise_service.add_agent(
        request_actor(request), credit_code, username=payload.username, id_number=payload.id_number
    )
    return Status(201, _agent_out(link))


@router.delete(
    "/enterprises/{credit_code}/agents/{username}",
    response={204: None},
    auth=token_or_session,
    summary="移除企业经办人",
    openapi_extra=problems(
        {
            400: CREDIT_CODE,
            403: NOT_AUTHORIZED,
            404: {**ENTERPRISE_NOT_FOUND, "agent_not_found": "不是该企业的经办人"},
            409: {"enterprise_not_approved": "企业尚未审核通过", "last_agent": "不能移除最后一名经办人"},
        }
    ),
)
def remove_agent(request: HttpRequest, credit_code: str, username: str) -> Status[None]:
    enterprise_service.remove_agent(request_actor(request), credit_code, username=username)
    return Status(204, None)


class SignedFactsOut(Schema):
    """The hub's signed answer: an account.facts envelope addressed to the asking node."""

    type: Literal["account.facts"] = Field(..., description="消息类型")
    from_node: str = Field(..., description="发送节点：国家平台 000000")
    to_node: str = Field(..., description="接收节点：提出请求的节点")
    payload: dict[str, Any] = Field(..., description="账号信息（docs/protocol-schemas/account.facts.schema.json）")
    created_at: str = Field(..., description="签名时间（UTC，ISO 8601）")
    case_no: str = Field(..., description="空")
    message_id: str = Field(..., description="消息标识")
    correlation_id: str = Field(..., description="所答复请求的消息标识")
    schema_version: int = Field(..., description="协议版本")
    user: str = Field(..., description="空")
    represented_party: str = Field(..., description="空")
    key_id: str = Field(..., description="国家平台签名密钥标识")
    signature: str = Field(..., description="国家平台对规范编码的 SM2 签名（Base64）")


@router.post(
    facts.PATH.removeprefix("/api/v1"),
    response=SignedFactsOut,
    summary="节点向国家平台获取账号信息（节点 SM2 签名的请求，国家平台 SM2 签名的答复）",
    openapi_extra=problems(
        {
            400: {"invalid_facts_request": "不是合法的账号信息请求"},
            401: {"token_invalid": "所附访问令牌无效", "token_expired": "所附访问令牌已过期"},
            403: {
                "token_wrong_audience": "所附访问令牌不适用于请求节点",
                "unknown_key": "请求节点的签名密钥不在信任列表中",
                "bad_signature": "请求签名验证失败",
                "key_revoked": "请求节点的签名密钥已被吊销",
                "key_expired": "请求节点的签名密钥不在有效期内",
                "replayed": "请求时间超出允许范围",
                "wrong_recipient": "请求的接收节点不是国家平台",
                "unsigned": "请求未签名",
            },
            421: {"not_the_hub": "本节点不是国家平台"},
        }
    )
    | {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "请求节点签名的 account.facts_request 信封（docs/protocol.md；"
                        "docs/protocol-schemas/account.facts_request.schema.json）",
                    }
                }
            },
        }
    },
)
def account_facts(request: HttpRequest) -> dict:
    # The envelope is read as sent: its canonical bytes, not a schema's rendering, carry the signature.
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("malformed_json", "请求体不是合法的 JSON。") from None
    return facts.answer_request(body)
