"""The whole licence in the holder's wallet at a node that does not keep it: read from the issuing node
at the address the trust list publishes, with the caller's own token, and shown only if the issuer's
key signed it."""

from __future__ import annotations

import copy
import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tongban.errors import DomainError
from tongban.exchange import trust
from tongban.licences.models import Licence, LicenceIndexEntry

from .test_issuing import business_licence
from support import Api, dispatch, ok, problem

ISSUER = "http://qinghai.example"
HUB_URL = "http://hub.example"


class Answer(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kept_at_the_issuer() -> tuple[str, dict[str, Any]]:
    """樊女士's 营业执照 as 青海 answers for it; then this deployment forgets it, like a node elsewhere."""
    _, decision = business_licence()
    dispatch()
    identifier = decision["licences"][0]["identifier"]
    answer = ok(Api("fan", node="630000").get(f"/me/licenses/{identifier}"))
    Licence.objects.filter(identifier=identifier).delete()
    return identifier, answer


@pytest.fixture
def elsewhere(settings, monkeypatch):
    """A 黑龙江 node of a federation whose hub and 青海 node answer over HTTP (here: from memory)."""
    identifier, answer = _kept_at_the_issuer()
    trust.set_address("630000", ISSUER + "/")
    settings.TONGBAN_NODE, settings.TONGBAN_HUB_URL = "230000", HUB_URL
    asked: list[urllib.request.Request] = []
    world: dict[str, Any] = {"answer": answer, "status": 200}

    def urlopen(request, timeout):
        url = request if isinstance(request, str) else request.full_url
        if url.startswith(f"{HUB_URL}/api/v1/licence-directory/"):
            entry = LicenceIndexEntry.objects.filter(node="000000", identifier=url.rsplit("/", 1)[1]).first()
            if entry is None:
                raise urllib.error.HTTPError(url, 404, "not found", {}, io.BytesIO(b"{}"))
            return Answer(json.dumps({"statement": entry.statement}).encode())
        asked.append(request)
        if world["status"] == "down":
            raise urllib.error.URLError("connection refused")
        if world["status"] != 200:
            raise urllib.error.HTTPError(url, world["status"], "refused", {}, io.BytesIO(b"{}"))
        return Answer(json.dumps(world["answer"], ensure_ascii=False).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return identifier, world, asked


def test_the_holder_reads_the_whole_licence_from_its_issuer_with_their_own_token(elsewhere):
    identifier, world, asked = elsewhere
    api = Api("fan", node="230000")
    whole = ok(api.get(f"/me/licenses/{identifier}"))
    assert whole == world["answer"]
    assert whole["data"]["ZZBFJG"] and whole["issuer"]["node"] == "630000"
    [request] = asked
    assert request.full_url == f"{ISSUER}/api/v1/me/licenses/{identifier}"
    assert request.get_header("Authorization") == f"Bearer {api.token}"


@pytest.mark.parametrize(
    "alter",
    [
        lambda a: a["data"].update(ZZBFJG="某伪造机关"),
        lambda a: a["holders"][0].update(name="他人"),
        lambda a: a.update(valid_until="2099-12-31"),
        lambda a: a.update(signature=a["signature"][:-8] + "AAAAAAA="),
        lambda a: a.update(identifier=a["identifier"][:-1] + "0"),
        lambda a: a.pop("key_id"),
    ],
)
def test_an_answer_the_issuers_key_did_not_sign_is_refused(elsewhere, alter):
    identifier, world, _ = elsewhere
    world["answer"] = copy.deepcopy(world["answer"])
    alter(world["answer"])
    problem(Api("fan", node="230000").get(f"/me/licenses/{identifier}"), 502, "issuer_answer_invalid")


def test_the_issuers_refusals_and_silence_are_told_apart(elsewhere):
    identifier, world, _ = elsewhere
    api = Api("fan", node="230000")
    world["status"] = 404  # not this caller's licence, in the issuer's judgement
    problem(api.get(f"/me/licenses/{identifier}"), 404, "licence_not_found")
    world["status"] = 401
    problem(api.get(f"/me/licenses/{identifier}"), 401, "hub_token_required")
    world["status"] = 500
    problem(api.get(f"/me/licenses/{identifier}"), 503, "issuer_unreachable")
    world["status"] = "down"
    body = problem(api.get(f"/me/licenses/{identifier}"), 503, "issuer_unreachable")
    assert "青海" in body["detail"]


def test_an_issuer_without_a_published_address_is_unreachable(elsewhere):
    from tongban.exchange.models import NodeAddress

    identifier, _, asked = elsewhere
    NodeAddress.objects.all().delete()
    trust.publish()
    problem(Api("fan", node="230000").get(f"/me/licenses/{identifier}"), 503, "issuer_unreachable")
    assert asked == []


def test_a_licence_unknown_to_the_directory_is_not_found_and_a_malformed_one_is_refused(elsewhere):
    api = Api("fan", node="230000")
    identifier, _, asked = elsewhere
    LicenceIndexEntry.objects.filter(identifier=identifier).delete()
    problem(api.get(f"/me/licenses/{identifier}"), 404, "licence_not_found")
    problem(api.get("/me/licenses/1.2.156.3005.2.X.Y.Z.001.Q"), 422, "invalid_licence_identifier")
    assert asked == []


def test_node_addresses_travel_in_the_signed_trust_list():
    trust.signing_key("320000")  # the embedded default makes the hub's key and the node's on first use
    trust.set_address("320000", "https://tongban.jiangsu.example/")
    signed = trust.export_signed()
    assert signed["document"]["addresses"]["320000"] == "https://tongban.jiangsu.example"
    assert trust.node_address("320000") == "https://tongban.jiangsu.example"
    forged = copy.deepcopy(signed)
    forged["document"]["addresses"]["320000"] = "https://attacker.example"
    with pytest.raises(DomainError) as refused:
        trust.import_signed(forged)
    assert refused.value.code == "trust_list_invalid"


@pytest.mark.parametrize("url", ["ftp://x.example", "tongban.example", "https://x.example/?a=1", "https://"])
def test_a_node_address_must_be_a_root_url(url):
    with pytest.raises(DomainError) as refused:
        trust.set_address("320000", url)
    assert refused.value.code == "node_address_invalid"
