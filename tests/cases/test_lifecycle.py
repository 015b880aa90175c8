"""The law's clock and the lifecycle: §32 deemed acceptance, one-time 补正, 特别程序, extensions,
withdrawal from another node, warnings and provisional deadlines."""

from __future__ import annotations

import datetime as dt

from tongban.cases.models import Case
from tongban.cases.services import derive_case
from tongban.cases.sweep import sweep
from tongban.worktime.calendar import add_working_days

from support import Api, dispatch, ok, problem


def _owner_copy(case_no: str) -> Case:
    return Case.objects.get(node="520000", case_no=case_no)


def test_deemed_accepted_after_five_working_days_without_decision(online_case, fixed_clock):
    case = online_case()  # received Monday 2025-06-09 09:00
    assert _owner_copy(case.case_no).acceptance_due == dt.date(2025, 6, 16)
    fixed_clock.set(dt.datetime(2025, 6, 16, 18, 0))
    assert sweep().deemed_accepted == 0  # the fifth working day is not over yet
    fixed_clock.set(dt.datetime(2025, 6, 17, 8, 0))
    assert sweep().deemed_accepted == 1
    dispatch()
    seen = case.applicant.case(case.case_no)
    assert seen["status"] == "accepted"
    assert seen["timeline"][-1]["action"] == "deem_accepted"
    assert seen["timeline"][-1]["role_label"] == "系统"
    # Accepted from the day of receipt, not from the day the sweep noticed.
    assert seen["deadlines"]["accepted_at"] == seen["deadlines"]["received_at"]
    assert seen["deadlines"]["promised_due"] == "2025-06-10"
    assert sweep().deemed_accepted == 0


def test_one_time_correction_notice_and_supplements_from_the_applicants_node(online_case, fixed_clock):
    case = online_case()
    notice = ok(
        case.reviewer.act(case.case_no, "request_correction", missing=[{"code": "id_card", "note": "照片不清晰"}])
    )
    assert notice["status"] == "correction"
    assert notice["timeline"][-1]["data"]["missing"] == [
        {"code": "id_card", "name": "居民身份证或社会保障卡", "note": "照片不清晰"}
    ]
    dispatch()
    # Only one notice: asking again is refused.
    problem(
        case.reviewer.act(case.case_no, "request_correction", missing=["commitment"]),
        409,
        "action_not_allowed_in_state",
    )
    # The applicant supplements at 浙江; the case is held in 贵州, so the request travels.
    problem(
        case.applicant.supplement(case.case_no, {"commitment": ("c.pdf", b"%PDF-1.4 x")}),
        422,
        "supplement_not_requested",
    )
    fixed_clock.set(dt.datetime(2025, 6, 11, 15, 0))
    requested = case.applicant.supplement(case.case_no, {"id_card": ("id.pdf", b"%PDF-1.4 clearer")})
    assert requested.status_code == 202, requested.content
    dispatch()
    owner = _owner_copy(case.case_no)
    assert owner.status == "accepted"
    # The acceptance date after 补正 is the day the missing materials were all in.
    assert owner.accepted_at == dt.datetime(2025, 6, 11, 7, 0, tzinfo=dt.UTC)
    assert owner.materials.filter(supplement=True, material_code="id_card").count() == 1
    seen = case.applicant.case(case.case_no)
    assert seen["status"] == "accepted"
    assert [m["code"] for m in seen["materials"] if m["supplement"]] == ["id_card"]


def test_special_procedure_pauses_the_clock_and_extension_moves_it(online_case, fixed_clock):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    started = ok(case.reviewer.act(case.case_no, "start_review"))
    assert started["deadlines"]["promised_due"] == "2025-06-10"  # promised limit: 1 working day
    problem(case.reviewer.act(case.case_no, "start_special", reason="需专家评审"), 422, "special_kind_invalid")
    paused = ok(case.reviewer.act(case.case_no, "start_special", reason="需专家评审", kind="专家评审"))
    assert "不计算在办理期限内" in paused["timeline"][-1]["data"]["notice_to_applicant"]
    fixed_clock.set(dt.datetime(2025, 6, 16, 9, 0))  # five working days later
    resumed = ok(case.reviewer.act(case.case_no, "end_special"))
    assert resumed["deadlines"]["paused_working_days"] == 5
    assert resumed["deadlines"]["promised_due"] == "2025-06-17"
    problem(case.reviewer.act(case.case_no, "request_extension"), 422, "reason_required")
    ok(case.reviewer.act(case.case_no, "request_extension", reason="情况复杂", working_days=10))
    problem(case.reviewer.act(case.case_no, "approve_extension"), 403, "action_not_permitted")
    extended = ok(case.approver.act(case.case_no, "approve_extension"))
    assert extended["deadlines"]["promised_due"] == add_working_days(dt.date(2025, 6, 17), 10).date.isoformat()
    problem(case.approver.act(case.case_no, "approve_extension"), 409, "no_extension_pending")


def test_withdrawal_at_the_applicants_node_is_performed_by_the_holder(online_case):
    case = online_case()
    problem(case.applicant.act(case.case_no, "withdraw"), 422, "reason_required")
    response = case.applicant.act(case.case_no, "withdraw", reason="已回参保地办理")
    assert response.status_code == 202
    assert response.json()["requested_at_node"] == "520000"
    dispatch()
    assert _owner_copy(case.case_no).status == "withdrawn"
    assert case.applicant.case(case.case_no)["status"] == "withdrawn"


def test_a_request_that_finds_the_case_moved_on_is_passed_to_the_next_holder_with_its_requester():
    from tongban.exchange.models import OutboxMessage
    from tongban.stories import story

    told = story("multi_place")
    zhangtao = Api("zhangtao", node="370000")
    case_no = ok(zhangtao.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(zhangtao.upload(case_no, code), 201)
    ok(zhangtao.act(case_no, "submit"))
    dispatch()
    jinan = Api(told["reviewer"], node="370000")
    for step in ("accept", "start_review", "complete_leg"):
        ok(jinan.act(case_no, step))
    dispatch()
    # 北京 finishes its leg; before 济南 hears of it, 张涛 asks 济南's copy to withdraw, which still
    # names 北京 as the holder.
    ok(Api(told["origin_reviewer"], node="110000").act(case_no, "complete_leg"))
    assert zhangtao.act(case_no, "withdraw", reason="改为线下办理").status_code == 202
    dispatch()
    passed_on = OutboxMessage.objects.get(type="case.request", from_node="110000")
    assert (passed_on.to_node, passed_on.payload["hops"], passed_on.payload["origin"]) == ("370000", 1, "370000")
    assert (passed_on.user, passed_on.represented_party) == ("zhangtao", "")
    assert zhangtao.case(case_no)["status"] == "withdrawn"


def test_withdrawal_after_the_decision_is_refused(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    ok(case.approver.act(case.case_no, "decide", outcome="approve"))
    dispatch()
    problem(case.applicant.act(case.case_no, "withdraw", reason="不需要了"), 409, "action_not_allowed_in_state")


def test_yellow_then_red_warning(online_case, fixed_clock):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    owner = _owner_copy(case.case_no)
    assert owner.promised_due == dt.date(2025, 6, 10) and owner.warning == "yellow"
    fixed_clock.set(dt.datetime(2025, 6, 11, 9, 0))
    sweep()
    assert _owner_copy(case.case_no).warning == "red"
    red = ok(case.reviewer.get("/cases", warning="red"))
    assert [c["case_no"] for c in red["items"]] == [case.case_no]


def test_deadline_in_a_year_without_holiday_data_is_provisional_then_recomputed(
    online_case, fixed_clock, tmp_path, django_capture_on_commit_callbacks
):
    from tongban.worktime.loader import load_holiday_files

    fixed_clock.set(dt.datetime(2026, 12, 30, 9, 0))
    case = online_case()
    owner = _owner_copy(case.case_no)
    # Acceptance due falls in 2027, whose schedule is not published: weekends only, provisional.
    assert owner.acceptance_due == dt.date(2027, 1, 6)
    assert owner.due_provisional is True
    assert case.reviewer.case(case.case_no)["deadlines"]["provisional"] is True
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用假日安排\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "workdays: []\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        load_holiday_files(tmp_path)
    owner = _owner_copy(case.case_no)
    assert owner.due_provisional is False
    assert owner.acceptance_due == dt.date(2027, 1, 7)  # 元旦 1/1 is now a holiday


def test_cached_fields_equal_a_fresh_derivation(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    dispatch()
    for copy in Case.objects.filter(case_no=case.case_no):
        derived = derive_case(copy)
        assert (derived.status, derived.accepted_at, derived.promised_due, derived.processing_node) == (
            copy.status,
            copy.accepted_at,
            copy.promised_due,
            copy.processing_node,
        )


def test_the_applicant_sees_their_cases_without_naming_a_node(online_case):
    case = online_case()
    listed = ok(Api("zhengchuilu").get("/cases"))
    assert [c["case_no"] for c in listed["items"]] == [case.case_no]
    assert listed["items"][0]["node"] == "330000"


def test_a_request_the_holder_refuses_comes_back_as_a_notice(online_case):
    case = online_case()
    # The applicant asks to withdraw; before the request is applied the owner decides.
    assert case.applicant.act(case.case_no, "withdraw", reason="改在参保地办理").status_code == 202
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    ok(case.approver.act(case.case_no, "decide", outcome="approve"))
    dispatch()
    seen = case.applicant.case(case.case_no)
    assert seen["status"] == "decided"
    assert [(n["action"], n["code"]) for n in seen["notices"]] == [("withdraw", "action_not_allowed_in_state")]


def test_a_draft_is_withdrawn_where_it_was_opened(online_case):
    case = online_case(submit=False)
    withdrawn = ok(case.applicant.act(case.case_no, "withdraw", reason="填错了"))
    assert withdrawn["status"] == "withdrawn"


def test_finished_cases_leave_the_work_queue(online_case):
    case = online_case()
    assert ok(case.reviewer.get("/cases", queue="true"))["total"] == 1
    ok(case.reviewer.act(case.case_no, "refuse", reason="不属于本部门受理范围"))
    assert ok(case.reviewer.get("/cases", queue="true"))["total"] == 0


def test_id_numbers_in_the_form_are_masked_for_non_handlers(online_case):
    case = online_case()
    assert case.applicant.case(case.case_no)["form_data"]["applicant_id_number"] == "520324********0536"
    assert case.reviewer.case(case.case_no)["form_data"]["applicant_id_number"] == "520324197806230536"


def test_the_decision_freezes_the_rules_it_was_taken_under(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    decided = ok(case.approver.act(case.case_no, "decide", outcome="approve"))
    frozen = decided["timeline"][-1]["data"]
    assert frozen["rules_date"] == "2025-06-09"
    assert frozen["rules_trace"], "the decision records the item version, coverage and rules it relied on"
    assert frozen["rules_trace"] == Case.objects.get(node="520000", case_no=case.case_no).rules_trace
