"""Every exchange ends: answered, refused with a listed code, or timed out — and a timeout can be retried."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.cases.sweep import sweep
from tongban.exchange import dispatcher
from tongban.exchange.models import Exchange
from tongban.stories import story

from support import Api, dispatch, ok, problem


@pytest.fixture(autouse=True)
def _content(content, fixed_clock, db):
    return fixed_clock


class _ReceiverDown:
    def deliver(self, envelope):
        raise ConnectionError("receiver unreachable")


def _submitted_online() -> tuple[Api, str]:
    applicant = Api("zhengchuilu", node="330000")
    told = story("online")
    case_no = ok(applicant.post("/cases", told["request"]), 201)["case_no"]
    for code in told["materials"]:
        ok(applicant.upload(case_no, code), 201)
    ok(applicant.act(case_no, "submit"))
    return applicant, case_no


def test_the_receiver_answers_and_the_exchange_ends():
    applicant, case_no = _submitted_online()
    exchange = Exchange.objects.get(case_no=case_no)
    assert (exchange.type, exchange.state, exchange.to_node) == ("case.created", "pending", "520000")
    dispatch()
    exchange.refresh_from_db()
    assert exchange.state == "answered" and exchange.ended_at is not None
    assert applicant.case(case_no)["exchanges"][0]["state_label"] == "已答复"


def test_a_receiver_down_past_the_deadline_times_out_and_can_be_retried(fixed_clock):
    applicant, case_no = _submitted_online()
    previous = dispatcher.set_transport(_ReceiverDown())
    try:
        dispatcher.run_until_idle()
        fixed_clock.advance(minutes=11)
        assert sweep().timed_out == 1
    finally:
        dispatcher.set_transport(previous)
    seen = applicant.case(case_no)
    assert seen["exchanges"][0]["state"] == "timed_out"
    assert seen["notices"][-1]["code"] == "timeout"
    exchange_id = seen["exchanges"][0]["message_id"]
    retried = ok(applicant.post(f"/cases/{case_no}/exchanges/{exchange_id}/retry"))
    assert retried["exchanges"][0]["state"] == "pending" and retried["exchanges"][0]["attempts"] == 2
    dispatch()
    assert applicant.case(case_no)["exchanges"][0]["state"] == "answered"
    problem(applicant.post(f"/cases/{case_no}/exchanges/{exchange_id}/retry"), 409, "exchange_not_retryable")
    problem(applicant.post(f"/cases/{case_no}/exchanges/not-a-uuid/retry"), 404, "exchange_not_found")


def test_a_refused_request_ends_its_exchange_with_the_code(fixed_clock):
    applicant, case_no = _submitted_online()
    dispatch()
    owner = Api("gz-yibao-reviewer", node="520000")
    assert applicant.act(case_no, "withdraw", reason="改在参保地办理").status_code == 202
    ok(owner.act(case_no, "refuse", reason="不属于本部门"))
    dispatch()
    request = Exchange.objects.get(case_no=case_no, type="case.request")
    assert (request.state, request.error_code) == ("failed", "action_not_allowed_in_state")
    assert fixed_clock.now() - request.created_at < dt.timedelta(minutes=1)
