"""The hub's licence directory: every issue and state change reaches it as a signed, answered message
that carries no holder's number, and holders find their licences from every node in their wallet."""

from __future__ import annotations

import json

from django.test import Client

from cases.test_first_use import bride, submitted_marriage
from e2e.test_protocol_schemas import _check
from tongban.exchange.models import Exchange, OutboxMessage
from tongban.exchange.outbox import envelope_of
from tongban.licences.directory import holder_key, on_licence_indexed
from tongban.licences.models import Licence, LicenceIndexEntry

from .test_issuing import business_licence
from support import Api, dispatch, ok, problem

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


# ------------------------------------------------------------------ verification where the licence is not kept


def kept_elsewhere() -> str:
    """A licence this deployment knows only through the hub's directory, as a node in another province does."""
    _, decision = business_licence()
    dispatch()
    identifier = decision["licences"][0]["identifier"]
    Licence.objects.filter(identifier=identifier).delete()
    return identifier


def test_another_node_verifies_through_the_issuers_signed_report():
    identifier = kept_elsewhere()
    answer = ok(Api("fan", node="230000").get(f"/licenses/{identifier}/verify"))
    assert (answer["result"], answer["source"], answer["stale"]) == ("valid", "directory", False)
    assert (answer["issuer_node"], answer["type"]["name"], answer["holder"]) == ("630000", "营业执照", "")


def test_a_report_altered_at_the_hub_is_forged():
    identifier = kept_elsewhere()
    entry = LicenceIndexEntry.objects.get(node=HUB, identifier=identifier)
    entry.statement["payload"]["valid_until"] = "2099-12-31"
    entry.save()
    answer = ok(Api("fan", node="230000").get(f"/licenses/{identifier}/verify"))
    assert (answer["result"], answer["result_label"]) == ("forged", "伪造或篡改")


def test_the_state_is_cached_for_its_freshness_then_fetched_and_marked_stale_when_unreachable(
    monkeypatch, fixed_clock, settings
):
    from tongban.licences import verification

    identifier = kept_elsewhere()
    heilongjiang = Api("fan", node="230000")
    ok(heilongjiang.get(f"/licenses/{identifier}/verify"))

    def unreachable(_identifier):
        raise verification.DirectoryUnreachable

    monkeypatch.setattr(verification, "fetch_statement", unreachable)
    fresh = ok(heilongjiang.get(f"/licenses/{identifier}/verify"))  # within the freshness: the cache
    assert (fresh["result"], fresh["stale"]) == ("valid", False)
    fixed_clock.advance(seconds=settings.TONGBAN_LICENCE_STATE_FRESHNESS_SECONDS + 1)
    stale = ok(heilongjiang.get(f"/licenses/{identifier}/verify"))
    assert (stale["result"], stale["stale"]) == ("valid", True) and "暂时无法连接国家平台" in stale["reason"]
    # A node that never confirmed it cannot say anything.
    refused = Api("fan", node="140000").get(f"/licenses/{identifier}/verify")
    assert refused.status_code == 503 and refused.json()["code"] == "directory_unreachable"


def test_a_state_change_at_the_issuer_reaches_a_verifier_elsewhere(fixed_clock, settings):
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    dispatch()
    ok(
        Api("qh-shichang-approver", node="630000").post(
            f"/licenses/{identifier}/actions", {"action": "withdraw", "reason": "吊销营业执照"}
        )
    )
    dispatch()
    Licence.objects.filter(identifier=identifier).delete()
    answer = ok(Api("fan", node="230000").get(f"/licenses/{identifier}/verify"))
    assert (answer["result"], answer["result_label"], answer["state"]) == ("withdrawn", "吊销", "07")


def test_the_directory_statement_is_public_and_carries_no_contents():
    from django.test import Client

    identifier = kept_elsewhere()
    answer = Client().get(f"/api/v1/licence-directory/{identifier}")
    assert answer.status_code == 200
    statement = answer.json()["statement"]
    assert statement["type"] == "licence.indexed" and statement["signature"]
    assert "西宁高原" not in json.dumps(statement, ensure_ascii=False)
    assert Client().get("/api/v1/licence-directory/1.2.156.3005.2.X.Y.Z.001.Q").status_code == 422


def test_a_node_whose_trust_list_is_past_its_grace_trusts_no_licence(fixed_clock, settings):
    from tongban.exchange import trust
    from tongban.licences.qr import qr_text, verify_qr

    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    code = qr_text(Licence.objects.get(identifier=identifier))
    settings.TONGBAN_NODE, settings.TONGBAN_TRUST_GRACE_SECONDS = "230000", 600
    trust.invalidate()
    fixed_clock.advance(minutes=11)
    # No login here: a node past its grace cannot check a hub token either (it answers 503).
    anonymous = Client(HTTP_X_TONGBAN_NODE="230000")
    answer = ok(anonymous.get(f"/api/v1/licenses/{identifier}/verify"))
    assert answer["result"] == "untrusted_issuer" and "信任列表" in answer["reason"]
    offline = verify_qr(code)
    assert offline.code == "untrusted_issuer" and "信任列表" in offline.reason
    trust.refreshed()
    assert ok(anonymous.get(f"/api/v1/licenses/{identifier}/verify"))["result"] == "valid"


def test_a_wallet_the_hub_will_not_open_says_so_and_an_unreachable_hub_is_not_a_login_problem(monkeypatch, settings):
    """At a provincial node of a federation the wallet is read at the hub with the caller's token."""
    import io
    import urllib.error
    import urllib.request

    settings.TONGBAN_NODE, settings.TONGBAN_HUB_URL = "230000", "http://127.0.0.1:9"

    def refused(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 401, "Unauthorized", {}, io.BytesIO(b"{}"))

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    problem(Api("fan", node="230000").get("/me/licenses"), 401, "hub_token_required")

    def down(request, timeout):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", down)
    problem(Api("fan", node="230000").get("/me/licenses"), 503, "directory_unreachable")
