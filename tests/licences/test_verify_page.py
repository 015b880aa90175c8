"""The public verification page /licences/verify/: a QR code's text is checked offline, an identifier
online; the page shows the verdict and what it rests on, the holder masked, and never an ID number or
a person's full name; errors are summarised at the top and beside the field, in Chinese."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from licences.test_issuing import business_licence
from licences.test_qr import business, marriage_licence
from tongban.identity.actors import actor_for_account
from tongban.identity.models import Account
from tongban.licences import qr
from tongban.licences.identifiers import make_identifier
from tongban.licences.models import Licence, LicenceType
from tongban.licences.services import do_licence_action

from support import dispatch

URL = "/licences/verify/"
FIELD = "licence-text"


def suspend(identifier: str, reason: str) -> None:
    """西宁's market regulator, at its node, suspends the licence it issued."""
    issuer = actor_for_account(Account.objects.get(username="qh-shichang-approver"), "630000")
    assert do_licence_action(issuer, identifier, "suspend", reason).state == "02"


def page(response) -> str:
    return response.content.decode()


def post(text: str, client: Client | None = None, **headers: str):
    return (client or Client()).post(URL, {"text": text}, **headers)


def field_value(body: str) -> str:
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", body, re.S)
    assert found, body
    return html.unescape(found.group(1))


def personal_data(licence: Licence) -> list[str]:
    """What the page must never show of a licence's holders: ID numbers, and persons' full names."""
    shown = []
    for holder in licence.holders.all():
        shown.append(holder.id_number)
        if holder.kind != "enterprise":
            shown.append(holder.name)
    return shown


def assert_no_personal_data(body: str, licence: Licence) -> None:
    for secret in personal_data(licence):
        assert secret not in body, secret
    for value in licence.data.values():  # the licence's face carries the names and numbers too
        if re.fullmatch(r"[0-9X]{15,18}", value):
            assert value not in body, value


def test_the_page_is_public_and_shows_an_empty_form():
    assert reverse("licence-verify") == URL
    response = Client().get(URL)
    assert response.status_code == 200
    body = page(response)
    assert '<html lang="zh-CN">' in body and "<title>核验电子证照 · " in body
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert '<a class="skip-link" href="#main">跳到主要内容</a>' in body and '<main id="main"' in body
    assert "<header" in body and "<footer" in body
    assert f'<label for="{FIELD}">二维码内容或证照标识</label>' in body
    assert f'<textarea id="{FIELD}" name="text"' in body and field_value(body) == ""
    assert '<button type="submit" class="button">核验</button>' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert '<div class="error-summary"' not in body and 'id="result-title"' not in body
    assert "no-store" in response["Cache-Control"]
    # Only our own assets: the stylesheet is served here, nothing comes from elsewhere.
    assert '<link rel="stylesheet" href="/static/tongban/site.css">' in body
    assert not re.search(r"""(src|href)=["'](https?:)?//""", body)
    style = b"".join(Client().get("/static/tongban/site.css").streaming_content).decode()
    assert ":focus-visible" in style and "min-height: 44px" in style


def test_a_valid_licence_by_its_identifier():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    licence = Licence.objects.get(identifier=identifier)
    response = post(identifier)
    assert response.status_code == 200
    body = page(response)
    assert '核验结果：<span class="verdict verdict-ok">有效</span>' in body
    assert "签名有效，证照在有效期内且状态正常。" in body
    assert "<dd>营业执照</dd>" in body
    assert "西宁高原新能源科技有限公司" in body  # an enterprise's name is public
    assert f"{licence.issuer_name}<br>签发节点：" in body and "（630000）" in body
    assert "<dd>2025-06-09 至 长期</dd>" in body
    assert "<dd>有效</dd>" in body and "<dd>2025-06-09 09:00</dd>" in body  # state and when confirmed
    assert "以签发机构为准" not in body  # confirmed online
    assert field_value(body) == identifier  # the text stays in the field
    assert_no_personal_data(body, licence)
    assert licence.data["KZ_FDDBR"] not in body  # the legal representative named on the face


def test_a_link_verifies_directly_and_a_persons_name_is_masked():
    licence = marriage_licence()
    response = Client().get(URL, {"id": licence.identifier})
    assert response.status_code == 200
    body = page(response)
    assert "有效</span>" in body and "<dd>结婚证</dd>" in body
    assert "男方王*、女方刘*" in body
    assert_no_personal_data(body, licence)
    assert "王杰" not in body and "刘燕" not in body


def test_a_suspended_licence():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    suspend(identifier, "涉嫌虚假登记，立案调查")
    response = post(identifier)
    assert response.status_code == 200
    body = page(response)
    assert '核验结果：<span class="verdict verdict-warn">暂扣</span>' in body
    assert "涉嫌虚假登记，立案调查" in body and "<dd>暂扣</dd>" in body


def test_a_valid_qr_code_verifies_offline_and_says_the_state_is_not_confirmed():
    licence = marriage_licence()
    text = qr.qr_text(licence)
    response = post("\n" + text + "\n")  # a scanner's newline is ignored
    assert response.status_code == 200
    body = page(response)
    assert '离线核验结果：<span class="verdict verdict-ok">有效</span>' in body
    assert qr.VALID_REASON in body
    assert "<strong>未确认</strong>" in body and "证照当前状态以签发机构为准" in body
    assert "男方王*、女方刘*" in body and "<dd>结婚证</dd>" in body and "<dd>2025-06-09 至 长期</dd>" in body
    assert f"{licence.issuer_name}<br>签发节点：" in body and "（320000）" in body
    assert "状态确认时间" not in body
    assert f'href="{URL}?id={licence.identifier}"' in body  # a link to ask the issuer
    assert_no_personal_data(body, licence)


def test_a_qr_code_does_not_know_the_licence_was_suspended_but_the_link_to_the_issuer_does():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    text = qr.qr_text(Licence.objects.get(identifier=identifier))
    suspend(identifier, "立案调查")
    assert '离线核验结果：<span class="verdict verdict-ok">有效</span>' in page(post(text))
    assert "暂扣</span>" in page(Client().get(URL, {"id": identifier}))


def test_a_tampered_qr_code_is_forged_and_shows_nothing_of_what_it_says():
    licence = marriage_licence()
    prefix, payload, _signature = qr.qr_text(licence).split(".")
    other = qr.qr_text(business()).split(".")[2]
    response = post(f"{prefix}.{payload}.{other}")
    assert response.status_code == 200
    body = page(response)
    assert '<span class="verdict verdict-bad">伪造或篡改</span>' in body
    assert "签名与二维码内容不符：二维码被伪造或篡改。" in body and "不予显示" in body
    assert "男方王*" not in body and "结婚证" not in body and "<dl" not in body
    assert_no_personal_data(body, licence)


def test_altered_licence_content_is_forged_and_shows_nothing_of_it():
    licence = marriage_licence()
    licence.data = {**licence.data, "KZ_NVXM": "李燕"}
    licence.save()
    body = page(post(licence.identifier))
    assert "伪造或篡改</span>" in body and "男方王*" not in body and "<dl" not in body


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("garbage", 422, "电子证照标识“garbage”无效：应为 1.2.156.3005.2.&lt;类型代码&gt;"),
        ("TBL1.x", 422, "不是有效的电子证照二维码：应为 TBL1.&lt;载荷&gt;.&lt;签名&gt; 三段。"),
        ("   ", 422, "请填写二维码内容或证照标识。"),
    ],
)
def test_malformed_input_is_summarised_and_shown_beside_the_field(text, status, message):
    response = post(text)
    assert response.status_code == status
    body = page(response)
    assert "<title>错误：核验电子证照" in body
    summary = body[body.index('<div class="error-summary"') : body.index("<h1>")]
    assert 'role="alert"' in summary and "autofocus" in summary
    assert f'<li><a href="#{FIELD}">{message}' in summary
    beside = re.search(rf'<p id="{FIELD}-error" class="error-message">(.*?)</p>', body, re.S)
    assert beside and message in beside.group(1)
    assert f'aria-describedby="{FIELD}-hint {FIELD}-error" aria-invalid="true"' in body
    assert field_value(body) == text
    assert 'id="result-title"' not in body


def test_an_unknown_licence_is_not_found():
    type_code = LicenceType.objects.get(code="yingye_zhizhao").type_code
    unknown = make_identifier(type_code, "11630100MB1234567X", "20259999999")
    response = Client().get(URL, {"id": unknown})
    assert response.status_code == 404
    body = page(response)
    assert f'<a href="#{FIELD}">没有标识为 {unknown} 的电子证照。</a>' in body
    assert field_value(body) == unknown


@override_settings(TONGBAN_NODE="230000", TONGBAN_HUB_URL="http://127.0.0.1:9")
def test_an_unreachable_directory_is_503():
    type_code = LicenceType.objects.get(code="yingye_zhizhao").type_code
    response = post(make_identifier(type_code, "11630100MB1234567X", "20259999998"))
    assert response.status_code == 503
    assert "暂时无法连接国家平台的证照目录核实该证照，请稍后再试。" in page(response)


def test_through_the_directory_a_stale_answer_says_so(fixed_clock, settings):
    _, decision = business_licence()
    dispatch()
    identifier = decision["licences"][0]["identifier"]
    Licence.objects.filter(identifier=identifier).delete()  # not kept at this node: the hub's word is asked
    settings.TONGBAN_NODE = "230000"
    body = page(post(identifier))
    assert "有效</span>" in body and "签发机构报送国家平台证照目录的签名报告" in body
    assert "<dd>营业执照</dd>" in body and "<dd>长期</dd>" in body and "<dd>2025-06-09 09:00</dd>" in body
    assert "持证主体" not in body.split("<form")[0]  # the directory holds no licence content
    assert "状态可能已过时" not in body
    fixed_clock.advance(hours=2)
    settings.TONGBAN_HUB_URL = "http://127.0.0.1:9"
    response = post(identifier)
    assert response.status_code == 200
    body = page(response)
    assert "有效</span>" in body and "<strong>状态可能已过时</strong>" in body
    assert "此为 2025-06-09 09:00 确认的状态" in body and "<dd>2025-06-09 09:00<br>" in body


def test_a_post_without_the_csrf_token_is_refused():
    _, decision = business_licence()
    identifier = decision["licences"][0]["identifier"]
    browser = Client(enforce_csrf_checks=True)
    assert post(identifier, browser).status_code == 403
    body = page(browser.get(URL))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    answer = browser.post(URL, {"text": identifier, "csrfmiddlewaretoken": token})
    assert answer.status_code == 200 and "有效</span>" in page(answer)


def test_other_methods_are_not_allowed():
    assert Client().head(URL).status_code == 200
    assert Client().put(URL).status_code == 405
