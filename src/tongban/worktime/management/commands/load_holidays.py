"""`tongban load_holidays [--year Y ...]`: fill the holiday table from content/holidays and chinese-calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.worktime.loader import LoadReport, available_years, load_years
from tongban.worktime.schedule import ScheduleError


def _years(years: list[int]) -> str:
    return "、".join(map(str, years)) or "无"


class Command(BaseCommand):
    help = "载入节假日安排：content/holidays/<年份>.yaml 优先，其次 chinese-calendar 程序包。不指定年份时载入全部。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, action="append", dest="years", metavar="年份", help="只载入该年，可重复"
        )
        parser.add_argument(
            "--content-dir", type=Path, default=None, help="内容目录（含 holidays/），默认为 TONGBAN_CONTENT_DIR"
        )

    def handle(self, *args: Any, years: list[int] | None, content_dir: Path | None, **options: Any) -> None:
        content_dir = content_dir or settings.CONTENT_DIR
        try:
            report = load_years(years or available_years(content_dir), content_dir)
        except ScheduleError as error:
            raise CommandError(f"节假日文件有误，未作任何修改：{error}") from None
        self._print(report)
        if report["missing"]:
            raise CommandError(
                f"{_years(report['missing'])} 年既没有 content/holidays 文件，程序包也未收录；"
                "请按国务院办公厅通知添加文件或在管理后台录入。"
            )

    def _print(self, report: LoadReport) -> None:
        self.stdout.write(f"来自文件的年度：{_years(report['files'])}")
        self.stdout.write(f"来自 chinese-calendar 的年度：{_years(report['package'])}")
        self.stdout.write(f"有变化的年度：{_years(report['changed'])}")
        if report["upcoming_unloaded"]:
            self.stderr.write(
                f"提醒：{_years(report['upcoming_unloaded'])} 年尚未载入官方安排，"
                "涉及这些年份的期限暂按周末计算并标记为暂估。"
            )
