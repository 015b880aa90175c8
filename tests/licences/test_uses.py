"""用证授权: a licence stands in for a material with its holder's consent, travels signed, becomes the
case's annotated copy, and every use is logged where the holder sees it."""

from __future__ import annotations

import io

from pypdf import PdfReader

from cases.test_bad_input import nothing_written
from tongban.audit.models import AuditEntry
from tongban.identity.models import EnterpriseAgent
from tongban.licences.models import LicenceUse

from .test_issuing import SZR, business_licence, reissue_for_shengzhirui
from support import Api, dispatch, ok, problem

FOOD = "TB-shichang-009"
UPLOADED = ("application", "layout", "safety_rules")


def food_case(fan: Api, credit_code: str = SZR, name: str = "盛之瑞新能源科技有限公司") -> str:
    """樊女士 applies at 西宁 for a 食品经营许可 for the company, uploading all but the business licence."""
    form = {
        "operator_name": name,
        "credit_code": credit_code,
        "property_region": "630100",
        "premises_address": "西宁市城西区五四西路 1 号",
        "operator_kind": "食品销售经营者",
        "uses_vending_machine": False,
        "phone": "13900002345",
    }
    body = {"item_code": FOOD, "mode": "online", "form": form, "enterprise_credit_code": credit_code}
    case_no = ok(fan.post("/cases", body), 201)["case_no"]
    for code in UPLOADED:
        ok(fan.upload(case_no, code), 201)
    return case_no


def ask(fan: Api, case_no: str, **body) -> object:
    return fan.post(f"/cases/{case_no}/licence-uses", {"material_code": "business_licence", **body})


def test_the_business_licence_stands_in_for_the_upload_with_consent():
    identifier = reissue_for_shengzhirui()
    fan = Api("fan", node="630000")
    case_no = food_case(fan)
    refused = problem(fan.act(case_no, "submit"), 422, "materials_missing")
    [missing] = refused["missing"]
    assert (missing["code"], missing["how"], missing["licence_type"]) == (
        "business_licence",
        "licence_use",
        "yingye_zhizhao",
    )
    assert "将通过共享获取" in missing["note"]

    problem(ask(fan, case_no), 422, "use_cause_required")
    use = ok(ask(fan, case_no, cause="办理食品经营许可，核验主体资格"), 201)
    assert (use["identifier"], use["status"], use["awaiting_holders"]) == (identifier, "awaiting_consent", 1)
    shared = {field["label"]: field["value"] for field in use["preview"]}
    assert shared["证照名称"] == "营业执照" and SZR in shared.values()
    problem(ask(fan, case_no, cause="再来一次"), 409, "licence_use_exists")

    path = f"/cases/{case_no}/licence-uses/{use['id']}/consent"
    accepted = ok(fan.post(path, {"accept": True}))
    assert accepted["status"] == "accepted" and accepted["annotation"]["JZJZZSY"].startswith("办理食品经营许可")
    assert accepted["annotation"]["JZJZZZ"].startswith("西宁市") and accepted["annotation"]["JZJYXQJZSJ"]
    stored = LicenceUse.objects.get(pk=use["id"])
    assert stored.copy["signature"] and stored.copy["document"]["identifier"] == identifier
    problem(fan.post(path, {"accept": True}), 409, "licence_use_decided")  # a replayed authorisation

    copy = fan.client.get(f"/api/v1/cases/{case_no}/licence-uses/{use['id']}/pdf", **fan._headers())
    assert copy.status_code == 200 and copy["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(copy.content)).pages)
    assert "此件由" in text and "仅供办理食品经营许可时使用" in text.replace("\n", "")
    ok(fan.act(case_no, "submit"))  # the material counts as provided
    problem(ask(fan, case_no, cause="提交后"), 409, "case_not_open_for_licence_use")
    detail = fan.case(case_no)
    assert [(u["material_code"], u["status"]) for u in detail["licence_uses"]] == [("business_licence", "accepted")]
    # The holder sees the use in the log of the licence.
    log = ok(fan.get(f"/me/licenses/{identifier}"))["uses"]
    assert [(u["case_no"], u["cause"], u["status_label"]) for u in log] == [
        (case_no, "办理食品经营许可，核验主体资格", "已授权使用")
    ]
    assert AuditEntry.objects.filter(code="tongban.licence.use_accepted", object_id=identifier).exists()


def test_a_refusal_leaves_the_material_open():
    reissue_for_shengzhirui()
    fan = Api("fan", node="630000")
    case_no = food_case(fan)
    use = ok(ask(fan, case_no, cause="办理食品经营许可"), 201)
    refused = ok(fan.post(f"/cases/{case_no}/licence-uses/{use['id']}/consent", {"accept": False}))
    assert refused["status"] == "refused"
    problem(fan.get(f"/cases/{case_no}/licence-uses/{use['id']}/pdf"), 409, "licence_use_not_accepted")
    problem(fan.act(case_no, "submit"), 422, "materials_missing")
    # The applicant may ask again, or upload.
    assert ok(ask(fan, case_no, cause="重新授权"), 201)["status"] == "awaiting_consent"


def test_a_suspended_or_foreign_licence_cannot_be_used():
    identifier = reissue_for_shengzhirui()
    fan = Api("fan", node="630000")
    ok(
        Api("qh-shichang-approver", node="630000").post(
            f"/licenses/{identifier}/actions", {"action": "suspend", "reason": "调查"}
        )
    )
    case_no = food_case(fan)
    with nothing_written():
        answer = problem(ask(fan, case_no, cause="办理食品经营许可"), 409, "licence_not_usable")
    assert "暂扣" in answer["detail"]
    # A licence of another enterprise, named by its identifier.
    _, decision = business_licence()
    other = decision["licences"][0]["identifier"]
    EnterpriseAgent.objects.filter(enterprise__credit_code=decision["established"]["credit_code"]).update(active=False)
    problem(ask(fan, case_no, cause="办理食品经营许可", identifier=other), 403, "licence_of_someone_else")
    problem(ask(fan, case_no, cause="x", identifier="1.2.156.3005.2.X.Y.Z.001.Q"), 422, "invalid_licence_identifier")


def test_nobody_else_asks_or_answers_for_the_holder():
    reissue_for_shengzhirui()
    fan = Api("fan", node="630000")
    case_no = food_case(fan)
    use = ok(ask(fan, case_no, cause="办理食品经营许可"), 201)
    reviewer = Api("qh-shichang-reviewer", node="630000")
    problem(
        reviewer.post(f"/cases/{case_no}/licence-uses", {"material_code": "business_licence", "cause": "x"}),
        403,
        "not_case_applicant",
    )
    problem(
        Api("zhangtao", node="630000").post(f"/cases/{case_no}/licence-uses/{use['id']}/consent", {"accept": True}),
        404,
        "case_not_found",
    )
    problem(fan.post(f"/cases/{case_no}/licence-uses/999999/consent", {"accept": True}), 404, "licence_use_not_found")
    # A handler of the case sees it but is no holder.
    consent = f"/cases/{case_no}/licence-uses/{use['id']}/consent"
    problem(reviewer.post(consent, {"accept": True}), 403, "not_licence_holder")
    problem(
        fan.post(f"/cases/{case_no}/licence-uses", {"material_code": "application", "cause": "x"}),
        422,
        "material_not_replaceable",
    )


def test_without_a_licence_of_the_type_the_applicant_is_told_to_upload():
    """None issued here: the hub's directory is asked, finds none, and the use ends with the reason."""
    fan = Api("fan", node="630000")
    case_no = food_case(fan)
    use = ok(ask(fan, case_no, cause="办理食品经营许可"), 201)
    assert (use["status"], use["identifier"], use["issuer_node"]) == ("requested", "", "")
    dispatch()
    [ended] = ok(fan.get(f"/cases/{case_no}/licence-uses"))["items"]
    assert (ended["status"], ended["error_code"]) == ("failed", "licence_not_held")
    assert "请上传材料" in ended["error_detail"]
    problem(fan.act(case_no, "submit"), 422, "materials_missing")
    assert ok(ask(fan, case_no, cause="再问一次"), 201)["status"] == "requested"  # the material is open again


def test_a_licence_of_another_type_is_refused():
    from cases.test_first_use import bride, submitted_marriage

    bride()
    _, marriage = submitted_marriage()
    reviewer = Api("js-minzheng-reviewer", node="320000")
    ok(reviewer.act(marriage, "accept"))
    ok(reviewer.act(marriage, "start_review"))
    decided = ok(Api("js-minzheng-approver", node="320000").act(marriage, "decide", outcome="approve"))
    certificate = decided["timeline"][-1]["data"]["licences"][0]["identifier"]
    fan = Api("fan", node="630000")
    case_no = food_case(fan)
    answer = problem(ask(fan, case_no, cause="办理食品经营许可", identifier=certificate), 422, "licence_type_mismatch")
    assert "营业执照" in answer["detail"] and "结婚证" in answer["detail"]


def test_each_holder_of_a_joint_licence_answers_even_without_seeing_the_case():
    """刘燕 uses their 结婚证 in a case of hers; 王杰, the other holder, answers from his own list."""
    from cases.test_first_use import bride, submitted_marriage
    from tongban.cases.models import Case
    from tongban.licences.directory import holder_key
    from tongban.licences.models import Licence

    bride()
    _, marriage = submitted_marriage()
    reviewer = Api("js-minzheng-reviewer", node="320000")
    ok(reviewer.act(marriage, "accept"))
    ok(reviewer.act(marriage, "start_review"))
    ok(Api("js-minzheng-approver", node="320000").act(marriage, "decide", outcome="approve"))
    certificate = Licence.objects.get(case_no=marriage)
    fan = Api("fan", node="630000")
    draft = Case.objects.get(case_no=food_case(fan))
    keys = [holder_key(h.id_number) for h in certificate.holders.all()]
    use = LicenceUse.objects.create(
        node=draft.node,
        case=draft,
        material_code="business_licence",
        identifier=certificate.identifier,
        licence_type=certificate.licence_type_id,
        cause="测试共有证照的双方授权",
        requested_by="liuyan",
        requested_at=draft.received_at or certificate.issued_at,
        preview=[{"label": "证照名称", "value": "结婚证"}],
        consents=dict.fromkeys(keys),
    )
    wangjie, liuyan = Api("wangjie", node="140000"), Api("liuyan", node="320000")
    assert [u["id"] for u in ok(wangjie.get("/me/licence-uses"))["items"]] == [use.pk]
    assert ok(fan.get("/me/licence-uses"))["items"] == []
    problem(fan.post(f"/me/licence-uses/{use.pk}/consent", {"accept": True}), 404, "licence_use_not_found")
    first = ok(wangjie.post(f"/me/licence-uses/{use.pk}/consent", {"accept": True}))
    assert (first["status"], first["awaiting_holders"]) == ("awaiting_consent", 1)
    problem(wangjie.post(f"/me/licence-uses/{use.pk}/consent", {"accept": True}), 409, "licence_use_decided")
    assert ok(wangjie.get("/me/licence-uses"))["items"] == []
    second = ok(liuyan.post(f"/me/licence-uses/{use.pk}/consent", {"accept": True}))
    assert (second["status"], second["awaiting_holders"]) == ("accepted", 0)
