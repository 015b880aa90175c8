"""Browser tests: the real application in a live server, driven by Debian's Chromium through
Playwright's sync API, with axe-core injected into each page to check its accessibility.

Needs /usr/bin/chromium and the axe-core that `make browser-deps` installs; skipped without them,
unless TONGBAN_REQUIRE_SERVICES=1 (CI), where they must run."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
# Headless, and quiet: without the background-networking flags Chromium keeps calling home, and this
# network answers nothing but the live server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
BLOCKING = ("serious", "critical")


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"找不到 {CHROMIUM}（运行 make browser-deps 安装 Debian 的 chromium）"
    if not AXE.is_file():
        return "浏览器测试的 axe-core 未安装（运行 make browser-deps）"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "未安装 playwright（运行 make install）"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    missing = _missing()
    if missing:
        if os.environ.get("TONGBAN_REQUIRE_SERVICES") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    return str(CHROMIUM)


@pytest.fixture
def site(chromium_path, transactional_db, live_server, fixed_clock) -> str:
    """The live server's address, over the real content and demo accounts, at 2025-06-09 09:00.

    The server answers from another thread, so the data is committed (transactional_db) and the
    database is emptied again after each test, as the other packages expect to find it."""
    call_command("load_content", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


@pytest.fixture
def browser(chromium_path, site, monkeypatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls a test makes while the
    # browser is open are still synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """One browser context at one screen size; it records every request, every asset that failed to
    load and every script error. A page's own status (422 for an error) is the page's business."""

    def __init__(self, browser: Any, base_url: str, screen: dict[str, Any]) -> None:
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, locale="zh-CN", **screen)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("response", self._response)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.url}")

    def _console(self, message: Any) -> None:
        # A failed load is reported twice, here and as a response; only the response tells what it was.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()
        foreign = [url for url in self.requests if not url.startswith((self.base_url, "data:"))]
        assert not foreign, f"请求了本站以外的资源：{foreign}"
        assert not self.errors, f"浏览器控制台报错：{self.errors}"


@pytest.fixture
def visit(browser, site) -> Iterator[Any]:
    """visit(screen) → a page at that screen size; checked for foreign requests and errors at the end."""
    opened: list[Visit] = []

    def open_visit(screen: dict[str, Any] = DESKTOP) -> Any:
        opened.append(Visit(browser, site, screen))
        return opened[-1].page

    yield open_visit
    for one in opened:
        one.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    if violations:
        shown = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]],
            }
            for v in violations
        ]
        report = json.dumps(shown, ensure_ascii=False, indent=2)
        print(report)
        pytest.fail(f"axe-core 在 {page.url} 发现 {len(violations)} 项严重的无障碍问题：\n{report}")
