"""The three 跨省通办 modes end to end through the HTTP API, between two provincial nodes."""

from __future__ import annotations

import datetime as dt

from tongban.cases.models import Case
from tongban.cases.services import derive_case
from tongban.stories import story

from support import Api, dispatch, ok, problem


def _timeline(case: dict) -> list[str]:
    return [entry["action"] for entry in case["timeline"]]


def test_online_mode_applicant_in_zhejiang_insured_in_guizhou(fixed_clock):
    """全程网办: 郑垂禄 works in 浙江仙居 and files 异地就医备案 with his insurer in 贵州正安."""
    applicant = Api("zhengchuilu", node="330000")
    created = ok(applicant.post("/cases", story("online")["request"]), 201)
    case_no = created["case_no"]
    assert case_no.startswith("33000020250609")
    assert created["status"] == "draft"
    assert created["jurisdiction"]["owner"]["node"] == "520000"
    assert "正安" in created["jurisdiction"]["owner"]["department"]["name"]

    # Submitting without the conditional commitment letter is refused and lists what is missing.
    ok(applicant.upload(case_no, "id_card"), 201)
    missing = problem(applicant.act(case_no, "submit"), 422, "materials_missing")
    assert [m["code"] for m in missing["missing"]] == ["commitment"]
    ok(applicant.upload(case_no, "commitment"), 201)
    assert ok(applicant.act(case_no, "submit"))["status"] == "received"
    dispatch()

    # The owner in 贵州 sees the case in its work queue and handles it remotely.
    reviewer = Api("gz-yibao-reviewer", node="520000")
    queue = ok(reviewer.get("/cases", queue="true"))
    assert [c["case_no"] for c in queue["items"]] == [case_no]
    fixed_clock.advance(hours=2)
    assert ok(reviewer.act(case_no, "accept"))["status"] == "accepted"
    ok(reviewer.act(case_no, "start_review"))
    approver = Api("gz-yibao-approver", node="520000")
    decided = ok(approver.act(case_no, "decide", outcome="approve", result={"title": "异地就医备案成功告知"}))
    assert decided["status"] == "decided" and decided["outcome"] == "approve"
    delivered = ok(reviewer.act(case_no, "deliver", method="online"))
    assert delivered["status"] == "delivered"
    dispatch()

    # The applicant, at the node where they applied, sees one timeline with every step.
    seen = applicant.case(case_no)
    assert seen["node"] == "330000"
    assert seen["status"] == "delivered"
    assert _timeline(seen) == ["submit", "accept", "start_review", "decide", "deliver"]
    assert [e["node"] for e in seen["timeline"]] == ["330000", "520000", "520000", "520000", "520000"]
    assert seen["deadlines"]["accepted_at"].startswith("2025-06-09T11:00")
    assert seen["applicant"]["id_number"] == "520324********0536"
    # Node A follows its progress too: the provincial supervisor of 浙江.
    supervisor = Api("zj-supervisor", node="330000")
    assert ok(supervisor.get("/cases"))["items"][0]["status"] == "delivered"
    # Every copy's cached fields equal a fresh derivation from its action log.
    for copy in Case.objects.filter(case_no=case_no):
        assert derive_case(copy).status == copy.status == "delivered"


def test_proxy_mode_heilongjiang_window_for_a_qinghai_licence(fixed_clock):
    """异地代收代办: 樊女士 at the 尚志 window gets her 西宁 business licence replaced."""
    clerk = Api("hlj-shichang-clerk", node="230000")
    created = ok(clerk.post("/cases", story("proxy")["request"]), 201)
    case_no = created["case_no"]
    assert created["jurisdiction"]["submitted"]["node"] == "230000"
    assert created["jurisdiction"]["owner"]["node"] == "630000"
    for code in ("application", "agent_id_card", "authorisation"):
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    # The window checks form and identity only: it can never accept or decide.
    problem(clerk.act(case_no, "accept"), 403, "proxy_window_cannot_decide")
    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    problem(clerk.act(case_no, "forward"), 422, "waybill_required")
    forwarded = ok(clerk.act(case_no, "forward", waybill={"carrier": "中国邮政EMS", "number": "1187654321098"}))
    assert forwarded["status"] == "forwarded"
    assert forwarded["jurisdiction"]["processing"]["node"] == "630000"
    problem(clerk.act(case_no, "decide", outcome="approve"), 403, "proxy_window_cannot_decide")
    dispatch()

    reviewer = Api("qh-shichang-reviewer", node="630000")
    owner_view = reviewer.case(case_no)
    assert owner_view["status"] == "forwarded"
    assert owner_view["applicant"]["id_number"] == "230183197504102029"  # a handler sees it whole (audited)
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    approver = Api("qh-shichang-approver", node="630000")
    ok(approver.act(case_no, "decide", outcome="approve", result={"title": "营业执照（补领）"}))
    ok(reviewer.act(case_no, "deliver", method="mail", waybill={"carrier": "中国邮政EMS", "number": "9876543210"}))
    dispatch()

    # The clerk sees what they forwarded, through to delivery; so does the enterprise's agent.
    forwarded_list = ok(clerk.get("/cases"))
    assert [c["case_no"] for c in forwarded_list["items"]] == [case_no]
    assert forwarded_list["items"][0]["status"] == "delivered"
    agent = Api("fan")
    agent_view = agent.case(case_no)
    assert _timeline(agent_view) == ["submit", "check_form", "forward", "accept", "start_review", "decide", "deliver"]
    assert agent_view["timeline"][2]["data"]["waybill"]["number"] == "1187654321098"
    assert agent_view["timeline"][-1]["data"]["waybill"]["number"] == "9876543210"


def test_multi_place_pension_transfer_beijing_to_jinan(fixed_clock):
    """多地联办: 张涛 moves his pension from 北京 to 济南; he deals with 济南 only."""
    applicant = Api("zhangtao", node="370000")
    created = ok(applicant.post("/cases", story("multi_place")["request"]), 201)
    case_no = created["case_no"]
    assert [(leg["node"], leg["limit"]) for leg in created["legs"]] == [("370000", 15), ("110000", 15), ("370000", 15)]
    for code in ("id_card", "application", "payment_certificate"):
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()

    jinan = Api("sd-renshe-reviewer", node="370000")
    ok(jinan.act(case_no, "accept"))
    started = ok(jinan.act(case_no, "start_review"))
    assert started["legs"][0]["due"] == "2025-06-30"  # 15 working days, 端午 5/31–6/2 already past
    fixed_clock.set(dt.datetime(2025, 6, 16, 10, 0))
    after_first = ok(jinan.act(case_no, "complete_leg", documents=["基本养老保险关系转移接续联系函"]))
    assert after_first["jurisdiction"]["processing"]["node"] == "110000"
    problem(jinan.act(case_no, "complete_leg"), 403, "action_not_permitted")  # it is 北京's turn now
    dispatch()

    beijing = Api("bj-renshe-reviewer", node="110000")
    assert ok(beijing.get("/cases", queue="true"))["items"][0]["case_no"] == case_no
    fixed_clock.set(dt.datetime(2025, 6, 23, 10, 0))
    ok(beijing.act(case_no, "complete_leg", documents=["基本养老保险关系转移接续信息表", "基金划转表"]))
    dispatch()

    approver = Api("sd-renshe-approver", node="370000")
    fixed_clock.set(dt.datetime(2025, 6, 25, 10, 0))
    ok(approver.act(case_no, "decide", outcome="approve", result={"title": "养老保险关系转移接续办结告知"}))
    ok(jinan.act(case_no, "deliver", method="online"))
    dispatch()

    seen = applicant.case(case_no)
    assert seen["status"] == "delivered"
    assert _timeline(seen) == ["submit", "accept", "start_review", "complete_leg", "complete_leg", "decide", "deliver"]
    legs = seen["legs"]
    assert [leg["due"] for leg in legs] == ["2025-06-30", "2025-07-07", "2025-07-14"]
    assert all(leg["completed_at"] for leg in legs)
    # 北京's copy agrees.
    beijing_copy = Case.objects.get(node="110000", case_no=case_no)
    assert beijing_copy.status == "delivered" and beijing_copy.action_count == 7
