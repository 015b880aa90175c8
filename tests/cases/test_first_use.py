"""What the first real use found: the applicant bound to the form, joint applications, scopes that
match the work, the window handing over what it took, and flows that fit the item."""

from __future__ import annotations

from types import SimpleNamespace

from tongban.cases import views
from tongban.cases.models import Case
from tongban.identity.models import Account, RealNameLevel, StaffBinding
from tongban.regions.queries import department_for
from tongban.stories import story

from .test_bad_input import _proxy_body, nothing_written
from support import DEMO_PASSWORD, Api, dispatch, ok, problem

NANJING = "320100"
MARRIAGE = "TB-minzheng-001"


def citizen_id(prefix17: str) -> str:
    """A GB 11643 number: the 17 digits given and their MOD 11-2 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(prefix17, weights, strict=True))
    return prefix17 + "10X98765432"[total % 11]


BRIDE_ID = citizen_id("32010219960304002")


def bride(level: int = RealNameLevel.VERIFIED) -> Account:
    """刘燕, the demo bride, at the real-name level the test needs."""
    account = Account.objects.filter(username="liuyan").first()
    if account is None:
        return Account.objects.create_user(
            "liuyan", password=DEMO_PASSWORD, display_name="刘燕", id_number=BRIDE_ID, real_name_level=level
        )
    account.id_number, account.real_name_level = BRIDE_ID, level
    account.save(update_fields=["id_number", "real_name_level"])
    return account


def marriage_form(**overrides) -> dict:
    form = {
        "male_name": "王杰",
        "male_id_number": "140107199408120412",
        "female_name": "刘燕",
        "female_id_number": BRIDE_ID,
        "chosen_region": NANJING,
        "phone": "13900000102",
    }
    return {**form, **overrides}


def marriage_at_nanjing(form: dict | None = None, applicant: dict | None = None, clerk: Api | None = None):
    clerk = clerk or Api("js-minzheng-clerk", node="320000")
    body = {
        "item_code": MARRIAGE,
        "mode": "proxy",
        "form": form or marriage_form(),
        "applicant": applicant
        or {"name": "王杰", "id_number": "140107199408120412", "identity_verified": True, "username": "wangjie"},
    }
    return clerk, clerk.post("/cases", body)


def submitted_marriage():
    clerk, response = marriage_at_nanjing()
    case_no = ok(response, 201)["case_no"]
    for code in ("male_id_card", "female_id_card", "declaration"):
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    return clerk, case_no


# ------------------------------------------------------------------ the applicant is the applicant


def test_an_online_form_that_names_someone_else_is_refused():
    """zhangtao once opened a case whose form said 李四 with another person's ID number, and got 201."""
    zhangtao = Api("zhangtao", node="370000")
    body = story("multi_place")["request"]
    body["form"] = {**body["form"], "applicant_name": "李四", "applicant_id_number": "11010519491231002X"}
    with nothing_written():
        answer = problem(zhangtao.post("/cases", body), 422, "applicant_mismatch")
    assert {e["field"] for e in answer["errors"]} == {"applicant_name", "applicant_id_number"}
    assert all("一致" in e["message"] for e in answer["errors"])


def test_a_window_form_must_name_the_person_whose_identity_was_verified():
    clerk = Api("hlj-shichang-clerk", node="230000")
    body = _proxy_body()
    body["form"] = {**body["form"], "agent_name": "王五"}
    with nothing_written():
        answer = problem(clerk.post("/cases", body), 422, "applicant_mismatch")
    assert [e["field"] for e in answer["errors"]] == ["agent_name"]


def test_a_window_form_must_name_the_registered_enterprise():
    clerk = Api("hlj-shichang-clerk", node="230000")
    body = _proxy_body()
    body["form"] = {**body["form"], "enterprise_name": "另一家公司"}
    with nothing_written():
        problem(clerk.post("/cases", body), 422, "applicant_mismatch")


def test_the_applicant_must_be_one_of_the_parties():
    clerk = Api("js-minzheng-clerk", node="320000")
    with nothing_written():
        _, response = marriage_at_nanjing(
            applicant={"name": "张涛", "id_number": "110105196203152013", "identity_verified": True}, clerk=clerk
        )
        answer = problem(response, 422, "applicant_mismatch")
    assert answer["errors"][0]["code"] == "applicant_not_a_party"


def test_every_party_of_a_joint_application_sees_it_once_verified():
    bride()
    _, case_no = submitted_marriage()
    case = Case.objects.get(node="320000", case_no=case_no)
    assert [(p.label, p.name) for p in case.parties.all()] == [("男方", "王杰"), ("女方", "刘燕")]
    seen = Api("liuyan", node="320000").case(case_no)
    assert seen["parties"][1]["name"] == "刘燕"
    assert Api("wangjie", node="320000").case(case_no)["case_no"] == case_no


def test_a_self_declared_id_number_does_not_open_someone_elses_case():
    bride(level=RealNameLevel.BASIC)
    _, case_no = submitted_marriage()
    problem(Api("liuyan", node="320000").get(f"/cases/{case_no}"), 404, "case_not_found")


# ------------------------------------------------------------------ flows that fit the item


def submitted_proxy_case() -> tuple[Api, str]:
    """樊女士's 异地代收代办 at the 尚志 window, submitted."""
    clerk = Api("hlj-shichang-clerk", node="230000")
    case_no = ok(clerk.post("/cases", _proxy_body(username="fan")), 201)["case_no"]
    for code in ("application", "agent_id_card", "authorisation"):
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    return clerk, case_no


def test_a_window_of_the_owning_department_is_not_proxy_handling():
    """The 南京 marriage office registering two non-local parties: no form check, no forward, no waybill."""
    bride()
    clerk, case_no = submitted_marriage()
    case = clerk.case(case_no)
    assert case["flow"] == "owner_window" and case["flow_label"] == "属地窗口受理"
    assert case["jurisdiction"]["processing"]["department"]["id"] == case["jurisdiction"]["owner"]["department"]["id"]
    assert case["deadlines"]["owner_received_at"]  # the §32 clock runs from the window's receipt
    problem(clerk.act(case_no, "forward"), 409, "action_not_for_mode")
    reviewer = Api("js-minzheng-reviewer", node="320000")
    assert "accept" in {a["action"] for a in reviewer.case(case_no)["allowed_actions"]}
    ok(reviewer.act(case_no, "accept"))


def both_posts(username: str = "js-minzheng-both") -> Account:
    account = Account.objects.create_user(username, password=DEMO_PASSWORD, display_name="南京登记员")
    department = department_for(NANJING, "minzheng")
    for role in ("reviewer", "approver"):
        StaffBinding.objects.create(
            account=account, node_id="320000", region_id=NANJING, department=department, role=role
        )
    return account


def test_an_immediate_item_is_accepted_and_decided_in_one_step_by_one_holding_both_posts():
    bride()
    both_posts()
    _, case_no = submitted_marriage()
    problem(
        Api("js-minzheng-approver", node="320000").act(case_no, "decide_on_the_spot", outcome="approve"),
        403,
        "both_posts_required",
    )
    decided = ok(Api("js-minzheng-both", node="320000").act(case_no, "decide_on_the_spot", outcome="approve"))
    assert decided["status"] == "decided" and decided["outcome"] == "approve"
    assert decided["deadlines"]["accepted_at"] == decided["deadlines"]["decided_at"]
    assert Api("liuyan", node="320000").case(case_no)["status"] == "decided"  # each party sees the result


def test_an_item_that_is_not_immediate_cannot_be_decided_on_the_spot():
    clerk, case_no = submitted_proxy_case()
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward", waybill={"carrier": "中国邮政EMS", "number": "1187654321098"}))
    dispatch()
    reviewer_post = StaffBinding.objects.get(account__username="qh-shichang-reviewer", node_id="630000")
    StaffBinding.objects.create(
        account=Account.objects.get(username="qh-shichang-approver"),
        node_id="630000",
        region_id=reviewer_post.region_id,
        department=reviewer_post.department,
        role="reviewer",
    )
    approver = Api("qh-shichang-approver", node="630000")
    problem(approver.act(case_no, "decide_on_the_spot", outcome="approve"), 409, "not_immediate_item")


def test_the_owner_acting_before_the_forward_is_told_the_case_is_still_at_the_window():
    clerk, case_no = submitted_proxy_case()
    dispatch()
    answer = problem(
        Api("qh-shichang-reviewer", node="630000").act(case_no, "accept"), 403, "proxy_window_cannot_decide"
    )
    assert "尚在异地受理窗口" in answer["detail"]
    assert "窗口只负责" in problem(clerk.act(case_no, "accept"), 403, "proxy_window_cannot_decide")["detail"]


def test_in_correction_the_applicant_is_offered_the_supplement(online_case):
    made = online_case()
    ok(made.reviewer.act(made.case_no, "request_correction", missing=["commitment"]))
    dispatch()
    offered = {a["action"]: a for a in made.applicant.case(made.case_no)["allowed_actions"]}
    assert offered["complete_correction"]["path"] == f"/api/v1/cases/{made.case_no}/supplements"


# ------------------------------------------------------------------ the window that took it hands it over


def decided_proxy_case() -> tuple[Api, Api, str]:
    clerk, case_no = submitted_proxy_case()
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward", waybill={"carrier": "中国邮政EMS", "number": "1187654321098"}))
    dispatch()
    reviewer = Api("qh-shichang-reviewer", node="630000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    ok(Api("qh-shichang-approver", node="630000").act(case_no, "decide", outcome="approve"))
    return clerk, reviewer, case_no


def test_a_result_for_pickup_goes_back_to_the_window_which_records_the_handover():
    clerk, reviewer, case_no = decided_proxy_case()
    problem(reviewer.act(case_no, "deliver", method="window"), 409, "window_handover_required")
    sent = ok(reviewer.act(case_no, "send_to_window", waybill={"carrier": "中国邮政EMS", "number": "5550001"}))
    assert sent["status"] == "sent_to_window"
    assert sent["jurisdiction"]["processing"]["node"] == "230000"
    problem(reviewer.act(case_no, "deliver", method="window"), 403, "action_not_permitted")
    dispatch()
    problem(clerk.act(case_no, "deliver", method="window"), 422, "receipt_required")
    problem(clerk.act(case_no, "deliver", method="window", receipt={"collected_by": "樊女士"}), 422, "receipt_invalid")
    problem(clerk.act(case_no, "deliver", method="mail", receipt={}), 422, "delivery_method_invalid")
    receipt = {"collected_by": "樊女士", "relation": "经办人", "id_checked": True}
    delivered = ok(clerk.act(case_no, "deliver", method="window", receipt=receipt))
    assert delivered["status"] == "delivered"
    dispatch()
    owner_view = reviewer.case(case_no)
    assert owner_view["status"] == "delivered"
    assert owner_view["timeline"][-1]["data"] == {"method": "window", "receipt": receipt}
    assert owner_view["timeline"][-1]["node"] == "230000"


# ------------------------------------------------------------------ scopes that match the work


def test_a_supervisor_sees_the_leg_their_region_handled():
    """北京's supervisor follows 张涛's pension transfer, whose 转出 leg 北京 handles."""
    told = story("multi_place")
    zhangtao = Api("zhangtao", node="370000")
    case_no = ok(zhangtao.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(zhangtao.upload(case_no, code), 201)
    ok(zhangtao.act(case_no, "submit"))
    dispatch()
    listed = ok(Api("bj-supervisor", node="110000").get("/cases"))
    assert case_no in [c["case_no"] for c in listed["items"]]
    # A supervisor is no handler: names are masked in lists.
    assert [c["applicant_name"] for c in listed["items"] if c["case_no"] == case_no] == ["张*"]


def test_every_personal_field_the_catalog_marks_is_masked_for_non_handlers():
    version = SimpleNamespace(
        form_fields=[
            {"name": "bank_account", "label": "收款银行账号", "type": "text", "personal": True},
            {"name": "applicant_name", "label": "姓名", "type": "text", "personal": True},
            {"name": "applicant_id_number", "label": "公民身份号码", "type": "id_number"},
            {"name": "insured_region", "label": "参保地", "type": "region"},
        ]
    )
    case = SimpleNamespace(
        item_version=version,
        form_data={
            "bank_account": "6222021234567890123",
            "applicant_name": "张涛",
            "applicant_id_number": "110105196203152013",
            "insured_region": "110000",
        },
    )
    assert views._form_data(case, handler=False) == {
        "bank_account": "6222***********0123",
        "applicant_name": "张*",
        "applicant_id_number": "110105********2013",
        "insured_region": "110000",
    }
    assert views._form_data(case, handler=True) == case.form_data


def test_unknown_filter_values_are_refused_with_the_allowed_values():
    supervisor = Api("bj-supervisor", node="110000")
    answer = problem(supervisor.get("/cases", warning="orange"), 422, "invalid_filter")
    assert answer["errors"][0]["allowed"] == ["yellow", "red"]
    assert "draft" in problem(supervisor.get("/cases", status="bogus"), 422, "invalid_filter")["errors"][0]["allowed"]
    problem(supervisor.get("/cases", mode="teleport"), 422, "invalid_filter")
    problem(supervisor.get("/cases", queue="later"), 422, "invalid_filter")
    assert ok(supervisor.get("/cases", warning="red"))["total"] == 0


# ------------------------------------------------------------------ nobody posted: the unassigned queue


def test_a_case_held_by_a_department_nobody_works_in_shows_in_the_administrators_queue():
    """桐梓县's 医保 department is made on first use with nobody posted to it: the case must not wait silently."""
    applicant = Api("zhengchuilu", node="330000")
    body = story("online")["request"]
    body["form"] = {**body["form"], "insured_region": "520322"}
    case_no = ok(applicant.post("/cases", body), 201)["case_no"]
    for code in ("id_card", "commitment"):
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()
    administrator = Api("520000-administrator", node="520000")
    shown = administrator.case(case_no)
    assert shown["unassigned"] is True
    assert shown["jurisdiction"]["owner"]["department"]["name"] == "桐梓县医疗保障局"
    queue = ok(administrator.get("/cases", queue="unassigned"))
    assert [c["case_no"] for c in queue["items"]] == [case_no]
    problem(Api("gz-yibao-reviewer", node="520000").get("/cases", queue="unassigned"), 403, "administrator_required")
    # The case the demo's reviewers work is not in that queue.
    staffed = online_story_case(applicant)
    assert staffed not in [c["case_no"] for c in ok(administrator.get("/cases", queue="unassigned"))["items"]]


def online_story_case(applicant: Api) -> str:
    case_no = ok(applicant.post("/cases", story("online")["request"]), 201)["case_no"]
    for code in ("id_card", "commitment"):
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()
    return case_no
