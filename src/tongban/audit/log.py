"""Write audit entries. Call inside the transaction of the change being audited."""

from __future__ import annotations

from typing import Any

from tongban import clock
from tongban.audit.models import AuditEntry


def record(
    code: str,
    *,
    node: str,
    object_type: str,
    object_id: str,
    actor: str = "",
    role: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    if not code.startswith("tongban."):
        raise ValueError(f"audit codes are namespaced under 'tongban.': {code}")
    return AuditEntry.objects.create(
        code=code,
        node=node,
        actor=actor,
        role=role,
        at=clock.now(),
        object_type=object_type,
        object_id=object_id,
        data=data or {},
    )
