"""Every bad input gets a 4xx with a stable code and a Chinese message, and nothing is half-written."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.test import override_settings

from tongban.audit.models import AuditEntry
from tongban.cases.models import Case, CaseAction, CaseMaterial
from tongban.exchange.models import OutboxMessage
from tongban.stories import story

from support import Api, dispatch, ok, problem

ONLINE_FORM = story("online")["request"]["form"]

TABLES = (Case, CaseAction, CaseMaterial, OutboxMessage, AuditEntry)


@contextmanager
def nothing_written():
    before = [model.objects.count() for model in TABLES]
    yield
    assert [model.objects.count() for model in TABLES] == before


def _create(api: Api, **overrides):
    body = story("online")["request"]
    body.update(overrides)
    return api.post("/cases", body)


def test_malformed_json():
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        problem(api.post_raw("/cases", b'{"item_code": "TB-yibao-002",'), 400, "malformed_json")


def test_unknown_item():
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        problem(_create(api, item_code="TB-nope-999"), 404, "item_unknown")


def test_item_not_offered_at_that_node_on_that_date():
    from tongban.catalog.models import Coverage

    # 浙江 stops offering the item from today: the coverage row ends yesterday.
    Coverage.objects.filter(item_id="TB-yibao-002", node_id="330000").update(valid_until=dt.date(2025, 6, 9))
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        problem(_create(api), 422, "item_not_offered")


def test_item_not_in_force_on_that_date(fixed_clock):
    fixed_clock.set(dt.datetime(2021, 6, 1, 9, 0))  # 医保关系转移接续 starts 2021-11-01
    api = Api("zhangtao", node="370000")
    with nothing_written():
        problem(
            api.post("/cases", {"item_code": "TB-yibao-001", "mode": "multi_place", "form": {}}),
            422,
            "item_not_in_force",
        )


def test_mode_not_offered():
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        problem(_create(api, mode="proxy"), 422, "mode_not_offered")


def test_invalid_form_lists_every_problem():
    form = dict(ONLINE_FORM, applicant_id_number="520324197806230537", insured_region="999999", phone="")
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        body = problem(_create(api, form=form), 422, "invalid_form")
    fields = {error["field"] for error in body["errors"]}
    assert {"applicant_id_number", "insured_region", "phone"} <= fields


def test_node_required_for_an_application():
    api = Api("zhengchuilu")
    with nothing_written():
        problem(_create(api), 400, "node_required")


def test_unknown_node_header():
    api = Api("zhengchuilu", node="990000")
    with nothing_written():
        problem(_create(api), 400, "unknown_node")


def _proxy_body(**applicant):
    body = story("proxy")["request"]
    body["applicant"].update(applicant)
    return body


def test_invalid_id_number_at_the_window():
    clerk = Api("hlj-shichang-clerk", node="230000")
    with nothing_written():
        problem(clerk.post("/cases", _proxy_body(id_number="230183197504102028")), 400, "invalid_id_number")


def test_invalid_credit_code_at_the_window():
    clerk = Api("hlj-shichang-clerk", node="230000")
    body = _proxy_body()
    body["enterprise_credit_code"] = "91630100MA7K2Q3H86"
    with nothing_written():
        problem(clerk.post("/cases", body), 400, "invalid_credit_code")


def test_window_must_verify_identity_first():
    clerk = Api("hlj-shichang-clerk", node="230000")
    with nothing_written():
        problem(clerk.post("/cases", _proxy_body(identity_verified=False)), 422, "identity_not_verified")


def test_enterprise_application_needs_an_approved_agency():
    # lina is the agent of a PENDING enterprise: she cannot apply in its name.
    lina = Api("lina", node="630000")
    body = {"item_code": "TB-ziran-002", "mode": "online", "enterprise_credit_code": "91630100MA7L8N5C5L", "form": {}}
    with nothing_written():
        problem(lina.post("/cases", body), 403, "enterprise_not_authorized")


def test_missing_required_materials(online_case):
    case = online_case(submit=False)
    CaseMaterial.objects.filter(case__case_no=case.case_no, material_code="id_card").delete()
    with nothing_written():
        body = problem(case.applicant.act(case.case_no, "submit"), 422, "materials_missing")
    assert body["missing"] == [
        {
            "code": "id_card",
            "name": "居民身份证或社会保障卡",
            "licence_type": "jumin_shenfenzheng",
            "how": "licence_use",
            "path": f"/api/v1/cases/{case.case_no}/licence-uses",
            "note": "将通过共享获取：可授权使用电子证照代替，也可上传材料。",
        }
    ]
    # A material no licence can stand in for is to be uploaded.
    CaseMaterial.objects.filter(case__case_no=case.case_no, material_code="commitment").delete()
    body = problem(case.applicant.act(case.case_no, "submit"), 422, "materials_missing")
    assert [(m["code"], m["how"]) for m in body["missing"]] == [("id_card", "licence_use"), ("commitment", "upload")]


@pytest.mark.parametrize(
    ("filename", "data", "status", "code"),
    [
        ("virus.exe", b"MZ\x90\x00" + b"\x00" * 64, 415, "unsupported_file_type"),
        ("scan.png", b"%PDF-1.4 disguised", 415, "unsupported_file_type"),
        ("empty.pdf", b"", 400, "file_empty"),
    ],
)
def test_wrong_file_type(online_case, filename, data, status, code):
    case = online_case(submit=False)
    with nothing_written():
        problem(case.applicant.upload(case.case_no, "id_card", data, filename), status, code)


@override_settings(TONGBAN_MAX_UPLOAD_BYTES=1024)
def test_oversize_upload(online_case):
    case = online_case(submit=False)
    with nothing_written():
        problem(case.applicant.upload(case.case_no, "id_card", b"%PDF-1.4\n" + b"0" * 2048), 413, "file_too_large")


def test_unknown_material_code(online_case):
    case = online_case(submit=False)
    with nothing_written():
        problem(case.applicant.upload(case.case_no, "passport"), 422, "material_unknown")


def test_action_not_allowed_in_this_state(online_case):
    case = online_case()
    with nothing_written():
        problem(case.approver.act(case.case_no, "decide", outcome="approve"), 409, "action_not_allowed_in_state")


def test_action_not_allowed_for_this_role(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    with nothing_written():
        problem(case.reviewer.act(case.case_no, "decide", outcome="approve"), 403, "action_not_permitted")
        problem(case.applicant.act(case.case_no, "accept"), 403, "action_not_permitted")


def test_unknown_action(online_case):
    case = online_case()
    with nothing_written():
        problem(case.reviewer.act(case.case_no, "approve_everything"), 422, "action_unknown")


def test_someone_elses_case_is_not_found(online_case):
    case = online_case()
    others = [Api("wangjie", node="330000"), Api("zhangtao"), Api("sd-renshe-reviewer", node="370000")]
    with nothing_written():
        for other in others:  # another citizen, and a reviewer of another department and node
            problem(other.get(f"/cases/{case.case_no}"), 404, "case_not_found")


def test_malformed_case_number():
    problem(Api("zhengchuilu", node="330000").get("/cases/33000020250609000001X"), 404, "case_not_found")


def test_unauthenticated():
    from django.test import Client

    problem(Client().get("/api/v1/cases"), 401, "unauthenticated")


def test_decision_needs_reasons_when_denying(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "accept"))
    ok(case.reviewer.act(case.case_no, "start_review"))
    with nothing_written():
        problem(case.approver.act(case.case_no, "decide", outcome="deny"), 422, "reasons_required")
        problem(case.approver.act(case.case_no, "decide", outcome="maybe"), 422, "outcome_invalid")
    denied = ok(
        case.approver.act(
            case.case_no, "decide", reason="不符合备案条件", outcome="deny", legal_basis="医保发〔2022〕22号"
        )
    )
    assert "行政复议" in denied["timeline"][-1]["data"]["remedy"]
    dispatch()


def test_correction_is_completed_only_by_supplements(online_case):
    case = online_case()
    ok(case.reviewer.act(case.case_no, "request_correction", missing=[{"code": "id_card", "note": "不清晰"}]))
    dispatch()
    with nothing_written():
        problem(case.applicant.act(case.case_no, "complete_correction"), 422, "use_supplements")


def test_facts_cannot_override_the_checked_form():
    api = Api("zhengchuilu", node="330000")
    with nothing_written():
        body = problem(_create(api, facts={"insured_region": "999999", "owner": "x"}), 422, "invalid_facts")
    assert {e["field"] for e in body["errors"]} == {"insured_region", "owner"}
    created = ok(_create(api, facts={"insured_region": "110105"}), 201)
    assert created["jurisdiction"]["owner"]["node"] == "520000"  # the form's 520324 wins


def test_window_cannot_link_a_case_to_someone_elses_account():
    clerk = Api("hlj-shichang-clerk", node="230000")
    with nothing_written():
        problem(clerk.post("/cases", _proxy_body(username="zhangtao")), 422, "applicant_account_mismatch")


def test_negative_offset_is_treated_as_zero(online_case):
    case = online_case()
    listed = ok(case.applicant.get("/cases", offset=-1))
    assert listed["offset"] == 0 and listed["total"] == 1


def test_unknown_api_path_is_a_problem():
    problem(Api("zhengchuilu").get("/no-such-endpoint"), 404, "not_found")
