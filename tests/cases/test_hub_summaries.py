"""The hub's supervisors see every node's cases through summaries, never the applicant's data."""

from __future__ import annotations

import datetime as dt
import json

from tongban.cases.models import Case, HubCaseSummary
from tongban.cases.reporting import on_case_summary
from tongban.cases.sweep import sweep
from tongban.exchange.models import OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.stories import story

from support import Api, dispatch, ok, problem

HUB = "000000"


def hub() -> Api:
    return Api("hub-supervisor", node=HUB)


def submit_story(mode: str) -> str:
    told = story(mode)
    submitter = Api(told["user"], node=told["node"])
    case_no = ok(submitter.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(submitter.upload(case_no, code), 201)
    ok(submitter.act(case_no, "submit"))
    dispatch()
    return case_no


def holder_copy(case_no: str) -> Case:
    return next(c for c in Case.objects.filter(case_no=case_no) if c.processing_node == c.node)


def personal_values(case_no: str) -> set[str]:
    """Every name and ID number a case of the three stories carries, at every node that keeps it."""
    values: set[str] = set()
    for case in Case.objects.filter(case_no=case_no):
        values |= {case.applicant_name, case.applicant_id_number, case.applicant_username}
        values |= {v for p in case.parties.all() for v in (p.name, p.id_number)}
        fields = {f["name"] for f in case.item_version.form_fields if f.get("personal") or f["type"] == "id_number"}
        values |= {str(case.form_data[name]) for name in fields if case.form_data.get(name)}
    return values - {""}


def test_the_hub_follows_the_three_modes_without_personal_data():
    case_nos = [submit_story(mode) for mode in ("online", "proxy", "multi_place")]
    listed = ok(hub().get("/case-summaries"))
    by_no = {row["case_no"]: row for row in listed["items"]}
    assert set(case_nos) <= set(by_no)
    for case_no in case_nos:
        holder = holder_copy(case_no)
        row = by_no[case_no]
        assert (row["status"], row["processing_node"], row["action_count"]) == (
            holder.status,
            holder.processing_node,
            holder.action_count,
        )
        assert row["reported_by"] == holder.node and row["item_name"] == holder.item.name
        assert row["owner_department"]["id"] and row["received_at"]
    reports = OutboxMessage.objects.filter(type="case.summary")
    assert {m.to_node for m in reports} == {HUB} and all(m.user == m.represented_party == "" for m in reports)
    for case_no in case_nos:
        sent = json.dumps([m.payload for m in reports.filter(case_no=case_no)], ensure_ascii=False)
        leaked = {value for value in personal_values(case_no) if value in sent}
        assert not leaked, (case_no, leaked)
    assert "applicant" not in json.dumps(listed, ensure_ascii=False).replace("applicant_type", "")


def test_the_summary_follows_the_case_to_its_end():
    case_no = submit_story("online")
    reviewer, approver = Api("gz-yibao-reviewer", node="520000"), Api("gz-yibao-approver", node="520000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    ok(approver.act(case_no, "decide", outcome="approve"))
    dispatch()
    row = ok(hub().get(f"/case-summaries/{case_no}"))
    assert (row["status"], row["outcome"], row["last_action"]) == ("decided", "approve", "decide")
    assert row["decided_at"] and row["accepted_at"]


def test_a_warning_the_sweep_raises_reaches_the_hub(fixed_clock):
    case_no = submit_story("online")
    reviewer = Api("gz-yibao-reviewer", node="520000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    dispatch()
    assert ok(hub().get(f"/case-summaries/{case_no}"))["warning"] == "yellow"
    fixed_clock.set(dt.datetime(2025, 6, 11, 9, 0))
    sweep()
    dispatch()
    red = ok(hub().get("/case-summaries", warning="red"))
    assert [row["case_no"] for row in red["items"]] == [case_no]
    assert red["warnings"] == {"yellow": 0, "red": 1}
    assert red["items"][0]["last_action"] == "start_review"  # the sweep appends no action


def test_a_case_nobody_can_work_shows_as_unassigned_at_the_hub():
    applicant = Api("zhengchuilu", node="330000")
    body = story("online")["request"]
    body["form"] = {**body["form"], "insured_region": "520322"}  # 桐梓县: a department nobody is posted to
    case_no = ok(applicant.post("/cases", body), 201)["case_no"]
    for code in ("id_card", "commitment"):
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    dispatch()
    listed = ok(hub().get("/case-summaries", unassigned="是"))
    assert [row["case_no"] for row in listed["items"]] == [case_no]
    assert listed["items"][0]["processing_department"]["name"] == "桐梓县医疗保障局"


def test_an_older_report_never_overwrites_a_newer():
    case_no = submit_story("online")
    ok(Api("gz-yibao-reviewer", node="520000").act(case_no, "accept"))
    dispatch()
    reports = list(OutboxMessage.objects.filter(type="case.summary", case_no=case_no).order_by("created_at", "id"))
    assert len(reports) >= 2
    HubCaseSummary.objects.all().delete()
    for report in reversed(reports):  # the newest arrives first
        on_case_summary(envelope_of(report))
    kept = HubCaseSummary.objects.get(case_no=case_no)
    assert (kept.status, kept.last_action) == ("accepted", "accept")


def test_only_the_hubs_supervisors_and_administrators_see_summaries():
    case_no = submit_story("online")
    for username, node in (("sd-supervisor", "370000"), ("hub-supervisor", "370000"), ("zhengchuilu", HUB)):
        problem(Api(username, node=node).get("/case-summaries"), 403, "hub_supervisor_required")
        problem(Api(username, node=node).get(f"/case-summaries/{case_no}"), 403, "hub_supervisor_required")
    # At the hub the supervisor holds no case copies: the summaries are all they see.
    assert ok(hub().get("/cases"))["total"] == 0
    problem(hub().get("/case-summaries", warning="orange"), 422, "invalid_filter")
    problem(hub().get("/case-summaries", unassigned="也许"), 422, "invalid_filter")
    problem(hub().get("/case-summaries/330000000000000000000"), 404, "case_not_found")
    me = ok(hub().get("/me"))
    assert [(p["node"], p["region"], p["role"]) for p in me["staff_bindings"]] == [(HUB, None, "supervisor")]


def test_only_a_post_at_the_hub_may_go_without_a_region():
    from django.core.exceptions import ValidationError

    from tongban.identity.models import Account, StaffBinding

    account = Account.objects.get(username="hub-supervisor")
    StaffBinding(account=account, node_id=HUB, role="supervisor").clean()
    try:
        StaffBinding(account=account, node_id="370000", role="supervisor").clean()
    except ValidationError as error:
        assert "区划" in str(error)
    else:
        raise AssertionError("a provincial post without a region was accepted")


def test_a_started_leg_keeps_its_due_date_in_the_typed_answer():
    case_no = submit_story("multi_place")
    told = story("multi_place")
    ok(Api(told["reviewer"], node=told["node"]).act(case_no, "accept"))
    leg = Api("zhangtao", node=told["node"]).case(case_no)["legs"][0]
    assert leg["started_at"] and leg["due"] and leg["provisional"] is False
