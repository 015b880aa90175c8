"""Regions API: browse GB/T 2260 divisions, see which edition they are, find the node that serves one. No login."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema

from tongban.errors import NotFound
from tongban.problems import problems
from tongban.regions import queries
from tongban.regions.models import DivisionEdition, Node, Region

router = Router(tags=["行政区划"])


class RegionOut(Schema):
    code: str = Field(..., description="区划代码（GB/T 2260，6 位）", examples=["370102"])
    name: str = Field(..., description="名称", examples=["历下区"])
    level: int = Field(..., description="级别：1 省级，2 地级，3 县级", examples=[3])
    level_name: str = Field(..., description="级别名称", examples=["县级"])
    parent: str | None = Field(None, description="上级区划代码；省级为空", examples=["370100"])
    current: bool = Field(
        ..., description="是否列于现行版本；为 false 的是现行版本已不再列入的旧区划（如 500112 渝北区）"
    )

    @staticmethod
    def from_region(region: Region) -> RegionOut:
        return RegionOut(
            code=region.code,
            name=region.name,
            level=region.level,
            level_name=region.get_level_display(),
            parent=region.parent_id,
            current=region.current,
        )


class EditionOut(Schema):
    name: str = Field(..., description="区划表的版本", examples=["民政部国家地名信息库县级以上行政区划（2026-09-11）"])
    date: dt.date = Field(..., description="数据日期：区划表反映的是这一天的区划")
    source: str = Field(..., description="数据来源")

    @staticmethod
    def from_edition(edition: DivisionEdition) -> EditionOut:
        return EditionOut(name=edition.name, date=edition.date, source=edition.source)


class RegionListOut(Schema):
    edition: EditionOut | None = Field(..., description="已装载的区划表的版本；尚未装载时为 null")
    regions: list[RegionOut] = Field(..., description="区划列表（只含现行区划）")


class NodeOut(Schema):
    code: str = Field(..., description="节点编码：省级节点为本省区划代码，国家平台为 000000", examples=["370000"])
    name: str = Field(..., description="平台名称", examples=["山东省政务服务平台"])
    is_hub: bool = Field(..., description="是否国家政务服务平台")
    active: bool = Field(..., description="是否启用")

    @staticmethod
    def from_node(node: Node) -> NodeOut:
        return NodeOut(code=node.code, name=node.name, is_hub=node.is_hub, active=node.active)


class RegionDetailOut(RegionOut):
    ancestors: list[RegionOut] = Field(..., description="各级上级区划，自省级起")
    node: NodeOut | None = Field(None, description="为该区划提供服务的省级平台节点")


class RegionFilter(Schema):
    parent: str | None = Field(None, description="上级区划代码；不填则列出 31 个省级区划", examples=["370000"])


@router.get(
    "",
    response=RegionListOut,
    summary="列出行政区划",
    description=(
        "不带 parent 时列出省级区划；带 parent 时列出其直接下级（只含现行区划）。edition 说明区划表的版本、"
        "数据日期和来源。上级代码不存在时返回 region_unknown。"
    ),
    openapi_extra=problems({404: {"region_unknown": "上级区划代码不存在或格式不对"}}),
)
def list_regions(request: HttpRequest, filters: Query[RegionFilter]) -> RegionListOut:
    regions = [RegionOut.from_region(region) for region in queries.children(filters.parent or None)]
    edition = queries.edition()
    return RegionListOut(edition=EditionOut.from_edition(edition) if edition else None, regions=regions)


@router.get(
    "/{code}",
    response=RegionDetailOut,
    summary="查询行政区划",
    description="返回区划本身、各级上级区划和为其服务的省级平台节点。代码不存在时返回 region_unknown。",
    openapi_extra=problems({404: {"region_unknown": "区划代码不存在或格式不对"}}),
)
def get_region(
    request: HttpRequest, code: PathEx[str, P(description="区划代码：6 位，或补零至 12 位", example="370102")]
) -> RegionDetailOut:
    chain = queries.lineage(code)
    try:
        node: NodeOut | None = NodeOut.from_node(queries.node_for_region(chain[0].code))
    except NotFound:
        node = None
    return RegionDetailOut(
        **RegionOut.from_region(chain[0]).model_dump(),
        ancestors=[RegionOut.from_region(region) for region in reversed(chain[1:])],
        node=node,
    )
