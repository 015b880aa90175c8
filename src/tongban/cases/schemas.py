"""The shapes of what the case endpoints answer.

`views.summary` and `views.detail` build plain dicts; these schemas are their contract. Every schema
forbids keys it does not name, so a field added to a view without its schema fails every test that
reads a case instead of being silently dropped from the answer.
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class CaseSummary(Strict):
    case_no: str = Field(..., description="办件编号（GB/T 29869 风格 18 位）")
    node: str = Field(..., description="办件所在节点（行政区划代码）")
    item_code: str = Field(..., description="事项编码")
    item_name: str = Field(..., description="事项名称")
    mode: str = Field(..., description="办理模式：online、proxy、multi_place")
    mode_label: str = Field(..., description="办理模式名称")
    flow: str = Field(..., description="流转方式，如 online、proxy、owner_window、multi_place")
    flow_label: str = Field(..., description="流转方式名称")
    status: str = Field(..., description="办件状态")
    status_label: str = Field(..., description="办件状态名称")
    applicant_name: str = Field(..., description="申请人或企业名称；非经办人员看到的是遮蔽后的姓名")
    applicant_id_number: str = Field(..., description="遮蔽后的公民身份号码")
    submitted_node: str = Field(..., description="受理地节点")
    owner_node: str = Field(..., description="事项所属地节点")
    processing_node: str = Field(..., description="当前办理节点")
    received_at: str | None = Field(None, description="收件时间（北京时间）")
    promised_due: str | None = Field(None, description="承诺办结日期")
    due_provisional: bool = Field(..., description="期限是否为预估（尚未正式受理）")
    warning: str = Field(..., description="预警：空、yellow 黄牌、red 红牌")
    warning_label: str = Field(..., description="预警名称")
    unassigned: bool = Field(..., description="当前办理部门是否尚无工作人员")


class CaseList(Strict):
    total: int = Field(..., description="符合条件的办件总数")
    limit: int
    offset: int
    items: list[CaseSummary]


class ItemRef(Strict):
    code: str
    name: str
    version: int = Field(..., description="办件所依据的事项版本")


class ApplicantOut(Strict):
    name: str = Field(..., description="申请人姓名（按查看人遮蔽）")
    id_number: str = Field(..., description="公民身份号码：经办人员可见全文（记入审计），其余为遮蔽值")
    enterprise_credit_code: str
    enterprise_name: str


class PartyOut(Strict):
    label: str = Field(..., description="当事人称谓，如 男方、女方")
    name: str
    id_number: str


class DepartmentOut(Strict):
    id: int
    name: str
    region: str


class PlaceOut(Strict):
    node: str
    node_name: str
    department: DepartmentOut | None


class SubmittedPlaceOut(PlaceOut):
    by: str = Field(..., description="提交人账号")


class DeliveryPlaceOut(Strict):
    node: str
    node_name: str


class JurisdictionOut(Strict):
    submitted: SubmittedPlaceOut = Field(..., description="受理地")
    owner: PlaceOut = Field(..., description="事项所属地")
    processing: PlaceOut = Field(..., description="当前办理地")
    delivery: DeliveryPlaceOut = Field(..., description="送达地")


class DeadlinesOut(Strict):
    received_at: str | None
    owner_received_at: str | None = Field(..., description="属地部门收到的时间")
    acceptance_due: str | None = Field(..., description="受理期限")
    accepted_at: str | None
    promised_due: str | None = Field(..., description="承诺办结日期（工作日，法定节假日除外）")
    legal_due: str | None = Field(..., description="法定办结日期")
    provisional: bool
    paused_working_days: int = Field(..., description="已暂停的工作日数（补正、特别程序）")
    decided_at: str | None


class LegOut(Strict):
    """One leg of a 多地联办; the timestamps and the due date appear as the leg starts and completes."""

    order: int
    name: str
    place: str
    region: str
    node: str
    department_id: int
    department: str
    limit: int = Field(..., description="本环节时限（工作日）")
    started_at: str | None = None
    completed_at: str | None = None
    due: str | None = None
    provisional: bool | None = Field(None, description="本环节期限是否为预估")


class MaterialOut(Strict):
    code: str
    name: str
    filename: str
    size: int
    content_type: str
    sha256: str
    supplement: bool = Field(..., description="是否为补正材料")


class TimelineEntry(Strict):
    seq: int
    action: str
    label: str
    at: str
    actor_name: str
    role: str
    role_label: str
    node: str
    node_name: str
    reason: str
    data: dict[str, Any] = Field(..., description="动作内容，如补正清单、邮寄运单、决定与送达回证")


class NoticeOut(Strict):
    at: str
    action: str
    label: str
    code: str | None
    detail: str | None


class ExchangeOut(Strict):
    message_id: str
    type: str
    to_node: str
    state: str
    state_label: str
    deadline: str | None
    attempts: int
    error_code: str
    error_detail: str


class OfferedAction(Strict):
    action: str
    label: str
    path: str | None = Field(None, description="不经 /actions 完成的动作所用的地址，如补正")


class PreviewField(Strict):
    label: str
    value: str


class LicenceUseItem(Strict):
    """A licence used instead of a material (用证授权); the preview only for the applicant and holders."""

    id: int
    case_no: str
    material_code: str
    identifier: str = Field(..., description="所用证照的标识；向签发节点申请、尚未答复时可能为空")
    licence_type: str
    issuer_node: str = Field(..., description="签发节点；尚未由国家平台目录找到证照时为空")
    cause: str
    status: str = Field(
        ...,
        description=(
            "requested 等待签发机构答复、awaiting_consent 待持证人授权、releasing 已授权，等待签发机构提供证照、"
            "accepted 已授权使用、refused 持证人拒绝、failed 未能取得证照（见 error_code）"
        ),
    )
    status_label: str
    requested_by: str
    requested_at: str
    decided_at: str | None
    awaiting_holders: int = Field(..., description="尚未答复的持证人数")
    preview: list[PreviewField] = Field(..., description="将共享的全部内容（仅向申请人和持证人显示）")
    annotation: dict[str, str] = Field(
        ..., description="加注件信息：JZJZZSJ 加注时间、JZJZZZ 加注者、JZJZZSY 事由、JZJYXQJZSJ 有效期"
    )
    error_code: str = Field(
        ...,
        description=(
            "未能取得证照的原因：licence_not_held、licence_not_found、licence_of_someone_else、licence_type_mismatch、"
            "licence_not_usable、forged、untrusted_issuer、timeout 等；其余状态为空"
        ),
    )
    error_detail: str = Field(..., description="未能取得证照的原因（中文）")


class CaseDetail(CaseSummary):
    item: ItemRef
    rules_date: str = Field(..., description="适用规则的日期")
    outcome: str = Field(..., description="办理结果：approve 准予、deny 不予；未作决定为空")
    applicant: ApplicantOut
    parties: list[PartyOut] = Field(..., description="共同申请的各方当事人")
    jurisdiction: JurisdictionOut
    deadlines: DeadlinesOut
    legs: list[LegOut] = Field(..., description="多地联办的各环节")
    current_leg: int | None
    form_data: dict[str, Any] = Field(..., description="申请表单：经办人员见全文，其余个人字段遮蔽")
    materials: list[MaterialOut]
    timeline: list[TimelineEntry] = Field(..., description="全程时间线")
    notices: list[NoticeOut] = Field(..., description="对方节点拒绝或超时未答复的请求")
    exchanges: list[ExchangeOut] = Field(..., description="本节点为该办件发出的跨节点交换")
    allowed_actions: list[OfferedAction] = Field(..., description="查看人现在可以做的动作")
    licence_uses: list[LicenceUseItem] = Field(..., description="以电子证照代替材料的授权（用证授权）")


class Forwarded(Strict):
    case_no: str
    requested_at_node: str = Field(..., description="动作已转交的当前办理节点")
    detail: str


class MaterialReceipt(Strict):
    case_no: str
    material_code: str
    filename: str
    size: int
    content_type: str
    sha256: str = Field(..., description="文件的 SHA-256 摘要")
