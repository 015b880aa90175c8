"""Departments travel between nodes by (region code, function), never by a database id.

Every node resolves the same reference to its own row (`department_for` creates a county department
on first use), so the protocol does not depend on how one database numbered its departments.
"""

from __future__ import annotations

from typing import Any

from tongban.regions.models import Department
from tongban.regions.queries import department_for


def department_ref(department_id: int | None) -> dict[str, str] | None:
    if department_id is None:
        return None
    region, function = Department.objects.filter(pk=department_id).values_list("region_id", "function").get()
    return {"region": region, "function": function}


def department_refs(*department_ids: int | None) -> list[dict[str, str] | None]:
    """The references of several departments in one query, in the order asked."""
    wanted = {pk for pk in department_ids if pk is not None}
    found = {
        pk: {"region": region, "function": function}
        for pk, region, function in Department.objects.filter(pk__in=wanted).values_list("pk", "region_id", "function")
    }
    return [found.get(pk) if pk is not None else None for pk in department_ids]


def department_id_of(ref: dict[str, str] | None) -> int | None:
    if not ref:
        return None
    # The common case is one indexed lookup; department_for (which may walk up the hierarchy or create a
    # county department) only when this node has no such row yet.
    found = Department.objects.filter(region_id=ref["region"], function=ref["function"]).values_list("pk", flat=True)
    return found.first() or department_for(ref["region"], ref["function"]).pk


def legs_out(legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{k: v for k, v in leg.items() if k != "department_id"},
            "department_ref": department_ref(leg["department_id"]),
        }
        for leg in legs
    ]


def legs_in(legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{k: v for k, v in leg.items() if k != "department_ref"},
            "department_id": department_id_of(leg["department_ref"]),
        }
        for leg in legs
    ]
