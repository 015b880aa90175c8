"""The hub's licence directory: every issue and state change reaches it as a signed, answered message
that carries no holder's number, and holders find their licences from every node in their wallet."""

from __future__ import annotations

import json

from cases.test_first_use import bride, submitted_marriage
from e2e.test_protocol_schemas import _check
from tongban.exchange.models import Exchange, OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.licences.directory import holder_key, on_licence_indexed
from tongban.licences.models import Licence, LicenceIndexEntry

from .test_issuing import business_licence
from support import Api, dispatch, ok

HUB = "000000"


def test_an_issued_licence_is_indexed_at_the_hub_by_holder_key_only():
    _, decision = business_licence()
    dispatch()
    identifier = decision["licences"][0]["identifier"]
    entry = LicenceIndexEntry.objects.get(node=HUB, identifier=identifier)
    code = decision["established"]["credit_code"]
    assert (entry.issuer_node, entry.state, entry.licence_type) == ("630000", "01", "yingye_zhizhao")
    assert [h.holder_key for h in entry.holders.all()] == [holder_key(code)]
    [sent] = OutboxMessage.objects.filter(type="licence.indexed")
    _check(envelope_of(sent).to_dict())
    carried = json.dumps(sent.payload, ensure_ascii=False)
    assert code not in carried and "西宁高原" not in carried and "樊" not in carried
    # An answered exchange: the issuing node knows the hub has it.
    assert Exchange.objects.get(message_id=sent.message_id).state == "answered"


def test_every_state_change_reaches_the_hub_and_an_older_report_never_wins():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    issuer = Api("qh-shichang-approver", node="630000")
    ok(issuer.post(f"/licenses/{identifier}/actions", {"action": "suspend", "reason": "立案调查"}))
    dispatch()
    assert LicenceIndexEntry.objects.get(node=HUB, identifier=identifier).state == "02"
    first, _ = OutboxMessage.objects.filter(type="licence.indexed").order_by("created_at", "id")
    on_licence_indexed(envelope_of(first))  # the issue report, arriving again late
    assert LicenceIndexEntry.objects.get(node=HUB, identifier=identifier).state == "02"


def test_only_the_issuing_node_speaks_for_a_licence():
    _, decision = business_licence()
    dispatch()
    identifier = decision["licences"][0]["identifier"]
    [sent] = OutboxMessage.objects.filter(type="licence.indexed")
    forged = envelope_of(sent)
    forged = type(forged)(**{**forged.__dict__, "from_node": "230000", "payload": {**sent.payload, "state": "03"}})
    on_licence_indexed(forged)
    assert LicenceIndexEntry.objects.get(node=HUB, identifier=identifier).state == "01"


def test_both_parties_find_their_marriage_licence_in_their_wallets_at_any_node():
    bride()
    _, case_no = submitted_marriage()
    reviewer = Api("js-minzheng-reviewer", node="320000")
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    ok(Api("js-minzheng-approver", node="320000").act(case_no, "decide", outcome="approve"))
    dispatch()
    identifier = Licence.objects.get(case_no=case_no).identifier
    for username, node in (("wangjie", "140000"), ("liuyan", "350000")):
        items = ok(Api(username, node=node).get("/me/licenses"))["items"]
        assert [(i["identifier"], i["type"]["name"], i["state_label"]) for i in items] == [
            (identifier, "结婚证", "有效")
        ]
        whole = ok(Api(username, node=node).get(f"/me/licenses/{identifier}"))
        assert whole["data"]["KZ_NVXM"] == "刘燕"
    assert ok(Api("zhangtao", node="370000").get("/me/licenses"))["items"] == []


def test_an_agent_sees_the_enterprises_licences():
    _, decision = business_licence()
    dispatch()
    items = ok(Api("fan", node="230000").get("/me/licenses"))["items"]
    assert decision["licences"][0]["identifier"] in [i["identifier"] for i in items]
