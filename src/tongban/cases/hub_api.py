"""The national hub's view of every node's cases: /api/v1/case-summaries (全国办件概况).

Summaries carry no personal data (cases.reporting), so a hub supervisor sees every case in the
federation without seeing who applied; the applicant's details stay at the nodes that handle the case.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest
from ninja import Field, Query, Router

from tongban.cases.api import check_filter
from tongban.cases.models import CaseStatus, HubCaseSummary, Warning
from tongban.cases.numbering import is_well_formed
from tongban.cases.schemas import Strict
from tongban.cases.views import iso
from tongban.catalog.models import Mode
from tongban.catalog.services import parse_boolean
from tongban.errors import Forbidden, NotFound
from tongban.identity.actors import Actor, request_actor
from tongban.identity.auth import token_or_session
from tongban.problems import problems
from tongban.regions.models import Department, DepartmentFunction
from tongban.validation import page_window

router = Router(tags=["全国督办"], auth=token_or_session)


class DepartmentRef(Strict):
    id: int
    name: str
    region: str


class HubCaseSummaryOut(Strict):
    case_no: str
    reported_by: str = Field(..., description="报告该概况的节点（当时持有办件的节点）")
    as_of: str = Field(..., description="概况截至的时间（北京时间）")
    action_count: int
    last_action: str = Field(..., description="最近一个办件动作")
    item_code: str
    item_name: str
    item_version: int
    mode: str
    flow: str
    status: str
    status_label: str
    outcome: str
    applicant_type: str = Field(..., description="person 个人、enterprise 企业；不含申请人信息")
    submitted_node: str
    owner_node: str
    processing_node: str
    delivery_node: str
    submitted_department: DepartmentRef | None
    owner_department: DepartmentRef | None
    processing_department: DepartmentRef | None
    received_at: str | None
    accepted_at: str | None
    decided_at: str | None
    promised_due: str | None
    legal_due: str | None
    due_provisional: bool
    paused_working_days: int
    warning: str
    warning_label: str
    unassigned: bool = Field(..., description="当前办理部门尚无工作人员")


class HubCaseList(Strict):
    total: int
    limit: int
    offset: int
    warnings: dict[str, int] = Field(..., description="符合条件的办件中黄灯、红牌的数量")
    items: list[HubCaseSummaryOut]


def _hub_supervisor(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    at_hub = actor.node == settings.TONGBAN_HUB_NODE
    if not at_hub or not (actor.has_role("supervisor") or actor.has_role("administrator")):
        raise Forbidden(
            "hub_supervisor_required",
            "全国办件概况只向国家政务服务平台（节点 000000）的督办人员和管理员开放。",
        )
    return actor


def _names(rows: list[HubCaseSummary]) -> dict[tuple[str, str], tuple[int, str]]:
    """The departments the summaries name, in one query: (region, function) → (id, name)."""
    wanted = {(getattr(r, f"{role}_region"), getattr(r, f"{role}_function")) for r in rows for role in ROLES}
    regions = {region for region, _ in wanted if region}
    found = Department.objects.filter(region_id__in=regions).values_list("region_id", "function", "pk", "name")
    return {(region, function): (pk, name) for region, function, pk, name in found if (region, function) in wanted}


ROLES = ("submitted", "owner", "processing")


def _department(row: HubCaseSummary, role: str, names: dict) -> DepartmentRef | None:
    region, function = getattr(row, f"{role}_region"), getattr(row, f"{role}_function")
    if not region:
        return None
    label = dict(DepartmentFunction.choices).get(function, "")
    pk, name = names.get((region, function), (0, f"{region} {label}部门"))  # a department this hub has no row of
    return DepartmentRef(id=pk, name=name, region=region)


def _out(row: HubCaseSummary, names: dict) -> HubCaseSummaryOut:
    return HubCaseSummaryOut(
        case_no=row.case_no,
        reported_by=row.reported_by,
        as_of=iso(row.as_of) or "",
        action_count=row.action_count,
        last_action=row.last_action,
        item_code=row.item_code,
        item_name=row.item_name,
        item_version=row.item_version,
        mode=row.mode,
        flow=row.flow,
        status=row.status,
        status_label=row.get_status_display(),
        outcome=row.outcome,
        applicant_type=row.applicant_type,
        submitted_node=row.submitted_node,
        owner_node=row.owner_node,
        processing_node=row.processing_node,
        delivery_node=row.delivery_node,
        submitted_department=_department(row, "submitted", names),
        owner_department=_department(row, "owner", names),
        processing_department=_department(row, "processing", names),
        received_at=iso(row.received_at),
        accepted_at=iso(row.accepted_at),
        decided_at=iso(row.decided_at),
        promised_due=iso(row.promised_due),
        legal_due=iso(row.legal_due),
        due_provisional=row.due_provisional,
        paused_working_days=row.paused_working_days,
        warning=row.warning,
        warning_label=row.get_warning_display() if row.warning else "",
        unassigned=row.unassigned,
    )


def _rows():
    return HubCaseSummary.objects.filter(node=settings.TONGBAN_HUB_NODE)


@router.get(
    "",
    response=HubCaseList,
    summary="全国办件概况（不含个人信息）",
    openapi_extra=problems({403: ["hub_supervisor_required"], 422: ["invalid_filter"]}),
)
def list_summaries(
    request: HttpRequest,
    status: str = "",
    mode: str = "",
    warning: str = "",
    item: str = "",
    node: str = Query("", description="只看与该节点有关的办件：收件、属地或当前办理节点"),
    unassigned: str = Query("", description="是：只看无人办理的办件；否：只看有人办理的"),
    limit: int = 50,
    offset: int = 0,
):
    _hub_supervisor(request)
    check_filter("status", "办件状态", status, dict(CaseStatus.choices))
    check_filter("mode", "办理模式", mode, dict(Mode.choices))
    check_filter("warning", "预警", warning, {k: v for k, v in Warning.choices if k})
    rows = _rows()
    if status:
        rows = rows.filter(status=status)
    if mode:
        rows = rows.filter(mode=mode)
    if warning:
        rows = rows.filter(warning=warning)
    if item:
        rows = rows.filter(item_code=item)
    if node:
        rows = rows.filter(Q(submitted_node=node) | Q(owner_node=node) | Q(processing_node=node))
    if unassigned:
        wanted = parse_boolean(unassigned)
        check_filter("unassigned", "无人办理", "" if wanted is not None else unassigned, {"是": "是", "否": "否"})
        rows = rows.filter(unassigned=wanted)
    counts = rows.aggregate(yellow=Count("pk", filter=Q(warning="yellow")), red=Count("pk", filter=Q(warning="red")))
    limit, offset = page_window(limit, offset)
    page = list(rows.order_by("-received_at", "-id")[offset : offset + limit])
    names = _names(page)
    return HubCaseList(
        total=rows.count(), limit=limit, offset=offset, warnings=counts, items=[_out(row, names) for row in page]
    )


@router.get(
    "/{case_no}",
    response=HubCaseSummaryOut,
    summary="一件办件的概况（不含个人信息）",
    openapi_extra=problems({403: ["hub_supervisor_required"], 404: ["case_not_found"]}),
)
def get_summary(request: HttpRequest, case_no: str):
    _hub_supervisor(request)
    row = _rows().filter(case_no=case_no).first() if is_well_formed(case_no) else None
    if row is None:
        raise NotFound("case_not_found", f"国家平台尚未收到该办件的概况：{case_no}")
    return _out(row, _names([row]))
