"""用证授权 across provinces: 赵宇 pays into the housing fund in 北京 and bought a flat in 保定; his
不动产权证书, registered into 河北's licence library, stands in for the paper in a withdrawal at the
北京 node — asked through the hub, previewed by 河北, released signed only after his consent, and
logged at 河北 where he sees it."""

from __future__ import annotations

import io
import uuid

import jsonschema
from pypdf import PdfReader

from e2e.test_protocol_schemas import _check
from tongban import clock
from tongban.cases.sweep import sweep
from tongban.exchange.envelope import Envelope
from tongban.exchange.models import OutboxMessage
from tongban.licences import sharing
from tongban.licences.models import Licence, LicenceUse

from support import Api, dispatch, ok, problem

FUND = "TB-gongjijin-002"
ZHAOYU_ID = "130602199603211233"
BAODING_APPROVER = "hb-ziran-approver"
UPLOADED = ("id_card", "purchase_contract", "payment_proof")
CERTIFICATE_NO = "冀（2024）保定市不动产权第0012345号"


def register_certificate(holder: str = "赵宇", id_number: str = ZHAOYU_ID, number: str = CERTIFICATE_NO) -> str:
    """保定's registration office enters the certificate into 河北's licence library."""
    body = {
        "licence_type": "budongchan_quanzheng",
        "number": number,
        "issued_on": "2024-11-20",
        "holders": [{"name": holder, "id_number": id_number}],
        "fields": {
            "KZ_BDCDYH": "130602001001GB00012F00010203",
            "KZ_ZL": "保定市竞秀区朝阳南大街 88 号 3 栋 2 单元 1203",
            "KZ_QLLX": "国有建设用地使用权/房屋所有权",
            "KZ_YT": "住宅",
            "KZ_MJ": "89.36 平方米",
        },
    }
    licence = ok(Api(BAODING_APPROVER, node="130000").post("/licenses", body), 201)
    dispatch()  # the hub's directory learns of it
    return licence["identifier"]


def fund_case(user: Api, *, name: str = "赵宇", id_number: str = ZHAOYU_ID) -> str:
    form = {
        "applicant_name": name,
        "applicant_id_number": id_number,
        "phone": "13900000106",
        "fund_region": "110105",
        "property_region": "130602",
        "purchase_kind": "新建商品房",
        "has_property_certificate": True,
        "bank_account": "6222020200112233445",
    }
    body = {"item_code": FUND, "mode": "online", "form": form}
    case_no = ok(user.post("/cases", body), 201)["case_no"]
    for code in UPLOADED:
        ok(user.upload(case_no, code), 201)
    return case_no


def ask(user: Api, case_no: str, **body) -> dict:
    return user.post(f"/cases/{case_no}/licence-uses", {"material_code": "property_certificate", **body})


def consent(user: Api, case_no: str, use_id: int, accept: bool = True):
    return user.post(f"/cases/{case_no}/licence-uses/{use_id}/consent", {"accept": accept})


def uses(user: Api, case_no: str) -> list[dict]:
    return ok(user.get(f"/cases/{case_no}/licence-uses"))["items"]


def previewed() -> tuple[str, Api, str, dict]:
    """赵宇 asks at 北京 for the certificate 河北 registered, and 河北's preview has arrived."""
    identifier = register_certificate()
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    ok(ask(zhaoyu, case_no, cause="提取公积金"), 201)
    dispatch()
    [shown] = uses(zhaoyu, case_no)
    return identifier, zhaoyu, case_no, shown


def test_the_housing_fund_uses_the_property_certificate_of_another_province():
    identifier = register_certificate()
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    [missing] = problem(zhaoyu.act(case_no, "submit"), 422, "materials_missing")["missing"]
    assert (missing["code"], missing["how"]) == ("property_certificate", "licence_use")

    asked = ok(ask(zhaoyu, case_no, cause="提取住房公积金，证明在保定购房"), 201)
    assert (asked["status"], asked["preview"]) == ("requested", [])
    problem(consent(zhaoyu, case_no, asked["id"]), 409, "licence_use_not_ready")
    dispatch()  # 北京 → hub → 河北 → 北京: the issuing node's preview
    [shown] = uses(zhaoyu, case_no)
    assert (shown["status"], shown["identifier"], shown["issuer_node"]) == ("awaiting_consent", identifier, "130000")
    preview = {field["label"]: field["value"] for field in shown["preview"]}
    assert preview["证照编号"] == CERTIFICATE_NO and preview["坐落"].startswith("保定市竞秀区")
    assert not Licence.objects.filter(identifier=identifier, node="110000").exists()  # nothing of it kept in 北京
    at_issuer = LicenceUse.objects.get(node="130000", case__isnull=True)
    assert (at_issuer.case_no, at_issuer.case_node, at_issuer.status) == (case_no, "110000", "awaiting_consent")

    consented = ok(consent(zhaoyu, case_no, shown["id"]))
    assert (consented["status"], consented["annotation"]) == ("releasing", {})
    dispatch()  # 河北 releases the signed licence; 北京 checks the signature and attaches it
    [used] = uses(zhaoyu, case_no)
    assert used["status"] == "accepted" and used["annotation"]["JZJZZZ"] == "保定市自然资源局"
    stored = LicenceUse.objects.get(pk=used["id"])
    assert stored.copy["document"]["identifier"] == identifier and stored.copy["qr"].startswith("TBL1.")
    problem(consent(zhaoyu, case_no, used["id"]), 409, "licence_use_decided")

    copy = zhaoyu.client.get(f"/api/v1/cases/{case_no}/licence-uses/{used['id']}/pdf", **zhaoyu._headers())
    assert copy.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(copy.content)).pages).replace("\n", "")
    assert "此件由保定市自然资源局提供" in text and CERTIFICATE_NO in text
    ok(zhaoyu.act(case_no, "submit"))  # the certificate counts as provided

    # The holder sees the use where the licence is kept, once, with the case, the node and the cause.
    log = ok(Api("zhaoyu", node="130000").get(f"/me/licenses/{identifier}"))["uses"]
    assert [(u["case_no"], u["node"], u["cause"], u["status_label"]) for u in log] == [
        (case_no, "110000", "提取住房公积金，证明在保定购房", "已授权使用")
    ]
    for message in OutboxMessage.objects.filter(type__startswith="licence."):
        _check(message_dict(message))


def message_dict(message: OutboxMessage) -> dict:
    from tongban.exchange.outbox import envelope_of

    return envelope_of(message).to_dict()


def test_the_annotated_copy_goes_with_the_case_to_the_deciding_node():
    """Applied for at the 河北 node, where the certificate is kept: the copy travels to 北京, who decides."""
    identifier = register_certificate()
    zhaoyu = Api("zhaoyu", node="130000")
    case_no = fund_case(zhaoyu)
    use = ok(ask(zhaoyu, case_no, cause="提取住房公积金"), 201)
    assert (use["status"], use["identifier"]) == ("awaiting_consent", identifier)  # issued here: no round trip
    ok(consent(zhaoyu, case_no, use["id"]))
    ok(zhaoyu.act(case_no, "submit"))
    dispatch()
    at_owner = LicenceUse.objects.get(node="110000", case_no=case_no)
    assert at_owner.status == "accepted" and at_owner.copy == LicenceUse.objects.get(pk=use["id"]).copy
    assert at_owner.case.node == "110000"
    log = ok(Api("zhaoyu", node="130000").get(f"/me/licenses/{identifier}"))["uses"]
    assert [u["case_no"] for u in log] == [case_no]  # the travelled copy is not a second use


def test_a_licence_of_someone_else_or_of_another_type_is_refused():
    identifier = register_certificate()
    lina = Api("lina", node="110000")
    case_no = fund_case(lina, name="李娜", id_number="370102198805163025")
    ok(ask(lina, case_no, cause="提取公积金", identifier=identifier), 201)
    dispatch()
    [refused] = uses(lina, case_no)
    assert (refused["status"], refused["error_code"], refused["preview"]) == ("failed", "licence_of_someone_else", [])
    assert not LicenceUse.objects.filter(node="130000").exists()  # the issuer was never asked
    from licences.test_issuing import business_licence

    _, decision = business_licence()
    other = decision["licences"][0]["identifier"]
    answer = problem(ask(lina, case_no, cause="提取公积金", identifier=other), 422, "licence_type_mismatch")
    assert "不动产权证书" in answer["detail"] and "营业执照" in answer["detail"]
    problem(ask(lina, case_no, cause="提取公积金", identifier="1.2.156.3005.2.X"), 422, "invalid_licence_identifier")
    problem(ask(lina, case_no, cause=" "), 422, "use_cause_required")


def test_a_suspended_licence_is_refused_by_its_issuer_before_and_after_consent():
    identifier = register_certificate()
    baoding = Api(BAODING_APPROVER, node="130000")
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    ok(ask(zhaoyu, case_no, cause="提取公积金"), 201)
    dispatch()
    [shown] = uses(zhaoyu, case_no)
    ok(baoding.post(f"/licenses/{identifier}/actions", {"action": "suspend", "reason": "查封登记"}))
    ok(consent(zhaoyu, case_no, shown["id"]))
    dispatch()
    [failed] = uses(zhaoyu, case_no)
    assert (failed["status"], failed["error_code"], failed["annotation"]) == ("failed", "licence_not_usable", {})
    assert "暂扣" in failed["error_detail"]
    assert LicenceUse.objects.get(node="130000", case__isnull=True).status == "failed"
    problem(zhaoyu.act(case_no, "submit"), 422, "materials_missing")
    # Asked again while suspended: 河北 refuses at once.
    ok(ask(zhaoyu, case_no, cause="再次申请"), 201)
    dispatch()
    assert [u["error_code"] for u in uses(zhaoyu, case_no)] == ["licence_not_usable", "licence_not_usable"]


def test_a_refusal_is_logged_at_the_issuer_and_releases_nothing():
    identifier, zhaoyu, case_no, shown = previewed()
    assert ok(consent(zhaoyu, case_no, shown["id"], accept=False))["status"] == "refused"
    dispatch()
    assert not OutboxMessage.objects.filter(type="licence.released").exists()
    log = ok(Api("zhaoyu", node="130000").get(f"/me/licenses/{identifier}"))["uses"]
    assert [u["status_label"] for u in log] == ["持证人拒绝"]


def test_an_issuer_that_does_not_answer_ends_the_use_with_a_timeout(fixed_clock):
    register_certificate()
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    ok(ask(zhaoyu, case_no, cause="提取公积金"), 201)
    fixed_clock.advance(minutes=6)
    sweep()
    [ended] = uses(zhaoyu, case_no)
    assert (ended["status"], ended["error_code"]) == ("failed", "timeout")
    dispatch()  # the late preview changes nothing
    assert [u["status"] for u in uses(zhaoyu, case_no)] == ["failed"]


def test_a_released_licence_that_does_not_verify_is_not_attached():
    identifier, zhaoyu, case_no, shown = previewed()
    ok(consent(zhaoyu, case_no, shown["id"]))
    use = LicenceUse.objects.get(pk=shown["id"])
    licence = Licence.objects.get(identifier=identifier)
    from tongban.licences.issuing import signed_document

    document = signed_document(licence)
    document["data"]["KZ_MJ"] = "189.36 平方米"  # altered on the way
    forged = {"document": document, "key_id": licence.key_id, "signature": licence.signature, "qr": ""}
    sharing.on_released(
        Envelope(
            type=sharing.RELEASED,
            from_node="130000",
            to_node="110000",
            payload={"use": str(use.ref), "identifier": identifier, "copy": forged},
            created_at=use.requested_at,
            case_no=case_no,
            message_id=uuid.uuid4(),
            correlation_id=uuid.uuid4(),
        )
    )
    [failed] = uses(zhaoyu, case_no)
    assert (failed["status"], failed["error_code"]) == ("failed", "forged")
    problem(zhaoyu.act(case_no, "submit"), 422, "materials_missing")


def test_the_issuer_refuses_a_replayed_or_foreign_answer():
    register_certificate()
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    ok(ask(zhaoyu, case_no, cause="提取公积金"), 201)
    dispatch()
    [shown] = uses(zhaoyu, case_no)
    ok(consent(zhaoyu, case_no, shown["id"]))
    dispatch()
    ref = str(LicenceUse.objects.get(pk=shown["id"]).ref)

    def answered(from_node: str) -> object:
        return sharing.on_use_answered(
            Envelope(
                type=sharing.USE_ANSWERED,
                from_node=from_node,
                to_node="130000",
                payload={"use": ref, "identifier": shown["identifier"], "accept": True, "consents": []},
                created_at=LicenceUse.objects.get(pk=shown["id"]).requested_at,
                case_no=case_no,
                message_id=uuid.uuid4(),
                correlation_id=uuid.uuid4(),
            )
        )

    assert answered("110000").code == "licence_use_decided"  # a replay
    assert answered("320000").code == "licence_use_not_found"  # another node speaking for the use
    assert OutboxMessage.objects.filter(type="licence.released").count() == 1


def test_the_use_messages_match_their_schemas_and_carry_no_id_number():
    register_certificate()
    zhaoyu = Api("zhaoyu", node="110000")
    case_no = fund_case(zhaoyu)
    ok(ask(zhaoyu, case_no, cause="提取公积金"), 201)
    dispatch()
    for message in OutboxMessage.objects.filter(type__in=[sharing.USE_REQUESTED, sharing.USE_PREVIEW]):
        envelope = message_dict(message)
        _check(envelope)
        if message.type == sharing.USE_REQUESTED:
            assert ZHAOYU_ID not in str(envelope["payload"])  # holder keys, never the number
    bad = message_dict(OutboxMessage.objects.filter(type=sharing.USE_REQUESTED).first())
    bad["payload"]["holder_keys"] = [ZHAOYU_ID]
    try:
        _check(bad)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a request naming the ID number must not match the schema")


def test_the_hub_answers_a_malformed_request_instead_of_retrying_it():
    def routed(payload: dict) -> object:
        return sharing.on_use_requested(
            Envelope(
                type=sharing.USE_REQUESTED,
                from_node="110000",
                to_node="000000",
                payload=payload,
                created_at=clock.now(),
                case_no="",
                message_id=uuid.uuid4(),
                correlation_id=uuid.uuid4(),
            )
        )

    whole = {"identifier": "", "licence_type": "budongchan_quanzheng", "holder_keys": []}
    assert routed({k: v for k, v in whole.items() if k != "holder_keys"}).code == "request_invalid"
    assert routed({**whole, "holder_keys": 5}).code == "request_invalid"
    assert routed({**whole, "licence_type": ["budongchan_quanzheng"]}).code == "request_invalid"
    assert routed(whole).code == "licence_not_held"
    assert not OutboxMessage.objects.filter(type=sharing.USE_REQUESTED).exists()
