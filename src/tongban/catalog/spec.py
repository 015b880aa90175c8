"""The item content format: what one YAML file under content/items/ may say.

Pydantic checks each field on its own; `check_item` then checks how the fields fit together and
reports every problem with the path of the field it concerns. All messages are Chinese because
content authors read them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from tongban.catalog.models import ApplicantType, ItemType, JurisdictionRule, LimitUnit, Mode, Theme
from tongban.regions.models import DepartmentFunction

# What a form field says about who applies: checked against the logged-in applicant, the enterprise
# or the person a window verified (cases.applicants); `party_*` name each party of a joint application.
FIELD_BINDINGS = (
    "applicant_name",
    "applicant_id_number",
    "enterprise_name",
    "enterprise_credit_code",
    "legal_representative",
    "agent_name",
    "agent_id_number",
    "party_name",
    "party_id_number",
    # The name of the organisation an approval establishes, where the applicant is another one (分公司名称).
    "established_name",
)
# What an establishment item brings into being (its credit code's 机构类别: 1 企业, 2 个体工商户), and who
# applies: a person for an enterprise or an individual business, the company itself for its branch.
ESTABLISHMENT_KINDS = ("enterprise", "individual_business", "branch")
# Field types that are personal data whatever the content says (masked for everyone but the handlers).
PERSONAL_FIELD_TYPES = ("id_number", "phone")
FIELD_TYPES = ("text", "date", "id_number", "credit_code", "region", "choice", "phone", "integer", "boolean")
MATERIAL_REQUIREMENTS = ("required", "conditional")
MATERIAL_FORMS = ("original", "copy", "electronic")
LEG_PLACES = ("destination", "origin", "owner")
DELIVERIES = ("online", "mail", "window")
HANDOVER_STEPS = ("push", "mail", "recheck", "result_mail")
# Inner Mongolia's 2023 defaults for 异地代收代办; a coverage entry may override each step.
DEFAULT_HANDOVER_DAYS = {"push": 1, "mail": 2, "recheck": 1, "result_mail": 1}
DELIVERY_LABELS = {"online": "网上送达", "mail": "邮寄送达", "window": "窗口领取"}
FIELD_TYPE_LABELS = {
    "text": "文本",
    "date": "日期",
    "id_number": "公民身份号码",
    "credit_code": "统一社会信用代码",
    "region": "行政区划",
    "choice": "选项",
    "phone": "电话号码",
    "integer": "整数",
    "boolean": "是/否",
}

# The form field (a region code) that decides the owning region under each jurisdiction rule.
RULE_FACTS = {
    JurisdictionRule.HUKOU: "hukou_region",
    JurisdictionRule.INSURED: "insured_region",
    JurisdictionRule.FUND: "fund_region",
    JurisdictionRule.DOMICILE: "domicile_region",
    JurisdictionRule.PROPERTY: "property_region",
    JurisdictionRule.RESIDENCE_PERMIT: "residence_permit_region",
    JurisdictionRule.DESTINATION: "destination_region",
    JurisdictionRule.APPLICANT_CHOICE: "chosen_region",
}
PLACE_FACTS = {"destination": "destination_region", "origin": "origin_region"}

ITEM_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{2,39}$")
IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NODE_CODE_RE = re.compile(r"^\d{2}0000$")


def _choice(values: Iterable[str], aliases: Mapping[str, str] | None = None) -> BeforeValidator:
    """Accept one of `values` (or a label in `aliases`, mapped to its value); YAML numbers count as text."""
    allowed = tuple(values)
    alias_map = dict(aliases or {})

    def check(raw: Any) -> str:
        value = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if isinstance(value, str):
            value = value.strip()
            if value in allowed:
                return value
            if value in alias_map:
                return alias_map[value]
        shown = "、".join(allowed)
        if alias_map:
            shown += "（或其中文名称：" + "、".join(alias_map) + "）"
        raise ValueError(f"取值必须是 {shown} 之一")

    return BeforeValidator(check)


def _labels_to_values(choices: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {label: value for value, label in choices if label != value}


ThemeValue = Annotated[str, _choice(Theme.values)]
ApplicantTypeValue = Annotated[str, _choice(ApplicantType.values, _labels_to_values(ApplicantType.choices))]
ItemTypeValue = Annotated[str, _choice(ItemType.values, _labels_to_values(ItemType.choices))]
DepartmentFunctionValue = Annotated[str, _choice(DepartmentFunction.values)]
ModeValue = Annotated[str, _choice(Mode.values)]
JurisdictionValue = Annotated[str, _choice(JurisdictionRule.values)]
LimitUnitValue = Annotated[str, _choice(LimitUnit.values, _labels_to_values(LimitUnit.choices))]
FieldTypeValue = Annotated[str, _choice(FIELD_TYPES)]
FieldBindingValue = Annotated[str, _choice(("", *FIELD_BINDINGS))]
RequirementValue = Annotated[str, _choice(MATERIAL_REQUIREMENTS)]
MaterialFormValue = Annotated[str, _choice(MATERIAL_FORMS)]
PlaceValue = Annotated[str, _choice(LEG_PLACES)]
DeliveryValue = Annotated[str, _choice(DELIVERIES)]
Text = Annotated[str, Field(min_length=1)]


def _pattern(regex: re.Pattern[str], message: str) -> BeforeValidator:
    def check(raw: Any) -> str:
        if isinstance(raw, str) and regex.match(raw):
            return raw
        raise ValueError(message)

    return BeforeValidator(check)


ItemCode = Annotated[str, _pattern(ITEM_CODE_RE, "事项编码只能由字母、数字、点和连字符组成，长度 3–40")]
Identifier = Annotated[
    str, _pattern(IDENTIFIER_RE, "必须是以小写字母开头、由小写字母、数字和下划线组成的标识，最长 32 位")
]
NodeCode = Annotated[str, _pattern(NODE_CODE_RE, "节点编码必须是 000000 或省级区划代码（如 110000）")]


def _when_value(raw: Any) -> Any:
    scalar = (str, int, bool)
    if isinstance(raw, scalar) or (isinstance(raw, list) and raw and all(isinstance(v, scalar) for v in raw)):
        return raw
    raise ValueError("必须是一个取值（文本、数字、true/false）或由取值组成的非空列表")


WhenValue = Annotated[Any, BeforeValidator(_when_value)]


def _nodes(raw: Any) -> Any:
    if raw == "all" or isinstance(raw, list):
        return raw
    raise ValueError("必须是 all 或节点编码列表")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSpec(Spec):
    value: int = Field(ge=0)
    unit: LimitUnitValue = "1"


class FormFieldSpec(Spec):
    name: Identifier
    label: Text
    type: FieldTypeValue
    required: bool = False
    choices: list[Text] = []
    help: str = ""
    # Who the field names (see FIELD_BINDINGS); `party` labels the party of a joint application (男方).
    binds: FieldBindingValue = ""
    party: str = Field(default="", max_length=16)
    # Personal information (个人信息保护法): masked for everyone but the case's handlers.
    personal: bool = False


class MaterialSpec(Spec):
    code: Identifier
    name: Text
    requirement: RequirementValue
    condition: str = ""
    when: dict[str, WhenValue] = {}
    form: MaterialFormValue
    licence_type: str = Field(default="", max_length=64)


class LegSpec(Spec):
    order: int = Field(ge=1)
    name: Text
    place: PlaceValue
    department_function: DepartmentFunctionValue
    limit: int = Field(ge=0)


RESULT_OPERATIONS = {"issue": "01", "renew": "02", "other": "07", "transfer_in": "08", "change": "09"}
ResultOperationValue = Annotated[str, _choice(RESULT_OPERATIONS)]


class ResultLicenceChoice(Spec):
    field: Identifier
    types: dict[str, Identifier] = Field(min_length=1)


class VersionSpec(Spec):
    version: int = Field(ge=1)
    valid_from: dt.date
    valid_until: dt.date | None = None
    is_immediate: bool = False
    modes: list[ModeValue] = Field(min_length=1)
    jurisdiction_rule: JurisdictionValue
    legal_limit: LimitSpec
    promised_limit: LimitSpec
    form_fields: list[FormFieldSpec] = []
    materials: list[MaterialSpec] = []
    legs: list[LegSpec] = []
    fees: Text = "不收费"
    # An establishment item (企业设立登记): applied for by a person; the enterprise and its credit code
    # come into being with the approval.
    establishes_enterprise: bool = False
    establishment_kind: Annotated[str, _choice(ESTABLISHMENT_KINDS)] = "enterprise"
    result_type: Text
    # The electronic licence the approval issues (content/licences/types.yaml), or the form field whose
    # answer chooses it (补领结婚证或离婚证); and whether it is a new licence or replaces one.
    result_licence: Identifier | ResultLicenceChoice | None = None
    result_operation: ResultOperationValue = "issue"
    result_delivery: list[DeliveryValue] = Field(min_length=1)
    legal_basis: str = ""
    conditions: str = ""
    source: str = Field(min_length=1, max_length=255)
    unverified: list[Text] = []
    notes: str = ""


class CoverageSpec(Spec):
    nodes: Annotated[Any, BeforeValidator(_nodes)]
    modes: list[ModeValue] = Field(min_length=1)
    valid_from: dt.date
    valid_until: dt.date | None = None
    proxy_handover_days: dict[str, int] = {}
    note: str = Field(default="", max_length=255)
    source: str = Field(default="", max_length=255)
    unverified: list[Text] = []


class ItemSpec(Spec):
    code: ItemCode
    name: Annotated[str, Field(min_length=1, max_length=128)]
    theme: ThemeValue
    applicant_type: ApplicantTypeValue
    department_function: DepartmentFunctionValue
    item_type: ItemTypeValue
    versions: list[VersionSpec] = Field(min_length=1)
    coverage: list[CoverageSpec] = []


# --- cross-checks -------------------------------------------------------------------------------

Problem = tuple[str, str]  # (field path, Chinese message)

VERSION_FIELDS = frozenset(VersionSpec.model_fields) | {"code", "name", "item_type", "coverage"}
COVERAGE_FIELDS = frozenset(CoverageSpec.model_fields)


def _overlaps(a_from: dt.date, a_until: dt.date | None, b_from: dt.date, b_until: dt.date | None) -> bool:
    return (b_until is None or a_from < b_until) and (a_until is None or b_from < a_until)


def _period(start: dt.date, end: dt.date | None) -> str:
    return f"{start.isoformat()} 至 {end.isoformat() if end else '长期'}"


def check_item(item: ItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_versions(item)
    for index, version in enumerate(item.versions):
        problems += _check_version(f"versions[{index}]", version)
        problems += _check_establishment(f"versions[{index}]", version, item.applicant_type)
    for index, coverage in enumerate(item.coverage):
        problems += _check_coverage(f"coverage[{index}]", coverage, item.versions)
    problems += _check_coverage_overlap(item.coverage)
    return problems


def _check_versions(item: ItemSpec) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[int, int] = {}
    for index, version in enumerate(item.versions):
        if version.version in seen:
            problems.append(
                (f"versions[{index}].version", f"版本号 {version.version} 与 versions[{seen[version.version]}] 重复")
            )
        seen.setdefault(version.version, index)
        if version.valid_until is not None and version.valid_until <= version.valid_from:
            problems.append((f"versions[{index}].valid_until", "失效日期必须晚于生效日期"))
    for i, a in enumerate(item.versions):
        for j in range(i + 1, len(item.versions)):
            b = item.versions[j]
            if _overlaps(a.valid_from, a.valid_until, b.valid_from, b.valid_until):
                problems.append(
                    (
                        f"versions[{j}].valid_from",
                        f"有效期 {_period(b.valid_from, b.valid_until)} 与 versions[{i}] 的 "
                        f"{_period(a.valid_from, a.valid_until)} 重叠；同一日期只能有一个版本有效",
                    )
                )
    return problems


def _check_version(path: str, version: VersionSpec) -> list[Problem]:
    problems: list[Problem] = []
    problems += _duplicates(path, "modes", version.modes, "办理模式")
    problems += _duplicates(path, "result_delivery", version.result_delivery, "送达方式")
    problems += _duplicates(path, "form_fields", [f.name for f in version.form_fields], "表单字段名", ".name")
    problems += _duplicates(path, "materials", [m.code for m in version.materials], "材料编码", ".code")
    for index, field in enumerate(version.form_fields):
        problems += _check_form_field(f"{path}.form_fields[{index}]", field)
    fields = {f.name: f for f in version.form_fields}
    for index, material in enumerate(version.materials):
        problems += _check_material(f"{path}.materials[{index}]", material, fields)
    problems += _check_bindings(path, version)
    problems += _check_legs(path, version)
    problems += _check_facts(path, version, fields)
    problems += _check_result_licence(path, version, fields)
    problems += _check_limits(path, version)
    problems += _check_unverified(f"{path}.unverified", version.unverified, VERSION_FIELDS)
    return problems


def _duplicates(path: str, field: str, values: list[Any], what: str, suffix: str = "") -> list[Problem]:
    seen: set[Any] = set()
    problems: list[Problem] = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append((f"{path}.{field}[{index}]{suffix}", f"{what}“{value}”重复"))
        seen.add(value)
    return problems


def _check_form_field(path: str, field: FormFieldSpec) -> list[Problem]:
    binding_problems = _check_binding(path, field)
    if binding_problems:
        return binding_problems
    if field.type == "choice" and not field.choices:
        return [(f"{path}.choices", "选项类字段必须列出 choices")]
    if field.type != "choice" and field.choices:
        return [(f"{path}.choices", "只有 type 为 choice 的字段才能填写 choices")]
    if len(set(field.choices)) != len(field.choices):
        return [(f"{path}.choices", "选项重复")]
    return []


BINDING_TYPES = {
    "applicant_id_number": "id_number",
    "agent_id_number": "id_number",
    "party_id_number": "id_number",
    "enterprise_credit_code": "credit_code",
}


def _check_binding(path: str, field: FormFieldSpec) -> list[Problem]:
    wanted = BINDING_TYPES.get(field.binds, "text") if field.binds else None
    if wanted is not None and field.type != wanted:
        return [(f"{path}.binds", f"binds 为 {field.binds} 的字段类型必须是 {wanted}")]
    if field.binds.startswith("party_") != bool(field.party):
        return [(f"{path}.party", "party_name、party_id_number 字段必须写明 party（如 男方），其他字段不能写 party")]
    return []


def _check_bindings(path: str, version: VersionSpec) -> list[Problem]:
    """Each binding once (parties: once per party), and each party named with both name and ID number."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    parties: dict[str, set[str]] = {}
    for index, field in enumerate(version.form_fields):
        if not field.binds:
            continue
        key = (field.binds, field.party)
        if key in seen:
            problems.append((f"{path}.form_fields[{index}].binds", f"binds 为 {field.binds} 的字段重复"))
        seen.add(key)
        if field.party:
            parties.setdefault(field.party, set()).add(field.binds)
    for party, binds in parties.items():
        if binds != {"party_name", "party_id_number"}:
            problems.append((f"{path}.form_fields", f"当事人“{party}”须同时有 party_name 和 party_id_number 字段"))
    return problems


def _check_material(path: str, material: MaterialSpec, fields: Mapping[str, FormFieldSpec]) -> list[Problem]:
    problems: list[Problem] = []
    if material.requirement == "conditional" and not material.condition:
        problems.append((f"{path}.condition", "情形必要的材料必须写明适用情形"))
    if material.requirement == "required" and material.when:
        problems.append((f"{path}.when", "必要材料不能设置 when；情形必要的材料才按表单取值决定是否需要"))
    for name, expected in material.when.items():
        field = fields.get(name)
        if field is None:
            problems.append((f"{path}.when.{name}", f"表单中没有字段“{name}”"))
            continue
        values = expected if isinstance(expected, list) else [expected]
        if field.type == "choice":
            bad = [v for v in values if v not in field.choices]
            if bad:
                shown = "、".join(str(v) for v in bad)
                problems.append((f"{path}.when.{name}", f"“{shown}”不是字段“{field.label}”的选项"))
        elif field.type == "boolean" and not all(isinstance(v, bool) for v in values):
            problems.append((f"{path}.when.{name}", f"字段“{field.label}”是是/否字段，取值必须是 true 或 false"))
    return problems


def _check_establishment(path: str, version: VersionSpec, applicant_type: str) -> list[Problem]:
    names_established = any(f.binds == "established_name" for f in version.form_fields)
    if not version.establishes_enterprise:
        if version.establishment_kind != "enterprise":
            why = "只有设立登记事项（establishes_enterprise: true）才能写 establishment_kind"
            return [(f"{path}.establishment_kind", why)]
        if names_established:
            return [(f"{path}.form_fields", "只有设立登记事项才能有 binds 为 established_name 的字段")]
        return []
    if version.establishment_kind == "branch":
        problems: list[Problem] = []
        if applicant_type == ApplicantType.PERSON:
            problems.append((f"{path}.establishment_kind", "分支机构设立登记由隶属企业申请，申请人类型不能是自然人"))
        if not names_established:
            why = "分支机构设立登记须有 binds 为 established_name 的字段（分支机构名称）"
            problems.append((f"{path}.form_fields", why))
        return problems
    if names_established:
        return [(f"{path}.form_fields", "由个人申请的设立登记以 binds 为 enterprise_name 的字段记载拟设立主体的名称")]
    return []


# A result is a licence when what it names (before any note in brackets or after a semicolon) is a
# certificate, a permit, a card or a register — and not a notice or a lookup about one.
_LICENCE_ENDINGS = ("证", "证书", "执照", "许可证", "通行证", "护照", "卡", "簿", "证明", "凭证")
_NOT_A_LICENCE = ("查询", "结果", "告知", "回执", "决定", "通知书")  # 查询结果证明 is a print-out, not a licence


def names_a_licence(result_type: str) -> bool:
    head = re.split(r"[（(；;]", result_type, maxsplit=1)[0].strip(" 《》")
    return head.endswith(_LICENCE_ENDINGS) and not any(word in head for word in _NOT_A_LICENCE)


def _check_result_licence(path: str, version: VersionSpec, fields: Mapping[str, FormFieldSpec]) -> list[Problem]:
    choice = version.result_licence
    if choice is None and names_a_licence(version.result_type):
        why = f"办理结果“{version.result_type}”是证照，须以 result_licence 写明其电子证照类型（content/licences/）"
        return [(f"{path}.result_licence", why)]
    if not isinstance(choice, ResultLicenceChoice):
        return []
    field = fields.get(choice.field)
    if field is None or field.type != "choice":
        return [(f"{path}.result_licence.field", f"表单中没有选择字段“{choice.field}”")]
    return [
        (f"{path}.result_licence.types.{answer}", f"“{answer}”不是字段“{field.label}”的选项")
        for answer in choice.types
        if answer not in field.choices
    ]


def _check_legs(path: str, version: VersionSpec) -> list[Problem]:
    is_multi = "multi_place" in version.modes
    if is_multi and len(version.legs) < 2:
        return [(f"{path}.legs", "多地联办事项至少需要两个联办环节")]
    if not is_multi and version.legs:
        return [(f"{path}.legs", "只有包含多地联办（multi_place）模式的版本才能填写联办环节")]
    orders = [leg.order for leg in version.legs]
    if orders != list(range(1, len(orders) + 1)):
        return [(f"{path}.legs", "联办环节的 order 必须从 1 开始依次编号")]
    return []


def _check_facts(path: str, version: VersionSpec, fields: Mapping[str, FormFieldSpec]) -> list[Problem]:
    """The form must carry every region the jurisdiction rule and the legs need, as region fields."""
    needed = {RULE_FACTS[JurisdictionRule(version.jurisdiction_rule)]}
    needed |= {PLACE_FACTS[leg.place] for leg in version.legs if leg.place in PLACE_FACTS}
    problems: list[Problem] = []
    for name in sorted(needed):
        field = fields.get(name)
        if field is None or field.type != "region":
            problems.append(
                (f"{path}.form_fields", f"管辖规则或联办环节需要表单中有 region 类型的字段“{name}”，用于确定办理地")
            )
    return problems


def _check_limits(path: str, version: VersionSpec) -> list[Problem]:
    legal, promised = version.legal_limit, version.promised_limit
    if legal.unit == promised.unit and promised.value > legal.value:
        return [(f"{path}.promised_limit.value", f"承诺时限 {promised.value} 不能长于法定时限 {legal.value}")]
    return []


def _check_unverified(path: str, names: list[str], known: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    for index, name in enumerate(names):
        head = re.split(r"[.\[]", name, maxsplit=1)[0]
        if head not in known:
            problems.append((f"{path}[{index}]", f"“{name}”不是本节中的字段名"))
    return problems


def _check_coverage(path: str, coverage: CoverageSpec, versions: list[VersionSpec]) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(coverage.nodes, list):
        if not coverage.nodes:
            problems.append((f"{path}.nodes", "节点列表不能为空；所有节点请写 all"))
        for index, node in enumerate(coverage.nodes):
            if not isinstance(node, str) or not NODE_CODE_RE.match(node):
                problems.append(
                    (f"{path}.nodes[{index}]", "节点编码必须是 000000 或省级区划代码（如 110000），并加引号")
                )
        problems += _duplicates(path, "nodes", coverage.nodes, "节点")
    problems += _duplicates(path, "modes", coverage.modes, "办理模式")
    if coverage.valid_until is not None and coverage.valid_until <= coverage.valid_from:
        problems.append((f"{path}.valid_until", "失效日期必须晚于生效日期"))
    for step, days in coverage.proxy_handover_days.items():
        if step not in HANDOVER_STEPS:
            problems.append(
                (f"{path}.proxy_handover_days.{step}", "交接环节必须是 push、mail、recheck、result_mail 之一")
            )
        elif days < 0:
            problems.append((f"{path}.proxy_handover_days.{step}", "工作日数不能为负数"))
    problems += _check_unverified(f"{path}.unverified", coverage.unverified, COVERAGE_FIELDS)
    problems += _check_coverage_modes(path, coverage, versions)
    return problems


def _check_coverage_modes(path: str, coverage: CoverageSpec, versions: list[VersionSpec]) -> list[Problem]:
    overlapping = [
        (index, v)
        for index, v in enumerate(versions)
        if _overlaps(coverage.valid_from, coverage.valid_until, v.valid_from, v.valid_until)
    ]
    if not overlapping:
        return [
            (
                f"{path}.valid_from",
                f"通办期间 {_period(coverage.valid_from, coverage.valid_until)} 内没有有效的事项版本",
            )
        ]
    problems: list[Problem] = []
    for index, version in overlapping:
        extra = [m for m in coverage.modes if m not in version.modes]
        if extra:
            labels = "、".join(Mode(m).label for m in extra)
            problems.append((f"{path}.modes", f"办理模式“{labels}”不在同期版本 versions[{index}] 的办理模式中"))
    return problems


def _check_coverage_overlap(coverages: list[CoverageSpec]) -> list[Problem]:
    """The same node may not offer the same mode twice on one date: its handover times would be ambiguous."""
    problems: list[Problem] = []
    for i, a in enumerate(coverages):
        for j in range(i + 1, len(coverages)):
            b = coverages[j]
            if not _overlaps(a.valid_from, a.valid_until, b.valid_from, b.valid_until):
                continue
            shared_modes = set(a.modes) & set(b.modes)
            shared_nodes = _shared_nodes(a.nodes, b.nodes)
            if shared_modes and shared_nodes:
                problems.append(
                    (
                        f"coverage[{j}]",
                        f"与 coverage[{i}] 在同一期间对节点 {shared_nodes} 重复提供"
                        f"“{'、'.join(Mode(m).label for m in sorted(shared_modes))}”模式",
                    )
                )
    return problems


def _shared_nodes(a: Any, b: Any) -> str:
    if a == "all" or b == "all":
        other = b if a == "all" else a
        return "全部" if other == "all" else "、".join(str(n) for n in other)
    return "、".join(sorted({str(n) for n in a} & {str(n) for n in b}))
