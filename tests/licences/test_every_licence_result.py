"""Every item whose result is a licence issues it on approval: for each such item, a case taken from its
first available scenario is applied for online, accepted and approved at the owning node by its own
staff, and the licence that comes out has the type, holder, face and validity the content gives it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tongban.cases.models import Case
from tongban.catalog.loader import read_catalog
from tongban.catalog.models import Coverage, ItemVersion
from tongban.catalog.spec import ItemSpec, VersionSpec, names_a_licence
from tongban.identity.models import Account, Enterprise, EnterpriseAgent, StaffBinding
from tongban.identity.validators import citizen_id_check_char, make_credit_code
from tongban.licences.loader import read_types
from tongban.licences.models import Licence
from tongban.regions.models import Department
from tongban.regions.queries import department_for

from support import DEMO_PASSWORD, Api, dispatch, ok

CONTENT = Path(settings.CONTENT_DIR)
TODAY = dt.date(2025, 6, 9)
APPLICANT = {"name": "林晓梅", "id_number": "35020319900101122" + citizen_id_check_char("35020319900101122")}
# The other party where an item is applied for by two (her husband-to-be, say): a man, by the 17th digit.
OTHER_PARTY = {"name": "陈志强", "id_number": "43010219880505131" + citizen_id_check_char("43010219880505131")}


def _current(spec: ItemSpec) -> VersionSpec:
    return max((v for v in spec.versions if v.valid_from <= TODAY), key=lambda v: v.valid_from)


def _modes_at(item_code: str, node: str) -> set[str]:
    rows = Coverage.objects.filter(item_id=item_code, node_id=node, valid_from__lte=TODAY)
    return {m for row in rows if row.valid_until is None or row.valid_until > TODAY for m in row.modes}


def _scenario(item_code: str, item_file: str, since: dt.date) -> tuple[dict, str]:
    """The first scenario of the item available on the test's day at a node offering 全程网办, failing that
    异地代收代办, failing that 多地联办; and that mode. Only scenarios dated within the current version
    (`since` on) tell the materials it asks for."""
    path = CONTENT / "scenarios" / item_file
    scenarios = yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"] if path.exists() else []
    scenarios = [s for s in scenarios if s.get("as_of", TODAY) >= since]
    for wanted in ("online", "proxy", "multi_place"):
        for scenario in scenarios:
            expect = scenario.get("expect", {})
            modes = _modes_at(item_code, str(scenario["node"]))
            if expect.get("available") and expect.get("mode", wanted) == wanted and wanted in modes:
                return scenario, wanted
    pytest.fail(f"{item_file}：没有可办理的情景，无法测试其证照的签发")


def _issuing_items() -> list:
    params = []
    for f in read_catalog(CONTENT):
        version = _current(f.spec)
        if version.result_licence is not None and not version.establishes_enterprise:
            params.append(pytest.param(f, id=f.spec.code))
    return params


def test_every_result_that_names_a_licence_issues_one():
    """The load check's own judgement over the content: what names a licence is wired to a type."""
    types = {t.code for t in read_types(CONTENT).types}
    for f in read_catalog(CONTENT):
        for version in f.spec.versions:
            if names_a_licence(version.result_type):
                assert version.result_licence is not None, (f.spec.code, version.result_type)
            if isinstance(version.result_licence, str):
                assert version.result_licence in types


def _applicant_account() -> Account:
    account = Account.objects.create_user("linxiaomei", password=DEMO_PASSWORD, display_name=APPLICANT["name"])
    account.id_number = APPLICANT["id_number"]
    account.real_name_level = 2
    account.save()
    return account


def _enterprise_for(account: Account, region: str) -> Enterprise:
    enterprise = Enterprise.objects.create(
        credit_code=make_credit_code(region, 4242), name="厦门鹭岛测试有限公司", status=Enterprise.Status.APPROVED
    )
    EnterpriseAgent.objects.create(enterprise=enterprise, account=account)
    return enterprise


def _party(field: dict) -> dict:
    """林晓梅 is the 女方 (or the first party named); anyone else is the other party."""
    return APPLICANT if field.get("party") in (None, "女方", "甲方", "申请人") else OTHER_PARTY


def _value(field: dict, enterprise: Enterprise | None, region: str):
    binds = field.get("binds", "")
    by_binding = {
        "applicant_name": APPLICANT["name"],
        "applicant_id_number": APPLICANT["id_number"],
        "enterprise_name": enterprise.name if enterprise else "",
        "enterprise_credit_code": enterprise.credit_code if enterprise else "",
        "agent_name": APPLICANT["name"],
        "agent_id_number": APPLICANT["id_number"],
        "legal_representative": APPLICANT["name"],
        "party_name": _party(field)["name"],
        "party_id_number": _party(field)["id_number"],
    }
    if by_binding.get(binds):
        return by_binding[binds]
    return {
        "text": f"{field['label']}（测试）",
        "phone": "13900009999",
        "region": region,
        "date": "2025-05-01",
        "integer": 10,
        "boolean": False,
        "choice": (field.get("choices") or [""])[0],
        "credit_code": enterprise.credit_code if enterprise else "",
        "id_number": APPLICANT["id_number"],
    }.get(field["type"], f"{field['label']}（测试）")


def _form(version, facts: dict, enterprise: Enterprise | None, region: str) -> dict:
    form = {}
    for field in version.form_fields:
        if field["name"] in facts:
            form[field["name"]] = facts[field["name"]]
        elif field.get("required") or field.get("binds"):
            form[field["name"]] = _value(field, enterprise, region)
    return form


def _staff_of(case: Case, role: str) -> Api:
    username = f"owner-{role}"
    account = Account.objects.create_user(username, password=DEMO_PASSWORD, display_name=username)
    department = case.owner_department
    StaffBinding.objects.create(
        account=account, node_id=case.owner_node, region_id=department.region_id, department=department, role=role
    )
    return Api(username, node=case.owner_node)


def _shown(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value).strip()


def _clerk_at(node: str, function: str) -> Api:
    account = Account.objects.create_user("window-clerk", password=DEMO_PASSWORD, display_name="窗口收件人员")
    StaffBinding.objects.create(
        account=account, node_id=node, region_id=node, department=department_for(node, function), role="window_clerk"
    )
    return Api("window-clerk", node=node)


def _submitted(spec: ItemSpec, version: ItemVersion, scenario: dict, mode: str) -> str:
    """Apply as 林晓梅 (for her company where the item is an enterprise's) and submit; the case number."""
    node = str(scenario["node"])
    account = _applicant_account()
    enterprise = _enterprise_for(account, node) if spec.applicant_type != "自然人" else None
    form = _form(version, scenario.get("facts", {}), enterprise, node)
    body = {"item_code": spec.code, "mode": mode, "form": form}
    if enterprise:
        body["enterprise_credit_code"] = enterprise.credit_code
    if mode != "proxy":
        api = Api("linxiaomei", node=node)
    else:
        api = _clerk_at(node, spec.department_function)
        body["applicant"] = {**APPLICANT, "identity_verified": True, "username": "linxiaomei"}
    case_no = ok(api.post("/cases", body), 201)["case_no"]
    required = [m["code"] for m in version.materials.filter(requirement="required").values("code")]
    for code in scenario["expect"].get("materials", required):
        ok(api.upload(case_no, code), 201)
    ok(api.act(case_no, "submit"))
    if mode == "proxy":
        ok(api.act(case_no, "check_form", identity_verified=True, form_complete=True))
        ok(api.act(case_no, "forward", waybill={"carrier": "EMS", "number": "1180000000001"}))
    dispatch()
    return case_no


def _complete_legs(case_no: str, owner: Api) -> None:
    """多地联办: each leg's node but the last completes its leg in turn, by a reviewer of the leg's
    department; the last leg ends with the decision."""
    for leg in owner.case(case_no)["legs"][:-1]:
        if leg["completed_at"] is None:
            username = f"leg-{leg['order']}-reviewer"
            account = Account.objects.create_user(username, password=DEMO_PASSWORD, display_name=username)
            department = Department.objects.get(pk=leg["department_id"])
            StaffBinding.objects.create(
                account=account,
                node_id=leg["node"],
                region_id=department.region_id,
                department=department,
                role="reviewer",
            )
            ok(Api(username, node=leg["node"]).act(case_no, "complete_leg"))
            dispatch()


@pytest.mark.parametrize("item_file", _issuing_items())
def test_an_approval_issues_the_items_licence(item_file):
    spec = item_file.spec
    scenario, mode = _scenario(spec.code, Path(item_file.display).name, _current(spec).valid_from)
    version = ItemVersion.objects.get(item_id=spec.code, version=_current(spec).version)
    case_no = _submitted(spec, version, scenario, mode)

    owned = Case.objects.filter(case_no=case_no).exclude(owner_node="").first()
    owned = Case.objects.get(node=owned.owner_node, case_no=case_no)
    reviewer, approver = _staff_of(owned, "reviewer"), _staff_of(owned, "approver")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    if mode == "multi_place":
        _complete_legs(case_no, reviewer)
    decided = ok(approver.act(case_no, "decide", outcome="approve"))
    dispatch()

    (issued,) = decided["timeline"][-1]["data"]["licences"]
    licence = Licence.objects.get(identifier=issued["identifier"])
    licence_type = licence.licence_type
    form = owned.form_data
    assert licence_type.code == version.licence_type_code(form)
    assert licence.state == "01" and licence.case_no == case_no and licence.node == owned.owner_node
    holders = {(h.name, h.id_number) for h in licence.holders.all()}
    if licence_type.holder_kind == "enterprise":
        assert holders == {(owned.enterprise_name, owned.enterprise_credit_code)}
    elif licence_type.holder_kind == "parties" and any(f.get("party") for f in version.form_fields):
        assert holders == {(p["name"], p["id_number"]) for p in (APPLICANT, OTHER_PARTY)}
    else:  # a person's licence, or one party's own copy (补领 by one of the couple)
        assert holders == {(APPLICANT["name"], APPLICANT["id_number"])}
    for extension in licence_type.extensions:
        given = [form[s.split(".", 1)[1]] for s in extension["source"] if s.split(".", 1)[1] in form]
        shown = _shown(given[0]) if given else ""
        assert licence.data.get(extension["name"], "") == shown, extension["name"]
    rule = licence_type.validity
    expected_end = {
        "open": None,
        "years": TODAY.replace(year=TODAY.year + int(rule.get("years") or 0)) - dt.timedelta(days=1),
        "months": TODAY.replace(month=TODAY.month + int(rule.get("months") or 0)) - dt.timedelta(days=1),
    }[rule["kind"]]
    assert (licence.valid_from, licence.valid_until) == (TODAY, expected_end)
