"""Licence identifiers (GB/T 36904-2018): `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`.

`type` is the licence type code (the competent authority's 18-character credit code and a 3-digit
sequence), `issuer` the issuing body's credit code (or, where it has none on record, its division
code), `serial` the licence's own serial, `version` three digits, and `check` one character of
ISO 7064 MOD 37,36 over type + issuer + serial + version without the dots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tongban.errors import DomainError

ROOT = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TYPE_CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}[0-9]{3}$")
_PART_RE = re.compile(r"^[0-9A-Z]+$")
VERSION_RE = re.compile(r"^[0-9]{3}$")


def check_character(body: str) -> str:
    """ISO 7064 MOD 37,36 (a hybrid system) over digits and capital letters."""
    product = 36
    for char in body:
        total = (product + ALPHABET.index(char)) % 36 or 36
        product = (2 * total) % 37
    return ALPHABET[(37 - product) % 36]


@dataclass(frozen=True)
class LicenceIdentifier:
    type_code: str
    issuer_code: str
    serial: str
    version: str

    @property
    def check(self) -> str:
        return check_character(self.type_code + self.issuer_code + self.serial + self.version)

    def __str__(self) -> str:
        return ".".join((ROOT, self.type_code, self.issuer_code, self.serial, self.version, self.check))


def make_identifier(type_code: str, issuer_code: str, serial: str, version: int = 1) -> str:
    for label, part in (("证照类型代码", type_code), ("颁发机构代码", issuer_code), ("证照序号", serial)):
        if not _PART_RE.match(part):
            raise ValueError(f"{label}只能由数字和大写字母组成：{part!r}")
    if not 1 <= version <= 999:
        raise ValueError(f"证照版本号须在 1–999 之间：{version}")
    return str(LicenceIdentifier(type_code, issuer_code, serial, f"{version:03d}"))


def parse_identifier(text: str) -> LicenceIdentifier:
    """The parts of a well-formed identifier whose check character is right; else `invalid_licence_identifier`."""
    value = (text or "").strip()
    prefix = ROOT + "."
    parts = value[len(prefix) :].split(".") if value.startswith(prefix) else []
    if len(parts) != 5 or not all(_PART_RE.match(p) for p in parts) or not VERSION_RE.match(parts[3]):
        raise _invalid(text, f"应为 {ROOT}.<类型代码>.<颁发机构代码>.<序号>.<版本号>.<校验码>")
    if len(parts[4]) != 1:
        raise _invalid(text, "校验码应为 1 位数字或大写字母")
    identifier = LicenceIdentifier(*parts[:4])
    if identifier.check != parts[4]:
        raise _invalid(text, f"校验码不符（按 ISO 7064 MOD 37,36 应为 {identifier.check}）")
    return identifier


def _invalid(text: str, why: str) -> DomainError:
    shown = text if len(text or "") <= 80 else text[:80] + "…"
    return DomainError("invalid_licence_identifier", f"电子证照标识“{shown}”无效：{why}。", status=422)
