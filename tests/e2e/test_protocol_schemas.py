"""Every message the platform sends matches the versioned JSON schemas published in
docs/protocol-schemas/, and so does the golden example another vendor's node can test against."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tongban.exchange.models import OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.stories import story

from support import Api, dispatch, ok

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "protocol-schemas"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "protocol-examples"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _check(envelope: dict) -> None:
    jsonschema.validate(envelope, _schema("envelope"), format_checker=jsonschema.FormatChecker())
    jsonschema.validate(envelope["payload"], _schema(envelope["type"]), format_checker=jsonschema.FormatChecker())


def test_every_message_of_the_three_modes_matches_its_schema():
    for mode in ("online", "proxy", "multi_place"):
        told = story(mode)
        submitter = Api(told["user"], node=told["node"])
        case_no = ok(submitter.post("/cases", told["request"]), 201)["case_no"]
        for code in told["materials"]:
            ok(submitter.upload(case_no, code), 201)
        ok(submitter.act(case_no, "submit"))
        dispatch()
    applicant = Api("zhengchuilu", node="330000")
    online_case = OutboxMessage.objects.filter(type="case.created", from_node="330000").first().case_no
    assert applicant.act(online_case, "withdraw", reason="不办了").status_code == 202
    dispatch()
    sent = list(OutboxMessage.objects.all())
    assert {m.type for m in sent} >= {"case.created", "case.action", "case.request", "case.summary", "exchange.answer"}
    for message in sent:
        _check(envelope_of(message).to_dict())


def test_the_golden_example_matches_its_schema():
    example = json.loads((EXAMPLES / "case.action.json").read_text(encoding="utf-8"))
    _check(example["envelope"])


def test_a_message_off_the_schema_is_caught():
    example = json.loads((EXAMPLES / "case.action.json").read_text(encoding="utf-8"))["envelope"]
    example["payload"]["action"]["seq"] = 0
    with pytest.raises(jsonschema.ValidationError):
        _check(example)
