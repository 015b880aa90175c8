"""Reading rule content (content/rules/, content/scenarios/): YAML, pydantic checks, Chinese errors.

Every problem names its file and the path of the field, so that a content author can find it:
`content/rules/parameters/marriage.yaml: marriage.pilot_regions.marriage.values[1].reference：缺少必填字段`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tongban.content_messages import PYDANTIC_MESSAGES, ContentLoader, location

FORMAT_DOCS = "content/rules/README.md"
REGION_CODE_RE = re.compile(r"^\d{6}$")


class RulesContentError(Exception):
    """Rule content that cannot be used; `errors` lists every problem, each naming its file and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Text = Annotated[str, Field(min_length=1)]


def _region_code(raw: Any) -> str:
    """A 6-digit division code; an unquoted YAML number such as 420102 is accepted as its text."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 999999:
        raw = f"{raw:06d}"
    if isinstance(raw, str) and REGION_CODE_RE.match(raw):
        return raw
    raise ValueError('必须是 6 位行政区划代码（加引号，如 "420100"）')


RegionCode = Annotated[str, BeforeValidator(_region_code)]


_Loader = ContentLoader


def display_path(content_dir: Path, path: Path) -> str:
    """`content/rules/parameters/x.yaml`: short enough to read, precise enough to find."""
    try:
        return f"{content_dir.name}/{path.relative_to(content_dir).as_posix()}"
    except ValueError:
        return path.as_posix()


def yaml_paths(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def read_yaml(path: Path, display: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RulesContentError([f"{display}：YAML 格式错误：{_yaml_problem(exc)}"]) from None
    except UnicodeDecodeError:
        raise RulesContentError([f"{display}：文件必须使用 UTF-8 编码"]) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"第 {mark.line + 1} 行第 {mark.column + 1} 列：{problem}" if mark else problem


def validate(model: type[BaseModel], raw: Any, display: str, prefix: str = "", docs: str = FORMAT_DOCS) -> Any:
    """`model.model_validate(raw)`, or RulesContentError naming `display` and each field's path."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RulesContentError(
            [f"{display}: {location(prefix, error['loc'])}：{message(error, docs)}" for error in exc.errors()]
        ) from None


_MESSAGES = {**PYDANTIC_MESSAGES, "literal_error": "取值无效"}


def message(error: Any, docs: str = FORMAT_DOCS) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"不认识的字段，请检查拼写（格式见 {docs}）"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "literal_error":
        return f"取值必须是 {ctx.get('expected', '')} 之一"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 项"
    return f"取值无效（{error.get('msg', kind)}）"
