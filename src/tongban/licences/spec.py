"""The shape of content/licences/types.yaml: licence types, their GB/T 36903 fields and validity."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tongban.catalog.spec import DepartmentFunctionValue, Identifier, Text, _pattern
from tongban.licences.identifiers import TYPE_CODE_RE

# Industry extensions carry the KZ_ prefix (GB/T 36903); the metadata of every licence is fixed.
EXTENSION_RE = re.compile(r"^KZ_[A-Z][A-Z0-9_]{0,30}$")
SOURCE_RE = re.compile(r"^(form|established)\.[a-z][a-z0-9_]{0,63}$")
ExtensionName = Annotated[str, _pattern(EXTENSION_RE, "扩展字段名须以 KZ_ 开头，由大写字母、数字和下划线组成")]
FieldSource = Annotated[
    str, _pattern(SOURCE_RE, "来源须写成 form.<表单字段名> 或 established.<设立登记结果字段>（credit_code、name）")
]
TypeCode = Annotated[str, _pattern(TYPE_CODE_RE, "证照类型代码须为 18 位统一社会信用代码加 3 位顺序号")]

HOLDER_KINDS = {"person": "个人", "enterprise": "企业", "parties": "共同申请的各方当事人"}
VALIDITY_KINDS = {
    "open": "长期有效",
    "years": "自颁发之日起若干年",
    "months": "自颁发之日起若干个月",
    "until_field": "至申请表中的日期（未填为长期）",
}


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtensionSpec(Spec):
    name: ExtensionName
    label: Text
    # The first source with a value is used. A type no item issues (registered from a department's
    # own system) names no source: its fields are given when the licence is registered.
    source: list[FieldSource] = []
    required: bool = True


class YearsWhenSpec(Spec):
    """A shorter (or longer) term when a yes/no field of the form is answered yes (e.g. a minor's passport)."""

    field: Identifier
    years: int = Field(ge=1, le=100)


class ValiditySpec(Spec):
    kind: Literal["open", "years", "months", "until_field"]
    years: int | None = Field(default=None, ge=1, le=100)
    months: int | None = Field(default=None, ge=1, le=120)
    years_when: YearsWhenSpec | None = None
    field: str = ""

    @model_validator(mode="after")
    def _complete(self) -> ValiditySpec:
        if self.kind == "years" and self.years is None:
            raise ValueError("有效期为若干年时须写明 years")
        if self.kind == "months" and self.months is None:
            raise ValueError("有效期为若干个月时须写明 months")
        if self.kind == "until_field" and not self.field:
            raise ValueError("有效期至申请表中的日期时须写明 field（表单字段名）")
        if self.kind != "years" and (self.years is not None or self.years_when is not None):
            raise ValueError("只有 kind 为 years 时才写 years、years_when")
        if self.kind != "months" and self.months is not None:
            raise ValueError("只有 kind 为 months 时才写 months")
        if self.kind != "until_field" and self.field:
            raise ValueError("只有 kind 为 until_field 时才写 field")
        return self


class LicenceTypeSpec(Spec):
    code: Identifier
    name: Text
    type_code: TypeCode
    department_function: DepartmentFunctionValue
    holder: Literal["person", "enterprise", "parties"]
    extensions: list[ExtensionSpec] = []
    validity: ValiditySpec
    produced_by: list[str] = []
    source: str = Field(min_length=1, max_length=255)
    unverified: list[Text] = []
    notes: str = ""


class LicenceTypesFile(Spec):
    types: list[LicenceTypeSpec] = Field(min_length=1)


def check_types(spec: LicenceTypesFile) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    type_codes: dict[str, int] = {}
    for index, licence_type in enumerate(spec.types):
        path = f"types[{index}]"
        if licence_type.code in seen:
            problems.append((f"{path}.code", f"证照类型“{licence_type.code}”与 types[{seen[licence_type.code]}] 重复"))
        seen.setdefault(licence_type.code, index)
        if licence_type.type_code in type_codes:
            problems.append((f"{path}.type_code", f"证照类型代码与 types[{type_codes[licence_type.type_code]}] 重复"))
        type_codes.setdefault(licence_type.type_code, index)
        names = [e.name for e in licence_type.extensions]
        for position, name in enumerate(names):
            if names.index(name) != position:
                problems.append((f"{path}.extensions[{position}].name", f"扩展字段“{name}”重复"))
        if licence_type.produced_by:
            problems += [
                (f"{path}.extensions[{position}].source", f"由事项签发的证照，扩展字段“{e.name}”须写明取值来源")
                for position, e in enumerate(licence_type.extensions)
                if not e.source
            ]
        if len(set(licence_type.produced_by)) != len(licence_type.produced_by):
            problems.append((f"{path}.produced_by", "事项编码重复"))
        known = {"type_code", "extensions", "validity", "holder", "department_function", "source"}
        problems += [
            (f"{path}.unverified[{i}]", f"“{name}”不是本节中的字段名")
            for i, name in enumerate(licence_type.unverified)
            if name not in known
        ]
    return problems
