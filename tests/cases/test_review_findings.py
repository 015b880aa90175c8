"""Regression tests for defects found in review: replication order, holder checks, malformed input."""

from __future__ import annotations

import datetime as dt

from tongban.cases.models import Case
from tongban.cases.services import derive_case
from tongban.exchange.models import OutboxMessage
from tongban.identity.models import Account, StaffBinding
from tongban.regions.queries import department_for
from tongban.stories import story

from .test_bad_input import _proxy_body
from support import DEMO_PASSWORD, Api, dispatch, ok, problem


def _staff(username: str, node: str, region: str, function: str, role: str) -> Api:
    account = Account.objects.create_user(username, password=DEMO_PASSWORD, display_name=username)
    StaffBinding.objects.create(
        account=account, node_id=node, region_id=region, department=department_for(region, function), role=role
    )
    return Api(username, node=node)


def _submitted_proxy(clerk: Api, **applicant) -> str:
    case_no = ok(clerk.post("/cases", _proxy_body(**applicant)), 201)["case_no"]
    for code in ("application", "agent_id_card", "authorisation"):
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    return case_no


def test_a_window_in_the_owners_province_still_cannot_decide():
    clerk = _staff("xn-county-clerk", "630000", "630102", "shichang", "window_clerk")
    county_reviewer = _staff("xn-county-reviewer", "630000", "630102", "shichang", "reviewer")
    case_no = _submitted_proxy(clerk)
    problem(county_reviewer.act(case_no, "accept"), 403, "proxy_window_cannot_decide")
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward", waybill={"carrier": "EMS", "number": "1"}))
    # Now the owning department (西宁市市场监管) holds it, and only it may accept.
    problem(county_reviewer.act(case_no, "accept"), 403, "action_not_permitted")
    assert ok(Api("qh-shichang-reviewer", node="630000").act(case_no, "accept"))["status"] == "accepted"


def test_the_window_clerk_supplements_a_proxy_case_held_by_the_owner():
    clerk = Api("hlj-shichang-clerk", node="230000")
    case_no = _submitted_proxy(clerk, username="")
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward", waybill={"carrier": "EMS", "number": "1"}))
    dispatch()
    owner = Api("qh-shichang-reviewer", node="630000")
    ok(owner.act(case_no, "request_correction", missing=[{"code": "authorisation", "note": "未签字"}]))
    dispatch()
    response = clerk.supplement(case_no, {"authorisation": ("auth.pdf", b"%PDF-1.4 signed")})
    assert response.status_code == 202, response.content
    dispatch()
    assert Case.objects.get(node="630000", case_no=case_no).status == "accepted"
    assert clerk.case(case_no)["notices"] == []


def test_a_request_reaching_a_former_holder_is_passed_on():
    applicant = Api("zhangtao", node="370000")
    told = story("multi_place")
    case_no = ok(applicant.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()
    jinan = Api("sd-renshe-reviewer", node="370000")
    for step in ("accept", "start_review", "complete_leg"):
        ok(jinan.act(case_no, step))
    dispatch()
    ok(Api("bj-renshe-reviewer", node="110000").act(case_no, "complete_leg"))  # 济南 has not heard yet
    assert applicant.act(case_no, "withdraw", reason="不再转移").json()["requested_at_node"] == "110000"
    dispatch()
    assert {c.status for c in Case.objects.filter(case_no=case_no)} == {"withdrawn"}


def test_withdrawing_a_draft_sends_nothing(online_case):
    case = online_case(submit=False)
    ok(case.applicant.act(case.case_no, "withdraw", reason="填错了"))
    assert not OutboxMessage.objects.filter(case_no=case.case_no).exists()


def test_claimed_shared_licences_do_not_replace_uploads(online_case):
    case = online_case(submit=False)
    Case.objects.get(case_no=case.case_no).materials.filter(material_code="id_card").delete()
    problem(
        case.applicant.act(case.case_no, "submit", shared_licences=["jumin_shenfenzheng"]), 422, "materials_missing"
    )


def test_malformed_action_content_is_a_422_not_a_crash(online_case):
    case = online_case()
    problem(case.reviewer.act(case.case_no, "request_correction", missing=5), 422, "correction_list_invalid")
    problem(case.reviewer.act(case.case_no, "request_correction", missing=[["x"]]), 422, "material_unknown")
    problem(case.reviewer.act(case.case_no, "request_correction", missing=[{"code": {}}]), 422, "material_unknown")
    problem(case.reviewer.act(case.case_no, "refuse", reason="x" * 5000), 422, "reason_too_long")
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    ok(case.approver.act(case.case_no, "decide", outcome="approve"))
    problem(case.reviewer.act(case.case_no, "deliver", method=[]), 422, "delivery_method_invalid")
    problem(case.reviewer.act(case.case_no, "deliver", method={}), 422, "delivery_method_invalid")
    problem(case.applicant.get("/cases/" + "²" * 20 + "X"), 404, "case_not_found")


def test_the_rules_in_force_on_the_day_of_submission_count(fixed_clock):
    fixed_clock.set(dt.datetime(2022, 2, 28, 10, 0))
    clerk = Api("hlj-shichang-clerk", node="230000")
    case_no = ok(clerk.post("/cases", _proxy_body()), 201)["case_no"]
    for code in ("application", "agent_id_card", "authorisation"):
        ok(clerk.upload(case_no, code), 201)
    fixed_clock.set(dt.datetime(2022, 3, 10, 10, 0))  # version 2 is in force since 2022-03-01
    problem(clerk.act(case_no, "submit"), 409, "item_version_changed")


def test_withdrawal_during_a_pause_closes_it(online_case, fixed_clock):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    ok(case.reviewer.act(case.case_no, "start_special", reason="需检测", kind="检测"))
    fixed_clock.set(dt.datetime(2025, 6, 12, 9, 0))
    case.applicant.act(case.case_no, "withdraw", reason="不办了")
    dispatch()
    fixed_clock.set(dt.datetime(2025, 7, 14, 9, 0))
    owner = Case.objects.get(node="520000", case_no=case.case_no)
    derived = derive_case(owner)
    assert (derived.paused_working_days, derived.promised_due) == (owner.paused_working_days, owner.promised_due)
    assert owner.paused_working_days == 3


def test_envelopes_name_the_acting_user_and_the_represented_party():
    clerk = Api("hlj-shichang-clerk", node="230000")
    case_no = _submitted_proxy(clerk)
    created = OutboxMessage.objects.get(case_no=case_no, type="case.created")
    assert (created.user, created.represented_party) == ("hlj-shichang-clerk", "91630100MA7K2Q3H85")
