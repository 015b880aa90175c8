"""Name search keys: people type pinyin initials ("jhdj") as often as the Chinese name."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

_KEEP = re.compile(r"[^a-z0-9]")


def pinyin_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a Chinese name, lower case, letters and digits only."""
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    full = "".join(lazy_pinyin(name, style=Style.NORMAL))
    return _KEEP.sub("", initials.lower()), _KEEP.sub("", full.lower())


def is_pinyin_query(q: str) -> bool:
    """A query in Latin letters is matched against the pinyin keys; anything else against the name."""
    return bool(q) and q.isascii() and q.replace(" ", "").isalnum()
