"""The signed QR code of a licence and its offline verification: only the trust list stored at the
node, never the licence table; every change to the text is refused; the CLI, the endpoints and the
golden example that OpenSSL verifies."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import importlib.util
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import segno
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.test_first_use import bride, submitted_marriage
from licences.test_issuing import business_licence
from tongban import crypto
from tongban.clock import CHINA_TZ
from tongban.exchange import trust
from tongban.licences import qr
from tongban.licences.models import Licence, LicenceType

from support import Api, ok, problem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "protocol-examples"
VALID_SUMMARY = "有效（离线核验：签名有效、在有效期内；证照状态以签发机构为准）"
REFUSED = {"forged", "untrusted_issuer"}


def marriage_licence() -> Licence:
    """王杰 and 刘燕 marry at 南京 (node 320000)."""
    bride()
    _, case_no = submitted_marriage()
    ok(Api("js-minzheng-reviewer", node="320000").act(case_no, "accept"))
    ok(Api("js-minzheng-reviewer", node="320000").act(case_no, "start_review"))
    decided = ok(Api("js-minzheng-approver", node="320000").act(case_no, "decide", outcome="approve"))
    [issued] = decided["timeline"][-1]["data"]["licences"]
    return Licence.objects.get(identifier=issued["identifier"])


def business() -> Licence:
    return Licence.objects.get(identifier=business_licence()[1]["licences"][0]["identifier"])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused(text: str) -> bool:
    """True when the text is not taken as a genuine code: malformed, or refused with a reason."""
    try:
        return qr.verify_qr(text).code in REFUSED
    except qr.InvalidQrPayload:
        return True


def invalid(text: str) -> str:
    with pytest.raises(qr.InvalidQrPayload) as raised:
        qr.verify_qr(text)
    assert (raised.value.code, raised.value.status) == ("invalid_qr_payload", 422)
    assert raised.value.detail.startswith("不是有效的电子证照二维码：")
    return raised.value.detail


# ---------------------------------------------------------------- the code and its round trip


def test_a_marriage_licence_code_verifies_offline_with_the_parties_masked():
    licence = marriage_licence()
    text = qr.qr_text(licence)
    prefix, payload, signature = text.split(".")
    assert prefix == "TBL1"
    claims = json.loads(unb64url(payload))
    assert claims == {
        "id": licence.identifier,
        "type": "11100000MA000119XM001",
        "name": "结婚证",
        "holder": "男方王*、女方刘*",
        "from": "2025-06-09",
        "until": "长期",
        "node": "320000",
        "issuer": licence.issuer_name,
        "issued": "2025-06-09T09:00:00+08:00",
        "signed": "2025-06-09T09:00:00+08:00",
        "key": trust.signing_key("320000")[0],
    }
    assert "王杰" not in unb64url(payload).decode() and "140107" not in unb64url(payload).decode()
    assert len(unb64url(signature)) <= 72
    # Measured: 616 characters, a QR code of version 19 at level M.
    assert len(text) <= 640 and segno.make(text, error="m").version <= 20
    verdict = qr.verify_qr(text)
    assert (verdict.code, verdict.label, verdict.summary) == ("valid", "有效", VALID_SUMMARY)
    assert verdict.state_confirmed is False
    assert verdict.claims is not None and verdict.claims.holder == "男方王*、女方刘*"
    assert verdict.claims.valid_until is None and verdict.claims.issuer_node == "320000"


def test_an_enterprise_is_named_in_full():
    verdict = qr.verify_qr(qr.qr_text(business()))
    assert verdict.code == "valid" and verdict.claims.holder == "西宁高原新能源科技有限公司"


def test_offline_verification_reads_the_trust_list_and_nothing_of_the_licences():
    text = qr.qr_text(marriage_licence())
    trust.invalidate()
    with CaptureQueriesContext(connection) as queries:
        assert qr.verify_qr(text).code == "valid"
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "exchange_trustlistdocument" in tables and "licences_" not in tables
    # The licence gone from this node changes nothing: the code carries what it says.
    Licence.objects.all().delete()
    assert qr.verify_qr(text).code == "valid"


# ---------------------------------------------------------------- tampering


@pytest.fixture
def marriage_code() -> str:
    return qr.qr_text(marriage_licence())


def test_every_character_changed_is_refused(marriage_code):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for position, char in enumerate(marriage_code):
        other = alphabet[(alphabet.index(char) + 1) % len(alphabet)] if char in alphabet else "A"
        assert refused(marriage_code[:position] + other + marriage_code[position + 1 :]), position


def test_every_byte_of_the_signature_changed_is_refused(marriage_code):
    prefix, payload, signature = marriage_code.split(".")
    raw = unb64url(signature)
    for position in range(len(raw)):
        changed = raw[:position] + bytes([raw[position] ^ 0x01]) + raw[position + 1 :]
        assert refused(f"{prefix}.{payload}.{b64url(changed)}"), position


def test_any_one_byte_change_of_payload_or_signature_is_refused(marriage_code):
    prefix, payload, signature = marriage_code.split(".")
    parts = {"payload": unb64url(payload), "signature": unb64url(signature)}

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(sorted(parts)), st.data())
    def one_byte_changed(part: str, data: st.DataObject) -> None:
        raw = parts[part]
        position = data.draw(st.integers(0, len(raw) - 1))
        value = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]))
        changed = {**parts, part: raw[:position] + bytes([value]) + raw[position + 1 :]}
        assert refused(f"{prefix}.{b64url(changed['payload'])}.{b64url(changed['signature'])}")

    one_byte_changed()


def test_a_holder_changed_under_the_old_signature_is_forged(marriage_code):
    prefix, payload, signature = marriage_code.split(".")
    claims = json.loads(unb64url(payload))
    claims["holder"] = "男方李*、女方刘*"
    forged = json.dumps(claims, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    verdict = qr.verify_qr(f"{prefix}.{b64url(forged)}.{signature}")
    assert (verdict.code, verdict.label) == ("forged", "伪造或篡改")
    assert verdict.claims is None  # nothing unverified is shown


# ---------------------------------------------------------------- keys


def _claims(text: str) -> qr.QrClaims:
    return qr.parse(text).claims


def test_a_key_not_on_the_trust_list_is_untrusted(marriage_code):
    stranger = crypto.generate_keypair()
    claims = dataclasses.replace(_claims(marriage_code), key_id=stranger.public_key().fingerprint())
    verdict = qr.verify_qr(qr.encode(claims, stranger))
    assert (verdict.code, verdict.label) == ("untrusted_issuer", "签发机构不受信任")
    assert "不在本节点保存的信任列表中" in verdict.reason


def test_another_nodes_key_is_untrusted_for_this_issuer(marriage_code):
    key_id, key = trust.signing_key("630000")
    claims = dataclasses.replace(_claims(marriage_code), key_id=key_id)
    verdict = qr.verify_qr(qr.encode(claims, key))
    assert verdict.code == "untrusted_issuer" and "320000" in verdict.reason


def test_a_revoked_key_is_untrusted(marriage_code):
    trust.revoke(_claims(marriage_code).key_id)
    verdict = qr.verify_qr(marriage_code)
    assert verdict.code == "untrusted_issuer" and "吊销" in verdict.reason


def test_a_code_signed_before_a_rotation_still_verifies(marriage_code, fixed_clock):
    fixed_clock.advance(hours=1)
    trust.create_key("320000", overlap=dt.timedelta(0))
    assert qr.verify_qr(marriage_code).code == "valid"
    # A code the old key signs after its end is refused; a new code uses the new key.
    old = _claims(marriage_code)
    late = dataclasses.replace(old, signed_at=fixed_clock.now() + dt.timedelta(minutes=1))
    old_key = crypto.load_private_key_pem((trust._key_dir("320000") / f"{old.key_id}.pem").read_text())
    assert qr.verify_qr(qr.encode(late, old_key)).code == "untrusted_issuer"
    fresh = qr.qr_text(Licence.objects.get(identifier=old.identifier))
    assert _claims(fresh).key_id != old.key_id and qr.verify_qr(fresh).code == "valid"


# ---------------------------------------------------------------- validity


def test_a_code_past_the_licence_validity_is_expired(fixed_clock):
    licence_type = LicenceType.objects.get(code="yingye_zhizhao")
    licence_type.validity = {"kind": "years", "years": 1}
    licence_type.save()
    licence = business()
    text = qr.qr_text(licence)
    assert qr.verify_qr(text).code == "valid"
    fixed_clock.set(dt.datetime(2026, 6, 8, 23, 59))
    assert qr.verify_qr(text).code == "valid"
    fixed_clock.set(dt.datetime(2026, 6, 9, 9, 0))
    verdict = qr.verify_qr(text)
    assert (verdict.code, verdict.label) == ("expired", "失效")
    assert "2026-06-08" in verdict.reason and verdict.claims is not None
    assert qr.verify_qr(qr.qr_text(licence)).code == "expired"  # signed anew, still past its validity


def test_a_code_before_its_validity_starts_is_not_valid(marriage_code):
    verdict = qr.verify_qr(marriage_code, today=dt.date(2025, 6, 8))
    assert verdict.code == "other" and "尚未开始" in verdict.reason


# ---------------------------------------------------------------- malformed text


def _signed(payload: bytes, node: str = "320000") -> str:
    _key_id, key = trust.signing_key(node)
    return f"TBL1.{b64url(payload)}.{b64url(crypto.sign(key, payload))}"


def test_malformed_text_is_invalid_qr_payload(marriage_code):
    _prefix, payload, signature = marriage_code.split(".")
    assert "为空" in invalid("")
    assert "TBL1" in invalid("https://example.org/licence")
    invalid("TBL2." + payload + "." + signature)
    invalid("tbl1." + payload + "." + signature)
    invalid(f"TBL1.{payload}")
    invalid(f"TBL1.{payload}.{signature}.{signature}")
    invalid(f"TBL1.{payload}.{signature}==")
    invalid(f"TBL1.{payload.replace('-', '+')}.{signature}" if "-" in payload else f"TBL1.{payload}+.{signature}")
    invalid(f"TBL1.{payload}.")
    invalid(f"TBL1.{payload} .{signature}")
    assert "长度" in invalid("TBL1." + "A" * 3000 + "." + signature)
    # Surrounding white space (a scanner's newline) is not part of the code.
    assert qr.verify_qr(f"  {marriage_code}\n").code == "valid"


def test_a_payload_that_is_not_the_expected_json_is_invalid(marriage_code):
    claims = json.loads(unb64url(marriage_code.split(".")[1]))

    def canonical(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    assert "JSON" in invalid(_signed(b"\xff\xfe not json"))
    invalid(_signed(canonical([claims])))
    invalid(_signed(canonical({k: v for k, v in claims.items() if k != "holder"})))
    invalid(_signed(canonical({**claims, "extra": "x"})))
    invalid(_signed(canonical({**claims, "from": 20250609})))
    assert "规范编码" in invalid(_signed(json.dumps(claims, ensure_ascii=False).encode()))
    assert "证照标识" in invalid(_signed(canonical({**claims, "id": claims["id"][:-1] + "Z"})))
    invalid(_signed(canonical({**claims, "until": "2025-6-9"})))
    invalid(_signed(canonical({**claims, "issued": "2025-06-09T09:00:00"})))
    invalid(_signed(canonical({**claims, "signed": "2025-06-09T09:00:00.5+08:00"})))
    invalid(_signed(canonical({**claims, "key": claims["key"].upper()})))
    invalid(_signed(canonical({**claims, "holder": ""})))


def test_base64url_is_read_in_its_one_spelling():
    # A DER signature is 70 to 72 bytes; sign again until its last character carries unused bits
    # (a length that is not a multiple of 3), which is when another spelling of the same bytes exists.
    licence = marriage_licence()
    codes = (qr.qr_text(licence) for _ in range(50))
    prefix, payload, signature = next(c.split(".") for c in codes if len(unb64url(c.split(".")[2])) % 3)
    raw = unb64url(signature)
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    same_bytes = [c for c in alphabet if c != last and unb64url(signature[:-1] + c) == raw]
    assert same_bytes  # another spelling of the same bytes exists …
    for char in same_bytes:  # … and is refused
        assert "不规范" in invalid(f"{prefix}.{payload}.{signature[:-1]}{char}")


# ---------------------------------------------------------------- the command line


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("licences", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_prints_the_verdict_and_exits_0_only_when_valid(marriage_code):
    status, out, _ = _run("verify-qr", marriage_code)
    assert status == 0
    assert out.splitlines()[0] == f"核验结果：{VALID_SUMMARY}"
    assert "持证主体：男方王*、女方刘*" in out and "有效期：2025-06-09 至 长期" in out
    prefix, payload, signature = marriage_code.split(".")
    claims = json.loads(unb64url(payload))
    forged = json.dumps({**claims, "until": "2099-12-31"}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    status, out, _ = _run("verify-qr", f"{prefix}.{b64url(forged.encode())}.{signature}")
    assert status == 1 and "核验结果：伪造或篡改" in out and "持证主体" not in out
    status, out, err = _run("verify-qr", "不是二维码")
    assert status == 1 and out == "" and "不是有效的电子证照二维码" in err


def test_the_command_reads_the_code_from_standard_input(marriage_code, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(marriage_code + "\n"))
    status, out, _ = _run("verify-qr", "-")
    assert status == 0 and VALID_SUMMARY in out


def test_the_command_makes_a_code_for_a_licence_kept_here():
    licence = marriage_licence()
    status, out, _ = _run("qr", licence.identifier)
    assert status == 0 and qr.verify_qr(out.strip()).claims.identifier == licence.identifier
    with pytest.raises(CommandError, match="没有标识为"):
        call_command("licences", "qr", "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9")


def test_an_expired_code_exits_1(fixed_clock):
    licence_type = LicenceType.objects.get(code="yingye_zhizhao")
    licence_type.validity = {"kind": "years", "years": 1}
    licence_type.save()
    text = qr.qr_text(business())
    fixed_clock.set(dt.datetime(2027, 1, 1, 9, 0))
    status, out, _ = _run("verify-qr", text)
    assert status == 1 and out.startswith("核验结果：失效（签名有效，但有效期已于 2026-06-08 届满）")


# ---------------------------------------------------------------- the endpoints


def test_the_parties_and_the_issuer_get_the_code_and_anyone_verifies_it():
    licence = marriage_licence()
    path = f"/licenses/{licence.identifier}/qr"
    for username in ("wangjie", "liuyan", "js-minzheng-reviewer"):
        answer = ok(Api(username, node="320000").get(path))
        assert answer["identifier"] == licence.identifier and answer["payload"].startswith("TBL1.")
        assert answer["svg"].startswith("<svg") and answer["version"] <= 20
    scanned = ok(Api("wangjie", node="320000").get(path))["payload"]
    response = Client().post("/api/v1/licenses/verify-qr", {"payload": scanned}, content_type="application/json")
    answer = ok(response)
    assert (answer["result"], answer["result_label"], answer["summary"]) == ("valid", "有效", VALID_SUMMARY)
    assert answer["state_confirmed"] is False
    assert answer["licence"]["holder"] == "男方王*、女方刘*" and answer["licence"]["valid_until"] is None
    assert answer["licence"]["identifier"] == licence.identifier and answer["licence"]["issuer_node"] == "320000"


def test_someone_else_gets_neither_the_code_nor_the_pdf():
    licence = marriage_licence()
    for kind in ("qr", "pdf"):
        path = f"/licenses/{licence.identifier}/{kind}"
        problem(Api("zhangtao", node="320000").get(path), 404, "licence_not_found")
        problem(Api("qh-shichang-approver", node="630000").get(path), 404, "licence_not_found")
        problem(Client().get("/api/v1" + path), 401, "unauthenticated")
        problem(Api("zhangtao").get(f"/licenses/1.2.156.3005.2.X.Y.Z.001.Q/{kind}"), 422, "invalid_licence_identifier")


def test_the_verify_endpoint_refuses_malformed_and_reports_forged_codes(marriage_code):
    public = Client()
    refused_ = public.post("/api/v1/licenses/verify-qr", {"payload": "TBL1.x"}, content_type="application/json")
    problem(refused_, 422, "invalid_qr_payload")
    prefix, payload, _signature = marriage_code.split(".")
    other = qr.qr_text(business()).split(".")[2]
    answer = ok(
        public.post(
            "/api/v1/licenses/verify-qr", {"payload": f"{prefix}.{payload}.{other}"}, content_type="application/json"
        )
    )
    assert (answer["result"], answer["licence"]) == ("forged", None)


# ---------------------------------------------------------------- the golden example


def _tool():
    spec = importlib.util.spec_from_file_location("make_licence_qr_example", ROOT / "tools/make_licence_qr_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _annex_a_entries(pem: str) -> dict[str, dict]:
    key_id = crypto.load_public_key_pem(pem).fingerprint()
    since = dt.datetime(2025, 1, 1, tzinfo=CHINA_TZ).isoformat()
    return {key_id: {"node": "320000", "public_key": pem, "status": "active", "valid_from": since, "valid_until": None}}


def test_the_golden_example_verifies_and_is_what_the_tool_makes():
    text = (EXAMPLES / "licence-qr.txt").read_text(encoding="ascii")
    pem = (EXAMPLES / "licence-qr.pem").read_text(encoding="ascii")
    assert text.endswith("\n") and text.count("\n") == 1
    verdict = qr.verify_qr(text, entries=_annex_a_entries(pem), today=dt.date(2026, 1, 1))
    assert verdict.summary == VALID_SUMMARY and verdict.claims.holder == "男方王*、女方刘*"
    assert verdict.claims.key_id == "d94a2fcb88a63e824c32120f09f843778b6a29434a37f9d83e207e5da8806075"
    tool = _tool()
    assert tool.example_text() == text.strip()
    assert tool.EXAMPLE_KEY.public_key().to_pem() == pem
    assert len(text.strip()) == 616
    # Not on this node's trust list: the test key is trusted nowhere.
    assert qr.verify_qr(text).code == "untrusted_issuer"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl 不可用")
def test_openssl_verifies_the_golden_example_with_the_documented_commands(tmp_path):
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    if not version.startswith("OpenSSL 3"):
        pytest.skip(f"需要 OpenSSL 3：{version.strip()}")
    for name in ("licence-qr.txt", "licence-qr.pem"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    commands = _documented_commands()
    run = subprocess.run(["sh", "-c", commands], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0 and "Signature Verified Successfully" in run.stdout, run.stdout + run.stderr
    assert json.loads((tmp_path / "payload.bin").read_bytes())["name"] == "结婚证"
    # The same commands refuse a code whose payload was changed.
    text = (tmp_path / "licence-qr.txt").read_text()
    prefix, payload, signature = text.strip().split(".")
    changed = unb64url(payload).replace("长期".encode(), b"2099-12-31")
    (tmp_path / "licence-qr.txt").write_text(f"{prefix}.{b64url(changed)}.{signature}\n")
    run = subprocess.run(["sh", "-c", commands], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0 and "Signature Verification Failure" in run.stdout + run.stderr


def _documented_commands() -> str:
    """The shell block under docs/licences.md's "Checking the golden example with OpenSSL"."""
    text = (ROOT / "docs" / "licences.md").read_text(encoding="utf-8")
    section = text.split("### Checking the golden example with OpenSSL", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]
