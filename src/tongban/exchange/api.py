"""GET /api/v1/trust-list: the hub's signed trust list, for nodes to refresh their cache."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from tongban.exchange import trust
from tongban.problems import problems

router = Router(tags=["节点信任"])


class SignedTrustListOut(Schema):
    document: dict[str, Any] = Field(
        ..., description="信任列表：版本、签发时间和各节点的公钥、有效期与状态（格式见 docs/protocol.md）"
    )
    signature: str = Field(..., description="国家平台以 SM2 对 document 规范编码所作的签名（Base64）")
    hub_key_id: str = Field(..., description="签名所用的国家平台密钥标识")


@router.get(
    "/trust-list",
    response=SignedTrustListOut,
    summary="国家平台签发的信任列表（节点公钥、有效期、状态）",
    openapi_extra=problems({404: {"trust_list_missing": "本节点尚未持有信任列表"}}),
)
def trust_list(request: HttpRequest) -> dict[str, Any]:
    return trust.export_signed()
