"""Licences are issued with the approval that grants them, signed by the issuing node, and verified;
their state is changed only by the issuing department."""

from __future__ import annotations

import datetime as dt

from cases.test_establishment import MATERIALS, decide, establishment_form
from cases.test_first_use import bride, submitted_marriage
from tongban.audit.models import AuditEntry
from tongban.cases.models import Case
from tongban.licences.models import Licence, LicenceType
from tongban.stories import story

from support import Api, ok, problem

BUSINESS = "TB-shichang-003"
SZR = "91630100MA7K2Q3H85"  # 盛之瑞新能源科技有限公司, 樊女士's company


def business_licence() -> tuple[str, dict]:
    """樊女士 applies online for her 西宁 company; 西宁 approves it."""
    fan = Api("fan", node="630000")
    case_no = ok(
        fan.post("/cases", {"item_code": BUSINESS, "mode": "online", "form": establishment_form("樊女士")}), 201
    )["case_no"]
    for code in MATERIALS:
        ok(fan.upload(case_no, code), 201)
    ok(fan.act(case_no, "submit"))
    decided = decide(case_no)
    return case_no, decided["timeline"][-1]["data"]


def verify(identifier: str, node: str = "230000") -> dict:
    return ok(Api("fan", node=node).get(f"/licenses/{identifier}/verify"))


def test_the_approval_issues_the_business_licence_of_the_new_enterprise():
    case_no, decision = business_licence()
    [issued] = decision["licences"]
    assert (issued["type"], issued["name"]) == ("yingye_zhizhao", "营业执照")
    licence = Licence.objects.get(identifier=issued["identifier"])
    assert (licence.node, licence.case_no, licence.operation, licence.state) == ("630000", case_no, "01", "01")
    holder = licence.holders.get()
    assert (holder.kind, holder.name, holder.id_number) == (
        "enterprise",
        "西宁高原新能源科技有限公司",
        decision["established"]["credit_code"],
    )
    face = licence.data
    assert face["ZZMC"] == "营业执照" and face["ZZBS"] == licence.identifier
    assert face["KZ_TYSHXYDM"] == decision["established"]["credit_code"] and face["KZ_FDDBR"] == "樊女士"
    assert face["ZZYXQJZRQ"] == "长期" and licence.valid_until is None
    assert licence.issuer_department.region_id.startswith("6301")
    assert AuditEntry.objects.filter(code="tongban.licence.issued", object_id=licence.identifier).exists()


def test_serials_are_unique_per_issuer_and_year():
    identifiers = {business_licence()[1]["licences"][0]["identifier"] for _ in range(2)}
    numbers = set(Licence.objects.filter(identifier__in=identifiers).values_list("number", flat=True))
    assert len(identifiers) == len(numbers) == 2
    assert all(number.startswith("2025") and len(number) == 11 for number in numbers)


def test_a_licence_verifies_at_another_node_with_the_holder_masked():
    _, decision = business_licence()
    answer = verify(decision["licences"][0]["identifier"])
    assert (answer["result"], answer["result_label"], answer["state"]) == ("valid", "有效", "01")
    assert answer["holder"] == "西宁高原新能源科技有限公司"  # an enterprise's name is public
    assert (answer["issuer_node"], answer["source"], answer["stale"]) == ("630000", "issuer", False)
    assert answer["issuer_name"].startswith("西宁市") and answer["valid_until"] is None
    # No login is needed to verify.
    from django.test import Client

    public = Client().get(f"/api/v1/licenses/{decision['licences'][0]['identifier']}/verify")
    assert public.status_code == 200 and public.json()["result"] == "valid"


def test_a_marriage_gives_both_parties_one_licence():
    bride()
    _, case_no = submitted_marriage()
    ok(Api("js-minzheng-reviewer", node="320000").act(case_no, "accept"))
    ok(Api("js-minzheng-reviewer", node="320000").act(case_no, "start_review"))
    decided = ok(Api("js-minzheng-approver", node="320000").act(case_no, "decide", outcome="approve"))
    [issued] = decided["timeline"][-1]["data"]["licences"]
    licence = Licence.objects.get(identifier=issued["identifier"])
    assert [(h.label, h.name) for h in licence.holders.all()] == [("男方", "王杰"), ("女方", "刘燕")]
    assert verify(licence.identifier, node="140000")["holder"] == "男方王*、女方刘*"
    # Each party reads the whole licence; someone else does not.
    for username in ("wangjie", "liuyan"):
        whole = ok(Api(username, node="320000").get(f"/licenses/{licence.identifier}"))
        assert whole["holders"][0]["id_number"] == "140107199408120412"
    problem(Api("zhangtao", node="320000").get(f"/licenses/{licence.identifier}"), 404, "licence_not_found")


def test_altered_content_is_detected_as_forged():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    licence = Licence.objects.get(identifier=identifier)
    licence.data = {**licence.data, "KZ_JYFW": "新能源技术开发；金融服务"}
    licence.save()
    answer = verify(identifier)
    assert (answer["result"], answer["result_label"]) == ("forged", "伪造或篡改")


def test_a_signature_by_a_key_not_on_the_trust_list_is_untrusted():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    Licence.objects.filter(identifier=identifier).update(key_id="0" * 64)
    assert verify(identifier)["result"] == "untrusted_issuer"


def test_the_issuing_department_suspends_returns_and_revokes():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    path = f"/licenses/{identifier}/actions"
    issuer = Api("qh-shichang-approver", node="630000")
    problem(issuer.post(path, {"action": "suspend"}), 422, "reason_required")
    problem(issuer.post(path, {"action": "burn", "reason": "x"}), 422, "licence_action_unknown")
    problem(
        Api("gz-yibao-approver", node="520000").post(path, {"action": "suspend", "reason": "x"}),
        403,
        "licence_action_not_permitted",
    )
    problem(
        Api("hlj-shichang-clerk", node="230000").post(path, {"action": "suspend", "reason": "x"}),
        403,
        "licence_action_not_permitted",
    )
    suspended = ok(issuer.post(path, {"action": "suspend", "reason": "涉嫌虚假登记，立案调查"}))
    assert (suspended["state"], suspended["state_label"]) == ("02", "暂扣")
    assert verify(identifier)["result"] == "suspended"
    assert verify(identifier)["reason"] == "涉嫌虚假登记，立案调查"
    ok(issuer.post(path, {"action": "return", "reason": "调查结束，发还"}))
    assert verify(identifier)["result"] == "valid"
    revoked = ok(issuer.post(path, {"action": "revoke", "reason": "以欺骗手段取得登记"}))
    assert [e["operation"] for e in revoked["events"]] == ["01", "03", "06", "07"]
    problem(issuer.post(path, {"action": "return", "reason": "x"}), 409, "licence_action_not_allowed_in_state")
    assert verify(identifier)["result"] == "revoked"
    assert AuditEntry.objects.filter(code="tongban.licence.revoke", object_id=identifier).exists()


def test_a_licence_past_its_validity_verifies_as_expired(fixed_clock):
    licence_type = LicenceType.objects.get(code="yingye_zhizhao")
    licence_type.validity = {"kind": "years", "years": 1}
    licence_type.save()
    decision = business_licence()[1]
    identifier = decision["licences"][0]["identifier"]
    assert Licence.objects.get(identifier=identifier).valid_until == dt.date(2026, 6, 8)
    fixed_clock.set(dt.datetime(2026, 6, 9, 9, 0))
    answer = verify(identifier)
    assert (answer["result"], answer["result_label"]) == ("expired", "失效")


def test_a_decision_whose_licence_cannot_be_issued_does_not_commit():
    licence_type = LicenceType.objects.get(code="yingye_zhizhao")
    licence_type.extensions = [
        *licence_type.extensions,
        {"name": "KZ_ZCZB", "label": "注册资本", "source": ["form.capital"]},
    ]
    licence_type.save()
    fan = Api("fan", node="630000")
    case_no = ok(
        fan.post("/cases", {"item_code": BUSINESS, "mode": "online", "form": establishment_form("樊女士")}), 201
    )["case_no"]
    for code in MATERIALS:
        ok(fan.upload(case_no, code), 201)
    ok(fan.act(case_no, "submit"))
    reviewer = Api("qh-shichang-reviewer", node="630000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    refused = problem(
        Api("qh-shichang-approver", node="630000").act(case_no, "decide", outcome="approve"),
        422,
        "licence_field_missing",
    )
    assert "注册资本" in refused["detail"]
    owner = Case.objects.get(node="630000", case_no=case_no)
    assert owner.status == "in_review" and not owner.actions.filter(name="decide").exists()
    assert not Licence.objects.filter(case_no=case_no).exists()
    from tongban.identity.models import Enterprise

    assert not Enterprise.objects.filter(name="西宁高原新能源科技有限公司").exists()


def test_malformed_and_unknown_identifiers():
    fan = Api("fan", node="630000")
    problem(fan.get("/licenses/1.2.156.3005.2.X.Y.Z.001.Q/verify"), 422, "invalid_licence_identifier")
    unknown = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"
    problem(fan.get(f"/licenses/{unknown}/verify"), 404, "licence_not_found")


def test_the_item_guide_names_the_licence_an_approval_issues():
    guide = ok(Api("fan", node="630000").get(f"/items/{BUSINESS}"))
    assert guide["result_licences"] == [{"code": "yingye_zhizhao", "label": "营业执照"}]
    reissue = ok(Api("fan", node="320000").get("/items/TB-minzheng-003"))
    assert reissue["result_licences"] == [
        {"code": "jiehunzheng", "label": "结婚证"},
        {"code": "lihunzheng", "label": "离婚证"},
    ]


def reissue_for_shengzhirui() -> str:
    """樊女士, agent of 盛之瑞, has its 营业执照 reissued online by 西宁 (遗失补领)."""
    fan = Api("fan", node="630000")
    body = story("proxy")["request"]
    body = {"item_code": body["item_code"], "mode": "online", "form": body["form"], "enterprise_credit_code": SZR}
    case_no = ok(fan.post("/cases", body), 201)["case_no"]
    for code in story("proxy")["materials"]:
        ok(fan.upload(case_no, code), 201)
    ok(fan.act(case_no, "submit"))
    return decide(case_no)["timeline"][-1]["data"]["licences"][0]["identifier"]


def test_a_reissue_replaces_the_enterprises_licence_and_cancels_the_old_one():
    first = reissue_for_shengzhirui()
    assert Licence.objects.get(identifier=first).previous == ""
    second = reissue_for_shengzhirui()
    replaced = Licence.objects.get(identifier=second)
    assert (replaced.operation, replaced.previous) == ("07", first)
    old = Licence.objects.get(identifier=first)
    assert (old.state, old.state_reason) == ("04", "换发新证，原证注销")
    assert verify(first)["result"] == "cancelled" and verify(second)["result"] == "valid"
    assert replaced.holders.get().id_number == SZR
