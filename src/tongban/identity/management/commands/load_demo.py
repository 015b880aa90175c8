"""`tongban load_demo`: demo logins for every scenario (run after `tongban load_content`)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.identity.demo import (
    ADMINISTRATOR_USERNAME,
    STAFF_USERNAME,
    DemoError,
    DemoLoaded,
    DemoLogin,
    default_path,
    load_demo,
)
from tongban.identity.models import StaffRole


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


def format_generated(loaded: DemoLoaded) -> str:
    """The username patterns of the generated staff, with one real example each — not thousands of rows."""
    if not loaded.generated:
        return ""
    staff = STAFF_USERNAME.format(node="<节点>", function="<部门职能>", region="<区划>", role="<角色>")
    lines = [
        f"\n另为目录中每个事项的主管部门生成了 {len(loaded.generated)} 个演示工作人员账号（密码相同）：",
        f"  审查员 / 审批人：{staff}，角色为 reviewer 或 approver",
        f"  节点管理员：    {ADMINISTRATOR_USERNAME.format(node='<节点>')}",
    ]
    examples = {post.role: post for post in reversed(loaded.generated)}
    for role in (StaffRole.REVIEWER, StaffRole.APPROVER, StaffRole.ADMINISTRATOR):
        if role in examples:
            lines.append(f"  例：{examples[role].username}（{examples[role].name}）")
    lines.append("  部门职能代码见 docs/glossary.md；区划为省级或地级区划代码。")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "加载演示账号、工作人员岗位和企业，并为各事项的主管部门生成工作人员（可重复运行）。"
        "需先运行 tongban load_content。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=None, help="演示账号文件，默认 content/demo/accounts.yaml")
        parser.add_argument(
            "--stories-only",
            action="store_true",
            help="只加载演示账号文件中列出的账号，不为各部门生成工作人员",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"] or default_path()
        try:
            loaded = load_demo(path, generate=not options["stories_only"])
        except DemoError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(format_table(loaded.logins))
        generated = format_generated(loaded)
        if generated:
            self.stdout.write(generated)
        total = len(loaded.logins) + len(loaded.generated)
        self.stdout.write(self.style.SUCCESS(f"\n已加载 {total} 个演示账号；统一密码：{loaded.password}"))
