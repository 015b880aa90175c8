"""The source article's three stories as requests (content/demo/stories.yaml), one per mode.

The bench, the end-to-end tests and the API guide use the same stories with the demo accounts.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml
from django.conf import settings


@cache
def _stories() -> dict[str, Any]:
    with open(settings.CONTENT_DIR / "demo" / "stories.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def story(mode: str) -> dict[str, Any]:
    """A fresh copy of the story for `mode` (online, proxy, multi_place): callers may change it."""
    return copy.deepcopy(_stories()[mode])
