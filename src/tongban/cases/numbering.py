"""Case numbers (办件编号), unique nationally.

Format: 6-digit submitting node code + yyyyMMdd + 6-digit daily sequence of that node + one
ISO 7064 MOD 11-2 check character, e.g. `370000202506090000128`. The node prefix makes the number
unique across the country without asking anyone; the check character catches a mistyped number
before it reaches the database.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from tongban.cases.models import CaseNumberCounter

_CHECK_CHARS = "10X98765432"


def mod11_2_check(digits: str) -> str:
    total = sum(int(d) * pow(2, len(digits) - i, 11) for i, d in enumerate(digits))
    return _CHECK_CHARS[total % 11]


_CASE_NO = re.compile(r"[0-9]{20}[0-9X]")


def is_well_formed(case_no: str) -> bool:
    return bool(_CASE_NO.fullmatch(case_no)) and mod11_2_check(case_no[:-1]) == case_no[-1]


def next_case_no(node: str, day: dt.date) -> str:
    """Allocate the next number for `node` on `day`; call inside the creating transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("case numbers are allocated inside the transaction that creates the case")
    counter, _ = CaseNumberCounter.objects.select_for_update().get_or_create(node=node, day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    body = f"{node}{day:%Y%m%d}{counter.last:06d}"
    return body + mod11_2_check(body)
