"""Finding items by the words people use: the name, its pinyin or pinyin initials ("jhdj"), and the
abbreviations and everyday words of content/catalog/synonyms.yaml (医保 → 医疗保障、医疗保险).

A query in Latin letters is matched against the name, the code and the pinyin keys. Any other query is cut at
spaces into terms, and each term at the synonyms it contains ("医保报销" → 医保 + 报销); every piece must match,
by one of its words: contained in the item's name, or naming the item's department function (医疗保障) or theme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pypinyin import Style, lazy_pinyin

from tongban.catalog.models import Theme
from tongban.content_messages import ContentLoader, location
from tongban.regions.models import DepartmentFunction

SYNONYMS_FILE = Path("catalog") / "synonyms.yaml"
# A piece of a query with more alternatives than this is cut back: a query is no place for a combinatorial search.
MAX_WORDS = 12
_KEEP = re.compile(r"[^a-z0-9]")


class SynonymsError(Exception):
    """A synonyms file that cannot be used; `errors` lists every problem in Chinese."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# --- pinyin -------------------------------------------------------------------------------------


def pinyin_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a Chinese name, lower case, letters and digits only."""
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    full = "".join(lazy_pinyin(name, style=Style.NORMAL))
    return _KEEP.sub("", initials.lower()), _KEEP.sub("", full.lower())


def is_pinyin_query(q: str) -> bool:
    """A query in Latin letters is matched against the pinyin keys; anything else against the name."""
    return bool(q) and q.isascii() and q.replace(" ", "").isalnum()


# --- synonyms -----------------------------------------------------------------------------------


class Synonym(BaseModel):
    """One word people use (`term`) and the words the catalog uses for it (`means`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=1, max_length=20)
    means: list[str] = Field(min_length=1)
    kind: str = Field(pattern=r"^(official|common)$")  # official: an abbreviation the government itself uses
    source: str = ""

    @field_validator("term")
    @classmethod
    def _chinese_term(cls, value: str) -> str:
        if value.isascii() or value != value.strip() or " " in value:
            raise ValueError("必须是不含空格的中文词语")
        return value

    @field_validator("means")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        if any(not word.strip() or word != word.strip() for word in value):
            raise ValueError("不能有空白的词语")
        if len(set(value)) != len(value):
            raise ValueError("词语不能重复")
        return value


class SynonymsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    synonyms: list[Synonym] = Field(min_length=1)


def read_synonyms(content_dir: Path) -> dict[str, tuple[str, ...]]:
    """Term → what it stands for (the term itself first), from `content_dir`/catalog/synonyms.yaml (none without
    the file: search then goes by the words as typed); raises SynonymsError naming every problem."""
    path = Path(content_dir) / SYNONYMS_FILE
    display = f"{Path(content_dir).name}/{SYNONYMS_FILE.as_posix()}"
    if not path.is_file():
        return {}
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=ContentLoader)
        spec = SynonymsFile.model_validate(raw)
    except UnicodeDecodeError:
        raise SynonymsError([f"{display}：文件必须使用 UTF-8 编码"]) from None
    except yaml.YAMLError as exc:
        raise SynonymsError([f"{display}：YAML 格式错误：{exc}"]) from None
    except ValidationError as exc:
        errors = [f"{display}: {location('synonyms', e['loc'][1:])}：{_message(e)}" for e in exc.errors()]
        raise SynonymsError(errors) from None
    errors: list[str] = []
    table: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(spec.synonyms):
        if entry.term in table:
            errors.append(f"{display}: synonyms[{index}].term：“{entry.term}”重复")
        if entry.kind == "official" and not entry.source.strip():
            errors.append(f"{display}: synonyms[{index}].source：官方简称须注明出处")
        table[entry.term] = (entry.term, *(word for word in entry.means if word != entry.term))
    if errors:
        raise SynonymsError(errors)
    return table


def _message(error: dict) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    messages = {
        "missing": "缺少必填字段",
        "extra_forbidden": "不认识的字段（可用：term、means、kind、source）",
        "string_pattern_mismatch": "只能是 official（官方简称）或 common（常用说法）",
        "too_short": "至少需要一项",
        "string_too_short": "不能为空",
        "string_too_long": f"不能超过 {ctx.get('max_length')} 个字",
        "list_type": "必须是列表",
        "string_type": "必须是文本",
        "model_type": "必须是映射（键: 值）",
    }
    return messages.get(error["type"], f"取值无效（{error.get('msg', error['type'])}）")


def synonyms() -> dict[str, tuple[str, ...]]:
    """The synonyms of the node's content directory; read again when the file changes."""
    path = Path(settings.CONTENT_DIR) / SYNONYMS_FILE
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _synonyms_as_of(Path(settings.CONTENT_DIR), stamp)


@lru_cache(maxsize=4)
def _synonyms_as_of(content_dir: Path, stamp: int) -> dict[str, tuple[str, ...]]:
    return read_synonyms(content_dir)


@lru_cache(maxsize=4)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One piece of a query: it matches an item when any of its words does."""

    words: tuple[str, ...]
    pinyin: str = ""
    code: str = ""


def query_pieces(q: str, table: dict[str, tuple[str, ...]] | None = None) -> list[Piece]:
    """The pieces a query is matched by (all of them must match)."""
    q = q.strip()
    if not q:
        return []
    if q.isascii():
        return [_latin(q)]
    table = synonyms() if table is None else table
    pieces: list[Piece] = []
    for term in q.split():
        pieces += [_latin(term)] if term.isascii() else _split(term, table)
    return pieces


def _latin(text: str) -> Piece:
    key = text.replace(" ", "").lower() if is_pinyin_query(text) else ""
    return Piece(words=(text,), pinyin=key, code=text)


def _split(term: str, table: dict[str, tuple[str, ...]]) -> list[Piece]:
    """`医保报销` → [医保 (医疗保障, 医疗保险), 报销 (结算)]: the longest synonyms first, the text between as is."""
    if not table:
        return [Piece(words=(term,))]
    pattern = _terms_pattern(tuple(table))
    pieces: list[Piece] = []
    position = 0
    for match in pattern.finditer(term):
        if match.start() > position:
            pieces.append(Piece(words=(term[position : match.start()],)))
        pieces.append(Piece(words=table[match.group()][:MAX_WORDS]))
        position = match.end()
    if position < len(term):
        pieces.append(Piece(words=(term[position:],)))
    return pieces


def item_filter(q: str, table: dict[str, tuple[str, ...]] | None = None) -> Q:
    """The filter on Item for a search query."""
    match = Q()
    for piece in query_pieces(q, table):
        match &= _piece_filter(piece)
    return match


def _piece_filter(piece: Piece) -> Q:
    functions = {label: code for code, label in DepartmentFunction.choices}
    found = Q()
    for word in piece.words:
        found |= Q(name__icontains=word)
        if word in functions:
            found |= Q(department_function=functions[word])
        if word in Theme.values:
            found |= Q(theme=word)
    if piece.code:
        found |= Q(code__icontains=piece.code)
    if piece.pinyin:
        found |= Q(name_initials__contains=piece.pinyin) | Q(name_pinyin__contains=piece.pinyin)
    return found
