"""Load content/licences/types.yaml: validated whole before anything is written, idempotent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tongban.catalog.loader import ContentError, read_spec
from tongban.licences.models import Licence, LicenceType
from tongban.licences.spec import LicenceTypesFile, LicenceTypeSpec, check_types

TYPES_FILE = Path("licences") / "types.yaml"


def read_types(content_dir: Path) -> LicenceTypesFile:
    path = Path(content_dir) / TYPES_FILE
    if not path.is_file():
        raise ContentError([f"{TYPES_FILE}：文件不存在"])
    return read_spec(path, str(TYPES_FILE), LicenceTypesFile, check_types, "列出证照类型（types）")


def _values(spec: LicenceTypeSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "type_code": spec.type_code,
        "department_function": spec.department_function,
        "holder_kind": spec.holder,
        "extensions": [e.model_dump() for e in spec.extensions],
        "validity": spec.validity.model_dump(exclude_none=True),
        "source": spec.source,
        "unverified": list(spec.unverified),
        "notes": spec.notes,
    }


def load_licence_types(content_dir: Path) -> dict[str, int]:
    spec = read_types(content_dir)
    stats: Counter[str] = Counter()
    existing = {row.code: row for row in LicenceType.objects.all()}
    for licence_type in spec.types:
        values = _values(licence_type)
        row = existing.get(licence_type.code)
        if row is None:
            LicenceType.objects.create(code=licence_type.code, **values)
            stats["created"] += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            stats["updated"] += 1
    gone = set(existing) - {t.code for t in spec.types}
    issued = set(Licence.objects.filter(licence_type_id__in=gone).values_list("licence_type_id", flat=True))
    if issued:
        raise ContentError([f"{TYPES_FILE}：证照类型 {code} 已有签发的证照，不能删除" for code in sorted(issued)])
    stats["deleted"] = LicenceType.objects.filter(code__in=gone).delete()[0]
    return {"licence_types": len(spec.types), **{k: stats[k] for k in ("created", "updated", "deleted")}}
