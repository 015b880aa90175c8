"""`tongban load_demo`: demo logins for every scenario (run after `tongban load_content`)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.identity.demo import DemoError, DemoLogin, default_path, load_demo, read_demo_file


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(logins: list[DemoLogin]) -> str:
    rows = [("用户名", "姓名", "岗位 / 说明")]
    for login in logins:
        rows.append((login.username, login.name, "；".join(login.posts) or login.note))
    widths = [max(_width(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{_pad(a, widths[0])}  {_pad(b, widths[1])}  {c}" for a, b, c in rows)


class Command(BaseCommand):
    help = "加载演示账号、工作人员岗位和企业（可重复运行）。需先运行 tongban load_content。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=None, help="演示账号文件，默认 content/demo/accounts.yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"] or default_path()
        try:
            logins = load_demo(path)
            password = read_demo_file(path)["password"]
        except DemoError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(format_table(logins))
        self.stdout.write(self.style.SUCCESS(f"\n已加载 {len(logins)} 个演示账号；统一密码：{password}"))
