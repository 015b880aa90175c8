"""`tongban load_content`: load regions and nodes, holidays and the item catalog from content/."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tongban.catalog.loader import COUNT_LABELS, ContentError
from tongban.regions.content import RegionContentError
from tongban.worktime.schedule import ScheduleError

# In dependency order: coverage refers to nodes, deadlines to holidays, items and materials to licence types.
STEPS = (
    ("区划与节点", "tongban.regions.loader", "load_regions"),
    ("节假日", "tongban.worktime.loader", "seed_holidays"),
    ("电子证照类型", "tongban.licences.loader", "load_licence_types"),
    ("事项目录", "tongban.catalog.loader", "load_catalog"),
)


def _loader(module: str, name: str) -> Callable[[Path], dict[str, Any]]:
    # Imported here so that each app's loader is only needed when the command runs.
    return getattr(import_module(module), name)


class Command(BaseCommand):
    help = "装载 content/ 下的区划与节点、节假日和事项目录（可重复执行，内容未变时不做任何修改）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--content-dir", type=Path, default=None, help="内容目录，默认为 settings.CONTENT_DIR")

    def handle(self, *args: Any, content_dir: Path | None = None, **options: Any) -> None:
        folder = Path(content_dir or settings.CONTENT_DIR).resolve()
        if not folder.is_dir():
            raise CommandError(f"内容目录不存在：{folder}")
        try:
            # All or nothing: a broken file leaves the database as it was.
            with transaction.atomic():
                for label, module, name in STEPS:
                    counts = _loader(module, name)(folder)
                    self.stdout.write(f"{label}：{self._format(counts)}")
        except (ContentError, RegionContentError) as exc:
            raise CommandError("内容有误，未做任何修改：\n" + "\n".join(exc.errors)) from None
        except ScheduleError as exc:
            raise CommandError(f"节假日安排有误，未做任何修改：{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"内容装载完成：{folder}"))

    @staticmethod
    def _format(counts: dict[str, Any]) -> str:
        return "，".join(f"{COUNT_LABELS.get(key, key)} {value}" for key, value in counts.items()) or "无"
