"""Reading and validating content/regions: every problem names the file and the entry at fault."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REGION_CODE = re.compile(r"^\d{6}$")


class RegionContentError(ValueError):
    """The files under content/regions are malformed; nothing was loaded.

    `errors` lists the problems, each naming its file and entry, like the other content loaders' errors.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errors = [message]


def fail(source: Path | str, where: str, message: str) -> RegionContentError:
    location = f"{source}：{where}" if where else str(source)
    return RegionContentError(f"{location}：{message}")


def read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise fail(path, "", "文件不存在")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise fail(path, "", f"不是合法的 YAML：{exc}") from exc


def mapping(value: Any, source: Path | str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(source, where, "应为键值映射")
    return value


def sequence(value: Any, source: Path | str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(source, where, "应为列表")
    return value


def text(value: Any, source: Path | str, where: str, *, max_length: int, blank: bool = False) -> str:
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise fail(source, where, "应为非空字符串")
    if len(value) > max_length:
        raise fail(source, where, f"长度 {len(value)} 超过上限 {max_length}")
    return value.strip()


def region_code(value: Any, source: Path | str, where: str) -> str:
    # Unquoted codes become integers in YAML and lose leading zeros, so require strings.
    if not isinstance(value, str) or not REGION_CODE.match(value):
        raise fail(source, where, f"区划代码应为带引号的 6 位数字字符串，实际为 {value!r}")
    return value
