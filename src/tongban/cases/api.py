"""Case endpoints: /api/v1/cases…"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from tongban.cases import views
from tongban.cases.lifecycle import TERMINAL
from tongban.cases.models import Case, CaseStatus, Warning
from tongban.cases.numbering import is_well_formed
from tongban.cases.policy import find_visible_case, unassigned_cases, visible_cases, with_unassigned
from tongban.cases.schemas import CaseDetail, CaseList, Forwarded, MaterialReceipt
from tongban.cases.services import ApplicantInput, add_material, create_case, do_action, do_supplement
from tongban.catalog.models import Mode
from tongban.errors import DomainError, Forbidden, NotFound
from tongban.exchange import exchanges
from tongban.exchange.models import Exchange
from tongban.identity.actors import request_actor
from tongban.identity.auth import token_or_session
from tongban.problems import problems
from tongban.validation import page_window

router = Router(tags=["办件"], auth=token_or_session)


class ApplicantIn(Schema):
    name: str = Field(..., min_length=1, max_length=64, description="申请人（经办人）姓名")
    id_number: str = Field(..., description="公民身份号码")
    identity_verified: bool = Field(False, description="窗口是否已核验身份")
    username: str = Field("", description="申请人的平台账号（如有），便于其在线查看进度")


class CaseCreateIn(Schema):
    item_code: str = Field(..., description="事项编码")
    mode: str = Field(..., description="办理模式：online 全程网办、proxy 异地代收代办、multi_place 多地联办")
    form: dict[str, Any] = Field(default_factory=dict, description="申请表单")
    facts: dict[str, str] = Field(default_factory=dict, description="管辖事实，如 hukou_region、insured_region")
    applicant: ApplicantIn | None = Field(None, description="窗口代收时的申请人；网上申请时为登录账号本人")
    enterprise_credit_code: str = Field("", description="以企业名义申请时的统一社会信用代码")


class ActionIn(Schema):
    """`{"action": ..., "reason": ..., ...}`：其余字段（或 data 对象）作为动作内容。"""

    action: str = Field(..., description="动作，如 accept、request_correction、decide")
    reason: str = Field("", description="理由或说明")
    data: dict[str, Any] = Field(default_factory=dict, description="动作内容")


def _case(request: HttpRequest, case_no: str) -> Case:
    if not is_well_formed(case_no):
        raise NotFound("case_not_found", f"办件编号格式不正确或办件不存在：{case_no}")
    return find_visible_case(request_actor(request), case_no)


@router.post(
    "",
    response={201: CaseDetail},
    summary="创建办件（草稿）",
    openapi_extra=problems(
        {
            400: ["node_required", "invalid_id_number", "invalid_credit_code"],
            403: ["applicant_required", "enterprise_not_authorized", "real_name_required", "window_clerk_required"],
            404: ["item_unknown", "node_unknown", "department_unknown", "region_unknown"],
            422: [
                "item_not_in_force",
                "item_not_offered",
                "mode_not_offered",
                "invalid_form",
                "invalid_facts",
                "applicant_required",
                "identity_not_verified",
                "applicant_account_mismatch",
                "applicant_mismatch",
                "enterprise_not_registered",
                "establishment_has_no_credit_code",
                "jurisdiction_fact_missing",
                "jurisdiction_fact_invalid",
                "department_function_unknown",
                "not_eligible",
            ],
        }
    ),
)
def create(request: HttpRequest, body: CaseCreateIn):
    actor = request_actor(request)
    applicant = ApplicantInput(**body.applicant.dict()) if body.applicant else None
    case = create_case(
        actor,
        item_code=body.item_code,
        mode=body.mode,
        form=body.form,
        facts=body.facts,
        applicant=applicant,
        enterprise_credit_code=body.enterprise_credit_code,
    )
    return Status(201, views.detail(case, actor))


QUEUES = {"mine": "本人所在部门正在办理的办件", "unassigned": "本节点无人办理的办件（部门尚无工作人员）"}


def check_filter(name: str, label: str, value: str, allowed: dict[str, str]) -> None:
    """An unknown filter value is a mistake, not an empty list: say which values exist."""
    if value and value not in allowed:
        shown = "、".join(f"{code}（{text}）" for code, text in allowed.items())
        raise DomainError(
            "invalid_filter",
            f"{label}“{value}”无效，可选值：{shown}。",
            status=422,
            errors=[{"field": name, "code": "invalid_choice", "message": f"可选值：{shown}", "allowed": list(allowed)}],
        )


def _queue(value: str) -> str:
    # `queue=true` predates the named queues and means the caller's own work queue.
    value = {"true": "mine", "1": "mine", "false": "", "0": ""}.get(value.strip().lower(), value.strip())
    check_filter("queue", "队列", value, QUEUES)
    return value


@router.get(
    "",
    response=CaseList,
    summary="我的办件或工作队列",
    openapi_extra=problems({403: ["administrator_required"], 422: ["invalid_filter"]}),
)
def list_cases(
    request: HttpRequest,
    status: str = "",
    mode: str = "",
    item: str = "",
    warning: str = "",
    queue: str = "",
    limit: int = 50,
    offset: int = 0,
):
    actor = request_actor(request)
    check_filter("status", "办件状态", status, dict(CaseStatus.choices))
    check_filter("mode", "办理模式", mode, dict(Mode.choices))
    check_filter("warning", "预警", warning, {k: v for k, v in Warning.choices if k})
    chosen_queue = _queue(queue)
    cases = visible_cases(actor).select_related("item")
    if status:
        cases = cases.filter(status=status)
    if mode:
        cases = cases.filter(mode=mode)
    if item:
        cases = cases.filter(item_id=item)
    if warning:
        cases = cases.filter(warning=warning)
    if chosen_queue == "mine":
        # The work queue: cases now being processed at the caller's node by one of their departments.
        departments = [b.department_id for b in actor.bindings if b.department_id]
        cases = cases.filter(processing_node=actor.node, processing_department_id__in=departments).exclude(
            status__in=TERMINAL
        )
    elif chosen_queue == "unassigned":
        if not actor.has_role("administrator"):
            raise Forbidden("administrator_required", "只有本节点的管理员可以查看无人办理的办件队列。")
        cases = unassigned_cases(cases)
    limit, offset = page_window(limit, offset)
    total = cases.count()
    rows = with_unassigned(cases).order_by("-received_at", "-id")[offset : offset + limit]
    return {"total": total, "limit": limit, "offset": offset, "items": [views.summary(c, actor) for c in rows]}


@router.get(
    "/{case_no}",
    response=CaseDetail,
    summary="办件详情：状态、期限与全程时间线",
    openapi_extra=problems({404: ["case_not_found"]}),
)
def get_case(request: HttpRequest, case_no: str):
    return views.detail(_case(request, case_no), request_actor(request))


@router.post(
    "/{case_no}/actions",
    response={200: CaseDetail, 202: Forwarded},
    summary="办理动作",
    openapi_extra=problems(
        {
            400: ["no_signing_key"],
            403: ["action_not_permitted", "proxy_window_cannot_decide", "both_posts_required"],
            404: ["case_not_found", "node_unknown"],
            409: [
                "action_not_for_mode",
                "action_not_allowed_in_state",
                "item_version_changed",
                "last_leg_use_decide",
                "extension_already_requested",
                "no_extension_pending",
                "legs_not_complete",
                "not_immediate_item",
                "window_handover_required",
                "credit_code_unavailable",
                "enterprise_exists",
                "licence_holder_unknown",
            ],
            422: [
                "action_unknown",
                "use_supplements",
                "reason_too_long",
                "reason_required",
                "item_not_in_force",
                "item_not_offered",
                "mode_not_offered",
                "not_eligible",
                "materials_missing",
                "form_check_incomplete",
                "waybill_required",
                "waybill_invalid",
                "correction_list_invalid",
                "correction_list_empty",
                "material_unknown",
                "documents_invalid",
                "extension_invalid",
                "special_kind_invalid",
                "outcome_invalid",
                "reasons_required",
                "delivery_method_invalid",
                "receipt_required",
                "receipt_invalid",
                "message_not_encodable",
                "licence_field_missing",
            ],
        }
    ),
)
def act(request: HttpRequest, case_no: str, body: ActionIn):
    actor = request_actor(request)
    case = _case(request, case_no)
    # Fields beside action/reason are the action's content (ninja's Schema drops extras, so read them here).
    raw = json.loads(request.body)
    extras = {k: v for k, v in raw.items() if k not in ("action", "reason", "data")} if isinstance(raw, dict) else {}
    data = {**extras, **body.data}
    outcome = do_action(actor, case, body.action, reason=body.reason, data=data)
    return _outcome(outcome, actor)


def _outcome(outcome, actor):
    if not outcome.performed:
        return Status(
            202,
            {
                "case_no": outcome.case.case_no,
                "requested_at_node": outcome.requested_at_node,
                "detail": f"已提交至当前办理节点（{views.node_name(outcome.requested_at_node)}）处理。",
            },
        )
    case = Case.objects.select_related("item", "item_version").get(pk=outcome.case.pk)
    return Status(200, views.detail(case, actor))


@router.post(
    "/{case_no}/materials",
    response={201: MaterialReceipt},
    summary="上传申请材料（multipart：material_code, file）",
    openapi_extra=problems(
        {
            400: ["upload_invalid", "file_empty"],
            403: ["not_case_applicant"],
            404: ["case_not_found"],
            409: ["case_not_draft"],
            413: ["file_too_large"],
            415: ["unsupported_file_type"],
            422: ["material_unknown"],
        }
    ),
)
def upload_material(request: HttpRequest, case_no: str):
    actor = request_actor(request)
    case = _case(request, case_no)
    code = request.POST.get("material_code", "")
    upload = request.FILES.get("file")
    if not code or upload is None:
        raise DomainError("upload_invalid", "请以 multipart/form-data 提交 material_code 和 file。", status=400)
    row = add_material(actor, case, material_code=code, filename=upload.name or "", data=upload.read())
    return Status(
        201,
        {
            "case_no": case.case_no,
            "material_code": row.material_code,
            "filename": row.filename,
            "size": row.size,
            "content_type": row.content_type,
            "sha256": row.sha256,
        },
    )


@router.post(
    "/{case_no}/supplements",
    response={200: CaseDetail, 202: Forwarded},
    summary="提交补正材料（字段名为材料编码）",
    openapi_extra=problems(
        {
            400: ["upload_invalid", "file_empty", "no_signing_key"],
            403: ["action_not_permitted", "not_case_applicant"],
            404: ["case_not_found"],
            409: ["action_not_allowed_in_state"],
            413: ["file_too_large"],
            415: ["unsupported_file_type"],
            422: ["supplement_not_requested", "supplement_incomplete", "message_not_encodable"],
        }
    ),
)
def supplements(request: HttpRequest, case_no: str):
    actor = request_actor(request)
    case = _case(request, case_no)
    files = [(code, upload.name or "", upload.read()) for code, upload in request.FILES.items()]
    if not files:
        raise DomainError("upload_invalid", "请以 multipart/form-data 提交补正材料，字段名为材料编码。", status=400)
    return _outcome(do_supplement(actor, case, files), actor)


@router.post(
    "/{case_no}/exchanges/{message_id}/retry",
    response=CaseDetail,
    summary="重新发送超时或未答复的跨节点交换",
    openapi_extra=problems({404: ["case_not_found", "exchange_not_found"], 409: ["exchange_not_retryable"]}),
)
def retry_exchange(request: HttpRequest, case_no: str, message_id: str):
    actor = request_actor(request)
    case = _case(request, case_no)
    try:
        exchange = Exchange.objects.get(message_id=uuid.UUID(message_id), from_node=case.node, case_no=case.case_no)
    except (ValueError, Exchange.DoesNotExist):
        raise NotFound("exchange_not_found", f"该办件没有标识为 {message_id} 的交换。") from None
    exchanges.retry(exchange)
    fresh = Case.objects.select_related("item", "item_version").get(pk=case.pk)
    return views.detail(fresh, actor)
