"""One identity across separate nodes, in one test database: the hub's signed answer to a node's signed
facts request, the facts it pushes when an account changes, and a node building and refreshing its
replica from them. (tests/services/test_federation.py proves the same across separate processes.)"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.db import transaction
from django.test import Client

from tongban.errors import DomainError
from tongban.exchange import trust
from tongban.exchange.envelope import Envelope
from tongban.exchange.models import OutboxMessage
from tongban.identity import facts
from tongban.identity.models import Account, AccountReplica, Enterprise, RealNameLevel, StaffBinding, StaffRole
from tongban.identity.tokens import issue_token, revoke_tokens, verify_token
from tongban.licences.directory import holder_key

from .factories import APPROVED_CODE

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "protocol-schemas"
ID_NUMBER = "110105196203152013"
HUB_URL = "http://hub.test"


def _schema_check(envelope: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / f"{envelope['type']}.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(envelope["payload"], schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def hub(fixed_clock, settings, make_account, bind, geo, make_enterprise):
    """The hub of a federation holding 张涛, a reviewer in 济南 and the agent of an approved enterprise."""
    settings.TONGBAN_NODE = ""
    for node in ("000000", "370000", "330000"):
        trust.signing_key(node)  # the embedded default makes keys on first use; the list is then published
    settings.TONGBAN_NODE = "000000"
    account = make_account("zhangtao", display_name="张涛", id_number=ID_NUMBER, phone="13700003456")
    bind(account, "370000", StaffRole.REVIEWER, department=geo["sd_renshe"])
    bind(account, "330000", StaffRole.WINDOW_CLERK, region="330000")
    make_enterprise(APPROVED_CODE, status=Enterprise.Status.APPROVED, agent=account)
    return account


def _request(payload: dict[str, Any], node: str = "370000") -> dict[str, Any]:
    return trust.sign_envelope(facts._envelope(facts.FACTS_REQUEST, node, "000000", payload)).to_dict()


def _answer_for(token: str, node: str = "370000") -> dict[str, Any]:
    return facts.answer_request(_request({"token": token}, node))


def test_the_hub_answers_a_nodes_signed_request_with_signed_minimal_facts(hub):
    answer = _answer_for(issue_token(hub).token)
    envelope = Envelope.from_dict(answer)
    assert (envelope.type, envelope.from_node, envelope.to_node) == ("account.facts", "000000", "370000")
    assert trust.verify_envelope(envelope, "370000") is None
    _schema_check(answer)
    told = envelope.payload
    assert told["person"] == {"name": "张涛", "id_number": ID_NUMBER}
    assert told["id_number_hash"] == holder_key(ID_NUMBER)
    # Only the posts at the asking node: the 浙江 window post is not 济南's business.
    assert told["staff_bindings"] == [
        {
            "region": "370100",
            "department": {"region": "370100", "function": "renshe"},
            "role": "reviewer",
            "is_cross_province_window": False,
            "active": True,
        }
    ]
    assert [e["credit_code"] for e in told["enterprises"]] == [APPROVED_CODE]
    assert "13700003456" not in json.dumps(answer) and "password" not in json.dumps(answer)
    assert AccountReplica.objects.filter(account=hub, node="370000").exists()


def test_a_revoked_token_gets_the_facts_but_not_the_person(hub):
    token = issue_token(hub).token
    revoke_tokens(hub)
    told = _answer_for(token)["payload"]
    assert told["person"] is None and told["token_version"] == hub.token_version


def _refusal(body: Any) -> tuple[int, str]:
    response = Client().post(facts.PATH, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()["code"]


def test_requests_the_hub_refuses(hub, fixed_clock):
    token = issue_token(hub).token
    tampered = _request({"token": token})
    tampered["payload"]["token"] = issue_token(hub).token
    assert _refusal(tampered) == (403, "bad_signature")
    assert _refusal(_request({"token": issue_token(hub, ["330000"]).token})) == (403, "token_wrong_audience")
    assert _refusal(_request({"token": "garbage"})) == (401, "token_invalid")
    assert _refusal({"type": "account.facts_request"}) == (400, "invalid_facts_request")
    assert _refusal(_request({"token": token, "username": "x", "id_number_hash": "y", "clerk": "z"}))[1] == (
        "invalid_facts_request"
    )
    old = _request({"token": token})
    fixed_clock.advance(minutes=6)
    assert _refusal(old) == (403, "replayed")
    assert not AccountReplica.objects.exists()


def test_a_window_links_a_walk_in_account_only_with_the_number_on_the_card(hub, make_account):
    clerk = make_account("zj-clerk")
    StaffBinding.objects.create(account=clerk, node_id="330000", region_id="330000", role=StaffRole.WINDOW_CLERK)
    asked = {"username": "zhangtao", "id_number_hash": holder_key(ID_NUMBER), "clerk": "zj-clerk"}
    told = facts.answer_request(_request(asked, "330000"))["payload"]
    assert told["person"] is None and told["id_number_hash"] == holder_key(ID_NUMBER)
    wrong = {**asked, "id_number_hash": holder_key("11010519491231002X")}
    assert _refusal(_request(wrong, "330000")) == (422, "applicant_account_mismatch")
    assert _refusal(_request(asked, "370000")) == (403, "window_clerk_required")  # not a clerk of 山东


def test_every_change_is_pushed_to_the_nodes_holding_a_replica_and_no_others(hub, make_account):
    _answer_for(issue_token(hub).token)
    other = make_account("someone-else")
    with transaction.atomic():
        other.set_password("another-password-2026")
        other.save()
    assert not OutboxMessage.objects.filter(type="account.facts").exists()

    def pushed() -> list[dict[str, Any]]:
        return [m.payload for m in OutboxMessage.objects.filter(type="account.facts").order_by("id")]

    with transaction.atomic():
        hub.set_password("a-new-password-2026")
        hub.save()
    [changed] = pushed()
    assert changed["token_version"] == 1 and changed["person"] is None
    with transaction.atomic():
        revoke_tokens(hub)
    assert pushed()[-1]["token_version"] == 2
    StaffBinding.objects.filter(account=hub, node_id="370000").update(active=False)
    binding = StaffBinding.objects.get(account=hub, node_id="370000")
    binding.save()
    assert pushed()[-1]["staff_bindings"][0]["active"] is False
    Enterprise.objects.get(credit_code=APPROVED_CODE).save()
    assert len(pushed()) == 4
    for message in OutboxMessage.objects.filter(type="account.facts"):
        assert message.to_node == "370000"
        _schema_check({"type": message.type, "payload": message.payload})


class _Answer(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def node(hub, settings, monkeypatch):
    """济南's node, whose hub answers from what it said before the account left this test database."""
    token = issue_token(hub).token
    answer = _answer_for(token)
    settings.TONGBAN_NODE, settings.TONGBAN_HUB_URL = "370000", HUB_URL
    # From here the database plays the node's, which has never seen the account.
    Enterprise.objects.update(registered_by=None)
    Account.objects.filter(pk=hub.pk).delete()
    world: dict[str, Any] = {"answer": answer, "asked": []}

    def urlopen(request, timeout):
        body = json.loads(request.data)
        world["asked"].append(body)
        if world["answer"] == "down":
            raise urllib.error.URLError("connection refused")
        return _Answer(json.dumps(world["answer"], ensure_ascii=False).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return token, world


def test_a_node_builds_the_replica_on_the_first_request_and_asks_again_when_it_is_old(node, fixed_clock, settings):
    token, world = node
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200, me.content
    body = me.json()
    assert (body["name"], body["node"], body["roles"]) == ("张涛", "370000", ["reviewer"])
    assert [e["credit_code"] for e in body["enterprises"]] == [APPROVED_CODE]
    [asked] = world["asked"]
    request = Envelope.from_dict(asked)
    assert (request.type, request.from_node, request.payload) == ("account.facts_request", "370000", {"token": token})
    replica = Account.objects.get(username="zhangtao")
    assert replica.home_node == "000000" and not replica.has_usable_password() and replica.id_number == ID_NUMBER
    Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(world["asked"]) == 1  # fresh: no second question
    fixed_clock.advance(seconds=settings.TONGBAN_ACCOUNT_FACTS_MAX_AGE_SECONDS + 1)
    world["answer"] = _refreshed(world["answer"], fixed_clock)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert len(world["asked"]) == 2


def _refreshed(answer: dict[str, Any], clock) -> dict[str, Any]:
    """The hub's answer again, signed now (as the hub would answer the second question)."""
    envelope = Envelope.from_dict(answer)
    payload = {**envelope.payload, "facts_at": clock.now().isoformat()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.TONGBAN_NODE", "000000")
        return trust.sign_envelope(facts._envelope(facts.FACTS, "000000", "370000", payload)).to_dict()


def test_a_hub_that_cannot_be_reached_is_a_clear_503_with_retry_after(node):
    token, world = node
    world["answer"] = "down"
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503 and response.json()["code"] == "hub_unreachable"
    assert response["Retry-After"] == "5"
    assert not Account.objects.filter(username="zhangtao").exists()


def test_an_answer_the_hub_did_not_sign_builds_nothing(node):
    token, world = node
    forged = dict(world["answer"])
    forged["payload"] = {**forged["payload"], "real_name_level": RealNameLevel.IN_PERSON}
    world["answer"] = forged
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 503
    assert not Account.objects.filter(username="zhangtao").exists()


def test_pushed_revocations_and_disabling_take_effect_at_the_node(node, fixed_clock):
    token, world = node
    verify_token(token)
    told = dict(Envelope.from_dict(world["answer"]).payload)
    later = {**told, "person": None, "facts_at": fixed_clock.now().isoformat()}
    fixed_clock.advance(seconds=1)
    with transaction.atomic():
        facts.apply_facts(
            {**later, "token_version": told["token_version"] + 1, "facts_at": fixed_clock.now().isoformat()}
        )
    with pytest.raises(DomainError) as caught:
        verify_token(token)
    assert caught.value.code == "token_revoked"
    replica = Account.objects.get(username="zhangtao")
    assert replica.id_number == ID_NUMBER  # a push without the person keeps what the pull gave
    # A push older than what the node holds changes nothing.
    with transaction.atomic():
        facts.apply_facts(later)
    assert Account.objects.get(username="zhangtao").token_version == told["token_version"] + 1
    fixed_clock.advance(seconds=1)
    with transaction.atomic():
        facts.apply_facts({**later, "active": False, "facts_at": fixed_clock.now().isoformat()})
    assert not Account.objects.get(username="zhangtao").is_active


def test_a_hub_token_never_reaches_a_nodes_own_account(node, make_account):
    token, world = node
    make_account("zhangtao")  # the node's own account of that name (its administrator, say)
    with pytest.raises(DomainError) as caught:
        verify_token(token)
    assert caught.value.code == "token_invalid"
    with transaction.atomic():
        assert facts.apply_facts(Envelope.from_dict(world["answer"]).payload) is None
    assert Account.objects.get(username="zhangtao").home_node == ""


def test_login_and_registration_happen_at_the_hub(node):
    response = Client().post(
        "/api/v1/auth/token",
        data=json.dumps({"username": "zhangtao", "password": "x"}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (421, "use_the_hub")
    assert response.json()["hub_url"] == HUB_URL


def test_a_replica_a_window_built_gets_the_name_and_number_with_the_persons_own_token(node):
    token, world = node
    told = Envelope.from_dict(world["answer"]).payload
    with transaction.atomic():
        facts.apply_facts({**told, "person": None})  # as the hub answers a window
    assert Account.objects.get(username="zhangtao").id_number == ""
    assert verify_token(token).id_number == ID_NUMBER
    assert len(world["asked"]) == 1
