"""GET /api/v1/trust-list: the hub's signed trust list, for nodes to refresh their cache."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from tongban.exchange import trust

router = Router(tags=["节点信任"])


@router.get("/trust-list", response=dict, summary="国家平台签发的信任列表（节点公钥、有效期、状态）")
def trust_list(request: HttpRequest):
    return trust.export_signed()
