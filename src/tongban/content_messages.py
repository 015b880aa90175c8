"""Reading content YAML and the Chinese messages for files that fail validation, shared by the loaders."""

from __future__ import annotations

from typing import Any

import yaml

# pydantic error types → what a content author reads.
PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "string_type": "必须是文本",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "date_type": "必须是日期，格式 YYYY-MM-DD",
    "date_parsing": "必须是日期，格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "必须是日期，格式 YYYY-MM-DD",
    "date_from_datetime_inexact": "必须是日期，不能带时间",
    "list_type": "必须是列表",
    "dict_type": "必须是映射（键: 值）",
    "model_type": "必须是映射（键: 值）",
    "model_attributes_type": "必须是映射（键: 值）",
}


def location(prefix: str, loc: tuple[Any, ...] | list[Any]) -> str:
    """`versions[0].materials[2].form` from pydantic's location tuple."""
    text = prefix
    for part in loc:
        if part == "[key]":
            text += "（键名）"
        else:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "（文件）"


class ContentLoader(yaml.SafeLoader):
    """SafeLoader that leaves an impossible date (2021-13-01) as text, so validation can name its field."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


ContentLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
