"""The applicant is the applicant: the form's identity fields must name who really applies.

Fields marked `binds` in the catalog (see catalog.spec.FIELD_BINDINGS) are checked against the
identity the platform knows: the logged-in account, the approved enterprise it acts for, or the person
whose identity a window clerk verified. Joint applications (marriage: both parties) name each party; the
person applying must be one of them, and every party can follow the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tongban.catalog.models import ItemVersion
from tongban.errors import DomainError


@dataclass(frozen=True)
class Identity:
    """Who applies, as the platform knows them; empty strings are not checked."""

    person_name: str = ""
    person_id_number: str = ""
    enterprise_name: str = ""
    enterprise_credit_code: str = ""
    # For an enterprise, the person at the keyboard or the window is its agent (经办人).
    acts_as_agent: bool = False


@dataclass(frozen=True)
class Party:
    label: str
    name: str
    id_number: str


SOURCES = {
    "applicant_name": ("person_name", "申请人本人"),
    "applicant_id_number": ("person_id_number", "申请人本人"),
    "agent_name": ("person_name", "经办人本人"),
    "agent_id_number": ("person_id_number", "经办人本人"),
    "enterprise_name": ("enterprise_name", "平台登记的企业"),
    "enterprise_credit_code": ("enterprise_credit_code", "平台登记的企业"),
}


def bound_fields(version: ItemVersion) -> list[dict[str, Any]]:
    return [field for field in version.form_fields if field.get("binds")]


def parties_of(version: ItemVersion, form: dict[str, Any]) -> list[Party]:
    """The parties a joint application names, in the order of the form."""
    found: dict[str, dict[str, str]] = {}
    for field in bound_fields(version):
        if field["binds"] in ("party_name", "party_id_number") and form.get(field["name"]):
            found.setdefault(field["party"], {})[field["binds"]] = str(form[field["name"]])
    return [
        Party(label, values.get("party_name", ""), values.get("party_id_number", "")) for label, values in found.items()
    ]


def check_form_identity(version: ItemVersion, form: dict[str, Any], identity: Identity) -> list[Party]:
    """Raise `applicant_mismatch` listing every field that names someone else; return the parties."""
    errors: list[dict[str, str]] = []
    for field in bound_fields(version):
        binding, name = field["binds"], field["name"]
        if binding not in SOURCES or name not in form:
            continue
        attribute, whom = SOURCES[binding]
        if binding.startswith("enterprise_") and not identity.enterprise_credit_code and not identity.enterprise_name:
            continue  # an establishment: the enterprise does not exist yet
        if binding.startswith("agent_") and not identity.acts_as_agent:
            continue
        expected = getattr(identity, attribute)
        if expected and _normal(form[name]) != _normal(expected):
            errors.append(_mismatch(field, whom))
    parties = parties_of(version, form)
    if parties and not any(_is(party, identity) for party in parties):
        errors.append(
            {
                "field": next(f["name"] for f in bound_fields(version) if f["binds"] == "party_id_number"),
                "code": "applicant_not_a_party",
                "message": "申请人须为当事人之一：各当事人的姓名和公民身份号码须如实填写。",
            }
        )
    if errors:
        raise DomainError(
            "applicant_mismatch",
            "表单中的申请人信息与办理人的实名信息不一致：只能以本人（或经办企业）的名义申请。",
            status=422,
            errors=errors,
        )
    return parties


def _is(party: Party, identity: Identity) -> bool:
    return (
        bool(identity.person_id_number)
        and party.id_number == identity.person_id_number
        and _normal(party.name) == _normal(identity.person_name)
    )


def _normal(value: Any) -> str:
    return str(value).strip().upper()


def _mismatch(field: dict[str, Any], whom: str) -> dict[str, str]:
    return {
        "field": field["name"],
        "code": "applicant_mismatch",
        "message": f"“{field['label']}”须与{whom}的实名信息一致。",
    }
