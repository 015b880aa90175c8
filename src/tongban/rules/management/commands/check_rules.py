"""`tongban check_rules`: validate the rule content and list the parameter values not yet verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.rules.bindings import read_item_rules
from tongban.rules.content import RulesContentError
from tongban.rules.parameters import read_parameters
from tongban.rules.scenarios import read_rule_tests, read_scenarios


class Command(BaseCommand):
    help = "校验 content/rules（参数、事项规则、规则测试）与 content/scenarios 的格式，并列出未经核实的参数取值"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--content-dir", type=Path, default=None, help="内容目录，默认为 settings.CONTENT_DIR")

    def handle(self, *args: Any, content_dir: Path | None = None, **options: Any) -> None:
        folder = Path(content_dir or settings.CONTENT_DIR).resolve()
        errors: list[str] = []
        counts: dict[str, int] = {}
        parameters = None
        for label, read in (
            ("参数", read_parameters),
            ("事项规则", read_item_rules),
            ("规则测试", read_rule_tests),
            ("事项情景", read_scenarios),
        ):
            try:
                found = read(folder)
            except RulesContentError as exc:
                errors += exc.errors
                continue
            counts[label] = len(found)
            if label == "参数":
                parameters = found
        if errors:
            raise CommandError("规则内容有误：\n" + "\n".join(errors))
        self.stdout.write("，".join(f"{label} {count}" for label, count in counts.items()))
        unverified = parameters.unverified() if parameters is not None else []
        if unverified:
            self.stdout.write(f"未经核实的参数取值 {len(unverified)} 项：")
            for value in unverified:
                where = f"（{value.region}）" if value.region else ""
                note = value.reference.get("note", "")
                self.stdout.write(f"  {value.name}{where} 自 {value.valid_from.isoformat()}：{note}")
        self.stdout.write(self.style.SUCCESS("规则内容校验通过"))
