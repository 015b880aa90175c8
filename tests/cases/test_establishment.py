"""New enterprises: an establishment (设立登记) is applied for by a person without a credit code; the
code is assigned on approval and the enterprise, approved by that decision, comes into being with it."""

from __future__ import annotations

from tongban.identity.models import Enterprise, EnterpriseAgent
from tongban.identity.validators import validate_credit_code

from .test_bad_input import nothing_written
from support import Api, dispatch, ok, problem

ITEM = "TB-shichang-003"
MATERIALS = ("application", "investor_id", "domicile_proof")


def establishment_form(legal_representative: str) -> dict:
    return {
        "enterprise_name": "西宁高原新能源科技有限公司",
        "enterprise_kind": "个人独资企业",
        "domicile_region": "630100",
        "domicile_address": "西宁市城中区南大街1号",
        "legal_rep_name": legal_representative,
        "legal_rep_id_number": "230183197504102029",
        "business_scope": "新能源技术开发",
        "has_corporate_investor": False,
        "phone": "13900002345",
    }


def decide(case_no: str) -> dict:
    reviewer = Api("qh-shichang-reviewer", node="630000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    return ok(Api("qh-shichang-approver", node="630000").act(case_no, "decide", outcome="approve"))


def test_a_person_applies_online_and_the_enterprise_exists_once_approved():
    fan = Api("fan", node="630000")
    body = {"item_code": ITEM, "mode": "online", "form": establishment_form("樊女士")}
    case = ok(fan.post("/cases", body), 201)
    assert case["applicant"]["enterprise_credit_code"] == ""
    assert case["applicant"]["enterprise_name"] == "西宁高原新能源科技有限公司"
    for code in MATERIALS:
        ok(fan.upload(case["case_no"], code), 201)
    ok(fan.act(case["case_no"], "submit"))
    assert not Enterprise.objects.filter(name="西宁高原新能源科技有限公司").exists()

    decided = decide(case["case_no"])
    established = decided["timeline"][-1]["data"]["established"]
    code = validate_credit_code(established["credit_code"])
    assert code.startswith("91630100")
    enterprise = Enterprise.objects.get(credit_code=code)
    assert enterprise.status == Enterprise.Status.APPROVED and enterprise.name == "西宁高原新能源科技有限公司"
    assert EnterpriseAgent.objects.filter(enterprise=enterprise, account__username="fan", active=True).exists()
    # The new enterprise's agent can act for it at once, and still follows the establishment case.
    me = ok(fan.get("/me"))
    assert {e["credit_code"]: e["can_act"] for e in me["enterprises"]}[code] is True
    assert fan.case(case["case_no"])["status"] == "decided"


def test_the_window_takes_an_establishment_for_another_province():
    """樊女士 at the 尚志 window sets up her 西宁 company (the source article's story)."""
    clerk = Api("hlj-shichang-clerk", node="230000")
    body = {
        "item_code": ITEM,
        "mode": "proxy",
        "form": establishment_form("樊女士"),
        "applicant": {
            "name": "樊女士",
            "id_number": "230183197504102029",
            "identity_verified": True,
            "username": "fan",
        },
    }
    case_no = ok(clerk.post("/cases", body), 201)["case_no"]
    for code in MATERIALS:
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward"))
    dispatch()
    code = decide(case_no)["timeline"][-1]["data"]["established"]["credit_code"]
    dispatch()
    assert clerk.case(case_no)["timeline"][-1]["data"]["established"]["credit_code"] == code
    assert Enterprise.objects.get(credit_code=code).status == Enterprise.Status.APPROVED


def test_two_establishments_get_two_codes():
    fan = Api("fan", node="630000")
    codes = []
    for name in ("甲公司", "乙公司"):
        form = {**establishment_form("樊女士"), "enterprise_name": name}
        case_no = ok(fan.post("/cases", {"item_code": ITEM, "mode": "online", "form": form}), 201)["case_no"]
        for code in MATERIALS:
            ok(fan.upload(case_no, code), 201)
        ok(fan.act(case_no, "submit"))
        codes.append(decide(case_no)["timeline"][-1]["data"]["established"]["credit_code"])
    assert len(set(codes)) == 2


def test_an_establishment_names_no_credit_code():
    fan = Api("fan", node="630000")
    body = {
        "item_code": ITEM,
        "mode": "online",
        "form": establishment_form("樊女士"),
        "enterprise_credit_code": "91630100MA7K2Q3H85",
    }
    with nothing_written():
        problem(fan.post("/cases", body), 422, "establishment_has_no_credit_code")


def test_a_refused_establishment_creates_nothing():
    fan = Api("fan", node="630000")
    body = {"item_code": ITEM, "mode": "online", "form": establishment_form("樊女士")}
    case_no = ok(fan.post("/cases", body), 201)["case_no"]
    for code in MATERIALS:
        ok(fan.upload(case_no, code), 201)
    ok(fan.act(case_no, "submit"))
    reviewer = Api("qh-shichang-reviewer", node="630000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    approver = Api("qh-shichang-approver", node="630000")
    ok(approver.act(case_no, "decide", reason="名称不符合规定", outcome="deny", legal_basis="《企业名称登记管理规定》"))
    assert not Enterprise.objects.filter(name="西宁高原新能源科技有限公司").exists()
