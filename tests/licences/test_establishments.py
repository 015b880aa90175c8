"""Every establishment ends with a 营业执照 of what it established: a 个体工商户 (applied for by its
operator, credit code of 机构类别 2) and a 分公司 (applied for by its company, with a code of its own)."""

from __future__ import annotations

from cases.test_establishment import decide
from tongban.identity.models import Enterprise, EnterpriseAgent
from tongban.identity.validators import validate_credit_code
from tongban.licences.models import Licence

from support import Api, dispatch, ok, problem

SZR = "91630100MA7K2Q3H85"  # 盛之瑞新能源科技有限公司, 樊女士's company


def individual_business_form(name: str = "") -> dict:
    return {
        "operator_name": "樊女士",
        "operator_id_number": "230183197504102029",
        "business_name": name,
        "composition": "个人经营",
        "domicile_region": "630100",
        "business_address": "西宁市城东区八一路8号",
        "business_scope": "日用百货零售",
        "phone": "13900002345",
    }


def branch_form() -> dict:
    return {
        "company_name": "盛之瑞新能源科技有限公司",
        "credit_code": SZR,
        "branch_name": "盛之瑞新能源科技有限公司城东分公司",
        "domicile_region": "630100",
        "branch_address": "西宁市城东区八一路9号",
        "head_name": "李强",
        "head_id_number": "630102198805060011",
        "business_scope": "新能源技术推广",
        "phone": "13900002346",
    }


def _approved(item: str, form: dict, materials: tuple[str, ...], **body) -> dict:
    fan = Api("fan", node="630000")
    case_no = ok(fan.post("/cases", {"item_code": item, "mode": "online", "form": form, **body}), 201)["case_no"]
    for code in materials:
        ok(fan.upload(case_no, code), 201)
    ok(fan.act(case_no, "submit"))
    decided = decide(case_no)
    dispatch()
    return decided["timeline"][-1]["data"]


def test_an_individual_business_gets_its_credit_code_and_its_business_licence():
    decision = _approved(
        "TB-shichang-002",
        individual_business_form("城东樊记百货店"),
        ("application", "operator_id_card", "premises_proof"),
    )
    code = validate_credit_code(decision["established"]["credit_code"])
    assert code.startswith("92630100")  # 9 市场监管, 2 个体工商户
    business = Enterprise.objects.get(credit_code=code)
    assert (business.name, business.legal_representative) == ("城东樊记百货店", "樊女士")
    assert EnterpriseAgent.objects.filter(enterprise=business, account__username="fan", active=True).exists()
    [issued] = decision["licences"]
    licence = Licence.objects.get(identifier=issued["identifier"])
    face = licence.data
    assert (face["KZ_MC"], face["KZ_TYSHXYDM"], face["KZ_JYZ"], face["KZ_ZCXS"]) == (
        "城东樊记百货店",
        code,
        "樊女士",
        "个人经营",
    )
    assert face["KZ_JYCS"] == "西宁市城东区八一路8号" and "KZ_FDDBR" not in face
    assert [(h.kind, h.id_number) for h in licence.holders.all()] == [("enterprise", code)]
    # The operator acts for the business at once and finds its licence in the wallet.
    items = ok(Api("fan", node="230000").get("/me/licenses"))["items"]
    assert issued["identifier"] in [i["identifier"] for i in items]


def test_an_individual_business_without_a_trade_name_goes_by_its_operator():
    decision = _approved(
        "TB-shichang-002", individual_business_form(), ("application", "operator_id_card", "premises_proof")
    )
    assert decision["established"]["name"] == "樊女士"
    licence = Licence.objects.get(identifier=decision["licences"][0]["identifier"])
    assert licence.data["KZ_MC"] == "樊女士"


def test_a_company_sets_up_a_branch_which_gets_a_code_and_a_licence_of_its_own():
    decision = _approved(
        "TB-shichang-006",
        branch_form(),
        ("application", "head_appointment", "head_id", "premises_proof", "company_licence"),
        enterprise_credit_code=SZR,
    )
    code = validate_credit_code(decision["established"]["credit_code"])
    assert code.startswith("91630100") and code != SZR
    branch = Enterprise.objects.get(credit_code=code)
    assert (branch.name, branch.legal_representative) == ("盛之瑞新能源科技有限公司城东分公司", "李强")
    assert EnterpriseAgent.objects.filter(enterprise=branch, account__username="fan", active=True).exists()
    licence = Licence.objects.get(identifier=decision["licences"][0]["identifier"])
    face = licence.data
    assert (face["KZ_MC"], face["KZ_FZR"], face["KZ_LSQY"], face["KZ_JYCS"]) == (
        "盛之瑞新能源科技有限公司城东分公司",
        "李强",
        "盛之瑞新能源科技有限公司",
        "西宁市城东区八一路9号",
    )
    assert [(h.name, h.id_number) for h in licence.holders.all()] == [("盛之瑞新能源科技有限公司城东分公司", code)]
    # The company is unchanged: its own licence is not replaced by its branch's.
    assert Enterprise.objects.get(credit_code=SZR).name == "盛之瑞新能源科技有限公司"


def test_a_branch_is_applied_for_by_its_company_not_by_a_person_or_another_company():
    fan = Api("fan", node="630000")
    body = {"item_code": "TB-shichang-006", "mode": "online", "form": branch_form()}
    problem(fan.post("/cases", body), 403, "enterprise_not_authorized")  # no company named
    other = {**branch_form(), "credit_code": "91630100MA7L8N5C5L", "company_name": "西宁通办示范光伏材料有限公司"}
    problem(
        fan.post("/cases", {**body, "form": other, "enterprise_credit_code": "91630100MA7L8N5C5L"}),
        403,
        "enterprise_not_authorized",
    )
    mismatched = {**branch_form(), "company_name": "别的公司"}
    problem(fan.post("/cases", {**body, "form": mismatched, "enterprise_credit_code": SZR}), 422, "applicant_mismatch")


def test_an_individual_business_is_applied_for_without_a_credit_code():
    fan = Api("fan", node="630000")
    body = {"item_code": "TB-shichang-002", "mode": "online", "form": individual_business_form("某店")}
    problem(fan.post("/cases", {**body, "enterprise_credit_code": SZR}), 422, "establishment_has_no_credit_code")
