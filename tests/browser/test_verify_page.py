"""The public verification page in a real browser: at phone and desktop width, with the keyboard
alone, and checked by axe-core (no serious or critical violation)."""

from __future__ import annotations

from typing import Any

import pytest

from licences.test_qr import marriage_licence
from tongban.licences import qr
from tongban.licences.models import Licence

from .conftest import DESKTOP, PHONE, assert_accessible, axe_violations

PATH = "/licences/verify/"
FIELD = "二维码内容或证照标识"
MASKED = "男方王*、女方刘*"


@pytest.fixture
def licence(site) -> Licence:
    """王杰 and 刘燕's marriage licence, issued at 南京."""
    return marriage_licence()


def secrets_of(licence: Licence) -> list[str]:
    return [value for holder in licence.holders.all() for value in (holder.name, holder.id_number)]


def focused(page: Any) -> dict[str, Any]:
    """The focused element: its id, tag, text, and how its focus ring is drawn."""
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            const box = element.getBoundingClientRect();
            return {id: element.id, tag: element.tagName.toLowerCase(), text: element.textContent.trim(),
                    classes: element.className, outlineStyle: style.outlineStyle,
                    outlineWidth: parseFloat(style.outlineWidth), boxShadow: style.boxShadow,
                    top: box.top, left: box.left, width: box.width, height: box.height};
        }"""
    )


def assert_focus_visible(page: Any) -> dict[str, Any]:
    element = focused(page)
    assert element["outlineStyle"] != "none" and element["outlineWidth"] >= 2, element
    viewport = page.viewport_size
    assert element["top"] >= 0 and element["left"] >= 0 and element["top"] < viewport["height"], element
    return element


def assert_fits(page: Any, width: int) -> None:
    """Readable at this width: no sideways scrolling, and the button big enough to hit."""
    assert page.evaluate("window.innerWidth") == width  # the viewport meta is honoured on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    button = page.get_by_role("button", name="核验").bounding_box()
    assert button["height"] >= 44 and button["width"] >= 44, button
    assert button["x"] + button["width"] <= width


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone-360", "desktop-1280"])
def test_an_issued_licence_verifies_with_the_holder_masked(visit, licence, screen):
    page = visit(screen)
    page.goto(PATH)
    assert page.title() == "核验电子证照 · 通办 跨省通办平台"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert_fits(page, screen["viewport"]["width"])
    assert_accessible(page)

    page.get_by_label(FIELD).fill(licence.identifier)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="核验").click()
    assert navigation.value.status == 200
    result = page.locator("section.result")
    assert result.get_by_role("heading", level=2).inner_text() == "核验结果：有效"
    facts = result.locator("dl").inner_text()
    assert "结婚证" in facts and MASKED in facts and "长期" in facts and "2025-06-09 09:00" in facts
    shown = page.content()
    for secret in secrets_of(licence):
        assert secret not in shown, secret
    assert page.get_by_label(FIELD).input_value() == licence.identifier
    assert_fits(page, screen["viewport"]["width"])
    assert_accessible(page)


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone-360", "desktop-1280"])
def test_garbage_is_summarised_and_the_summary_leads_to_the_field(visit, site, screen):
    page = visit(screen)
    page.goto(PATH)
    page.get_by_label(FIELD).fill("这不是证照")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="核验").click()
    assert navigation.value.status == 422
    assert page.title() == "错误：核验电子证照 · 通办 跨省通办平台"
    summary = page.get_by_role("alert")
    assert "无法核验" in summary.inner_text() and "电子证照标识“这不是证照”无效" in summary.inner_text()
    assert "error-summary" in focused(page)["classes"]  # focus moved to the summary

    field = page.get_by_label(FIELD)
    assert field.input_value() == "这不是证照"
    assert field.get_attribute("aria-invalid") == "true"
    described = page.evaluate(
        """(id) => document.getElementById(id).getAttribute('aria-describedby').split(' ')
            .map((part) => document.getElementById(part).textContent.trim())""",
        "licence-text",
    )
    assert any("电子证照标识“这不是证照”无效" in text for text in described), described
    assert_accessible(page)

    page.keyboard.press("Tab")  # from the summary to its link
    assert focused(page)["tag"] == "a" and "无效" in focused(page)["text"]
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "licence-text"
    assert_focus_visible(page)


def test_keyboard_only(visit, licence):
    page = visit(DESKTOP)
    page.goto(PATH)
    page.keyboard.press("Tab")
    skip = assert_focus_visible(page)
    assert (skip["tag"], skip["text"]) == ("a", "跳到主要内容")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"

    page.keyboard.press("Tab")
    assert focused(page)["id"] == "licence-text"
    assert_focus_visible(page)
    page.keyboard.insert_text(licence.identifier)
    page.keyboard.press("Tab")
    button = assert_focus_visible(page)
    assert (button["tag"], button["text"]) == ("button", "核验")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("section.result h2").inner_text() == "核验结果：有效"
    assert MASKED in page.locator("section.result").inner_text()


def test_a_qr_code_verifies_offline_and_links_to_the_issuer(visit, licence):
    text = qr.qr_text(licence)
    page = visit(PHONE)
    page.goto(PATH)
    page.get_by_label(FIELD).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="核验").click()
    result = page.locator("section.result")
    assert result.locator("h2").inner_text() == "离线核验结果：有效"
    assert "证照当前状态以签发机构为准" in result.inner_text() and MASKED in result.inner_text()
    assert_fits(page, 360)
    assert_accessible(page)
    with page.expect_navigation():
        result.get_by_role("link", name="向签发机构核验该证照的当前状态").click()
    assert page.locator("section.result h2").inner_text() == "核验结果：有效"
    assert "状态确认时间" in page.locator("section.result").inner_text()


def test_the_check_itself_catches_what_it_should(visit):
    """Unlabelled images and pale text are reported: a clean page above is not a check that saw nothing."""
    page = visit(DESKTOP)
    page.set_content(
        '<!DOCTYPE html><html lang="zh-CN"><head><title>反例</title></head><body><main>'
        '<p style="color:#bbbbbb;background:#ffffff">浅色文字</p><img src="data:,"></main></body></html>'
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"color-contrast", "image-alt"} <= found, found
