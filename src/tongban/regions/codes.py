"""Which six-digit region codes the identifiers may carry, read from content/regions once per process.

A 公民身份号码's address code and a 统一社会信用代码's registration code are checked against every code
GB/T 2260 has listed since 1980 (historical_codes.csv, plus the current and former division tables), not
only the current edition: a county abolished since still appears on old cards and old registrations.
Validation runs on every form field of type id_number, so the lists are read once into frozensets and a
check is one set look-up; no database query.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tongban.regions.content import RegionContentError, fail, text

HISTORICAL_CODES = "historical_codes.csv"
REGISTRATION_CODES = "registration_codes.csv"
DIVISIONS = "divisions.csv"
FORMER_DIVISIONS = "former_divisions.csv"
HISTORY_HEADER = ["code", "names", "sources"]
REGISTRATION_HEADER = ["code", "name", "evidence", "note"]
# Mainland codes only: 台湾省 71, 香港 81 and 澳门 82 are answered by the residence-permit rules below.
MAINLAND_CODE = re.compile(r"^[1-6]\d{5}$")

# 港澳台居民居住证 numbers follow GB 11643 with these address codes
# (《港澳台居民居住证申领发放办法》，国办发〔2018〕81号).
RESIDENCE_PERMIT_CODES = {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾地区"}
# Central registrations (国务院机构、全国性社会团体 …) carry 100000 in a 统一社会信用代码, which is no division.
NATIONAL_REGISTRATION_CODE = "100000"


@dataclass(frozen=True)
class CodeLists:
    listed: frozenset[str]
    """Every mainland code some GB/T 2260 edition since 1980 has listed."""
    registration: dict[str, str]
    """Registration-authority codes seen in real 统一社会信用代码 that no edition lists (code → name)."""

    def listed_in_gbt2260(self, code: str) -> bool:
        return code in self.listed

    def registration_code_known(self, code: str) -> bool:
        return code == NATIONAL_REGISTRATION_CODE or code in self.listed or code in self.registration


def rows(path: Path, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of one of our CSV files; `#` lines are comments."""
    if not path.is_file():
        raise fail(path, "", "文件不存在")
    numbered = [
        (n, line)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    parsed = list(csv.reader(line for _, line in numbered))
    if not parsed or parsed[0] != header:
        raise fail(path, "表头", f"应为 {','.join(header)}")
    found = []
    for (number, _), row in zip(numbered[1:], parsed[1:], strict=True):
        if len(row) != len(header):
            raise fail(path, f"第 {number} 行", f"应有 {len(header)} 列，实际 {len(row)} 列")
        found.append((number, dict(zip(header, row, strict=True))))
    return found


def _code(value: str, path: Path, where: str) -> str:
    if not MAINLAND_CODE.match(value):
        raise fail(path, where, f"代码应为 6 位数字且首位为 1–6，实际为 {value!r}")
    return value


def read_historical_codes(path: Path) -> frozenset[str]:
    codes: set[str] = set()
    for number, row in rows(path, HISTORY_HEADER):
        where = f"第 {number} 行"
        code = _code(row["code"], path, where)
        if code in codes:
            raise fail(path, where, f"代码 {code} 重复")
        text(row["names"], path, where, max_length=512)
        text(row["sources"], path, where, max_length=128)
        codes.add(code)
    return frozenset(codes)


def read_registration_codes(path: Path, listed: frozenset[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, row in rows(path, REGISTRATION_HEADER):
        where = f"第 {number} 行"
        code = _code(row["code"], path, where)
        if code in found:
            raise fail(path, where, f"代码 {code} 重复")
        if code in listed:
            raise fail(path, where, f"代码 {code} 已是 GB/T 2260 收录的代码，不必列在此处")
        # Each entry must say which real codes carry it, or it is a guess.
        text(row["evidence"], path, where, max_length=512)
        found[code] = text(row["name"], path, where, max_length=64)
    return found


def division_codes(path: Path) -> set[str]:
    return {row["code"] for _, row in rows(path, ["code", "name", "level", "parent"])}


def former_codes(path: Path) -> set[str]:
    return {row["code"] for _, row in rows(path, ["code", "name", "level", "parent", "delisted", "note"])}


def read_code_lists(folder: Path) -> CodeLists:
    """Read and check the code lists in a content/regions folder; raise RegionContentError on bad content."""
    listed = read_historical_codes(folder / HISTORICAL_CODES)
    listed |= division_codes(folder / DIVISIONS) | former_codes(folder / FORMER_DIVISIONS)
    return CodeLists(
        listed=frozenset(listed), registration=read_registration_codes(folder / REGISTRATION_CODES, listed)
    )


@functools.cache
def _cached(folder: str) -> CodeLists:
    return read_code_lists(Path(folder))


def code_lists() -> CodeLists:
    """The lists in the configured content folder, read on first use in this process."""
    return _cached(str(Path(settings.CONTENT_DIR) / "regions"))


__all__ = [
    "NATIONAL_REGISTRATION_CODE",
    "RESIDENCE_PERMIT_CODES",
    "CodeLists",
    "RegionContentError",
    "code_lists",
    "read_code_lists",
]
