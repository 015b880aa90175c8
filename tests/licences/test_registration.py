"""存量证照归集: a licence its department issued outside the platform enters the node's library — by
that department's staff only, checked whole, signed, indexed — or is refused with nothing written."""

from __future__ import annotations

import pytest

from cases.test_bad_input import nothing_written
from tongban.audit.models import AuditEntry
from tongban.exchange.models import OutboxMessage
from tongban.licences.models import Licence, LicenceIndexEntry

from .test_sharing import BAODING_APPROVER, CERTIFICATE_NO, ZHAOYU_ID, register_certificate
from support import Api, ok, problem

BASE = {
    "licence_type": "budongchan_quanzheng",
    "number": "冀（2023）保定市不动产权第0000001号",
    "issued_on": "2023-03-01",
    "holders": [{"name": "赵宇", "id_number": ZHAOYU_ID}],
    "fields": {"KZ_BDCDYH": "130602001001GB00012F00010101", "KZ_ZL": "保定市竞秀区", "KZ_QLLX": "房屋所有权"},
}


def test_a_registered_licence_is_signed_indexed_and_verifies_like_an_issued_one():
    identifier = register_certificate()
    licence = Licence.objects.get(identifier=identifier)
    assert (licence.node, licence.number, licence.issuer_name) == ("130000", CERTIFICATE_NO, "保定市自然资源局")
    assert licence.data["ZZBFRQ"] == "2024-11-20" and licence.data["ZZYXQJZRQ"] == "长期"
    assert licence.events.get().reason.startswith("存量证照归集")
    assert LicenceIndexEntry.objects.filter(identifier=identifier, issuer_node="130000").exists()
    checked = ok(Api("zhaoyu", node="110000").get(f"/licenses/{identifier}/verify"))
    assert (checked["result"], checked["source"]) == ("valid", "issuer")
    wallet = ok(Api("zhaoyu", node="110000").get("/me/licenses"))["items"]
    assert [entry["identifier"] for entry in wallet] == [identifier]
    assert AuditEntry.objects.filter(code="tongban.licence.registered", object_id=identifier).exists()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"licence_type": "no_such_type"}, 422, "licence_type_unknown"),
        ({"number": " "}, 422, "licence_number_required"),
        ({"number": "号" * 65}, 422, "licence_number_too_long"),
        ({"holders": []}, 422, "licence_holder_required"),
        ({"holders": [{"name": "赵宇", "id_number": "130602199603211234"}]}, 400, "invalid_id_number"),
        ({"holders": [{"name": " ", "id_number": ZHAOYU_ID}]}, 422, "licence_holder_invalid"),
        (
            {"holders": [BASE["holders"][0], {"name": "李娜", "id_number": "370102198805163025"}]},
            422,
            "licence_holders_too_many",
        ),
        ({"issued_on": "2025-06-10"}, 422, "licence_dates_invalid"),
        ({"valid_from": "2023-03-01", "valid_until": "2023-02-01"}, 422, "licence_dates_invalid"),
        ({"valid_until": "2024-12-31"}, 422, "licence_already_expired"),
        ({"fields": {"KZ_ZL": "保定市竞秀区", "KZ_QLLX": "房屋所有权"}}, 422, "licence_field_missing"),
        ({"fields": {**BASE["fields"], "KZ_XX": "?"}}, 422, "licence_field_unknown"),
        ({"fields": {**BASE["fields"], "KZ_YT": "长" * 501}}, 422, "licence_field_too_long"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(change, status, code):
    approver = Api(BAODING_APPROVER, node="130000")
    approver.login()
    with nothing_written():
        problem(approver.post("/licenses", {**BASE, **change}), status, code)


def test_only_the_competent_department_registers_and_only_once():
    body = dict(BASE)
    for who, node in (("zhaoyu", "130000"), ("qh-shichang-approver", "630000")):
        problem(Api(who, node=node).post("/licenses", body), 403, "licence_registration_not_permitted")
        assert not Licence.objects.exists() and not OutboxMessage.objects.exists()
    ok(Api("130000-ziran-130600-reviewer", node="130000").post("/licenses", body), 201)
    approver = Api(BAODING_APPROVER, node="130000")
    approver.login()
    with nothing_written():
        problem(approver.post("/licenses", body), 409, "licence_already_registered")
