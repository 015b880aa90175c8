"""The envelope every cross-node message travels in, and its canonical encoding.

The sending node signs the canonical encoding (UTF-8 JSON of every field but the signature, keys
sorted by code point, no insignificant whitespace) with its SM2 key; `key_id` names the key in the
trust list. Only values another implementation can encode the same way, and that survive storage
unchanged (PostgreSQL's jsonb rewrites 1e+16 as an integer and -0.0 as 0.0, and cannot hold U+0000),
may travel: `check_encodable` enforces that at send and on arrival. See docs/protocol.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from tongban.errors import DomainError

SCHEMA_VERSION = 1
MAX_INT_DIGITS = 4300  # Python's own default limit for converting integers to and from text
FLOAT_LIMIT = 1e16  # floats at or above it would need a positive exponent, which jsonb turns into an integer
_INT_LIMIT = 10**MAX_INT_DIGITS
_SURROGATE = re.compile(r"[\ud800-\udfff]")
UNSIGNED_FIELDS = ("signature",)
# The lengths the inbox stores: a longer value is not an envelope of this protocol.
_TEXT_LIMITS = {
    "type": 48,
    "from_node": 6,
    "to_node": 6,
    "case_no": 32,
    "user": 150,
    "represented_party": 150,
    "key_id": 64,
}
_TEXT_FIELDS = (
    "type",
    "from_node",
    "to_node",
    "created_at",
    "case_no",
    "message_id",
    "correlation_id",
    "user",
    "represented_party",
    "key_id",
    "signature",
)


class NotEncodable(DomainError, ValueError):
    """A value the canonical encoding does not carry. A DomainError for the sender (nothing is written);
    a ValueError for a receiver, to which such an envelope is malformed."""

    status = 422

    def __init__(self, path: str, problem: str) -> None:
        detail = f"消息内容不符合节点间交换协议的取值规则：{path} {problem}"
        super().__init__("message_not_encodable", detail, path=path)


def check_encodable(value: Any, path: str = "payload") -> None:
    """Raise NotEncodable for anything outside the protocol's data model (docs/protocol.md#values)."""
    try:
        _check(value)
    except _Bad as bad:
        raise NotEncodable(path + "".join(reversed(bad.where)), bad.problem) from None


class _Bad(Exception):
    """A value outside the data model; `where` is filled in on the way out, so the walk builds no paths."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.where: list[str] = []


def _check(value: Any) -> None:
    # Strings and small integers, the common leaves, are checked inline: this runs at every send and
    # every verification, over snapshots of a few hundred values.
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Bad(f"的键 {key!r} 不是字符串。")
            try:
                if "\x00" in key or not key.isascii():
                    _check_text(key)
                kind = type(item)
                if kind is str:
                    if "\x00" in item or not item.isascii():
                        _check_text(item)
                elif kind is not int and kind is not bool and item is not None:
                    _check(item)
                elif kind is int and not -_INT_LIMIT < item < _INT_LIMIT:
                    raise _Bad(f"整数超过 {MAX_INT_DIGITS} 位。")
            except _Bad as bad:
                bad.where.append(f".{key}")
                raise
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            try:
                _check(item)
            except _Bad as bad:
                bad.where.append(f"[{index}]")
                raise
    elif isinstance(value, str):
        _check_text(value)
    elif value is None or isinstance(value, bool):  # before int: True is an int to Python, written `true`
        return
    elif isinstance(value, int):
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise _Bad(f"整数超过 {MAX_INT_DIGITS} 位。")
    elif isinstance(value, float):
        _check_float(value)
    else:
        raise _Bad(f"不是 JSON 值（{type(value).__name__}）。")


def _check_float(value: float) -> None:
    if not math.isfinite(value):
        raise _Bad("不是有限数（NaN 或 Infinity 不能传输）。")
    if value == 0 and math.copysign(1.0, value) < 0:
        raise _Bad("是负零（-0.0），请写作 0.0。")
    if abs(value) >= FLOAT_LIMIT:
        raise _Bad("是绝对值不小于 10^16 的浮点数，请改用整数。")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _Bad("含有字符 U+0000。")
    if not text.isascii() and _SURROGATE.search(text):  # isascii is free: Base64 blobs skip the scan
        raise _Bad("含有不成对的代理码位（不是合法的 Unicode 字符）。")


_CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00")


@dataclass(frozen=True)
class Envelope:
    type: str
    from_node: str
    to_node: str
    payload: dict[str, Any]
    created_at: dt.datetime
    case_no: str = ""
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    correlation_id: uuid.UUID | None = None
    schema_version: int = SCHEMA_VERSION
    user: str = ""  # the person acting (X-Road UserId)
    represented_party: str = ""  # the party a window acts for in 异地代收代办 (X-Road Represented-Party)
    key_id: str = ""  # the sender's key in the trust list
    signature: str = ""  # base64 DER SM2 signature over canonical_bytes

    def __post_init__(self) -> None:
        if self.correlation_id is None:
            # A conversation starts with its first message.
            object.__setattr__(self, "correlation_id", self.message_id)

    def to_dict(self) -> dict[str, Any]:
        # Spelled out rather than dataclasses.asdict, which deep-copies the payload: this runs twice a message.
        return {
            "type": self.type,
            "from_node": self.from_node,
            "to_node": self.to_node,
            "payload": self.payload,
            # UTC, so the bytes are the same whichever zone the sender's clock or database hands back.
            "created_at": self.created_at.astimezone(dt.UTC).isoformat(),
            "case_no": self.case_no,
            "message_id": str(self.message_id),
            "correlation_id": str(self.correlation_id),
            "schema_version": self.schema_version,
            "user": self.user,
            "represented_party": self.represented_party,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        """The envelope as received; ValueError for anything that is not one (wrong shape or types, a
        time without its zone), so a receiver can refuse it before it touches the database."""
        if not isinstance(data, dict):
            raise ValueError("an envelope is a JSON object")
        for name in _TEXT_FIELDS:
            if not isinstance(data.get(name, ""), str):
                raise ValueError(f"{name} must be a string")
        if not isinstance(data.get("payload"), dict):
            raise ValueError("payload must be an object")
        for name, limit in _TEXT_LIMITS.items():
            if len(data.get(name, "")) > limit:
                raise ValueError(f"{name} is longer than {limit} characters")
        schema_version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(schema_version, int) or isinstance(schema_version, bool) or not 0 < schema_version < 2**15:
            raise ValueError("schema_version must be a positive integer")
        try:
            created_at = _canonical_time(data["created_at"])
            message_id, correlation_id = _canonical_uuid(data["message_id"]), _canonical_uuid(data["correlation_id"])
            type_, from_node, to_node, payload = data["type"], data["from_node"], data["to_node"], data["payload"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an envelope: {exc}") from None
        # What the receiver re-encodes must be what the sender could have signed (and can store).
        check_encodable({k: v for k, v in data.items() if k in _TEXT_FIELDS or k == "payload"}, path="envelope")
        return cls(
            type=type_,
            from_node=from_node,
            to_node=to_node,
            payload=payload,
            created_at=created_at,
            case_no=data.get("case_no", ""),
            message_id=message_id,
            correlation_id=correlation_id,
            schema_version=schema_version,
            user=data.get("user", ""),
            represented_party=data.get("represented_party", ""),
            key_id=data.get("key_id", ""),
            signature=data.get("signature", ""),
        )

    def signed(self, key_id: str, signature: str) -> Envelope:
        return replace(self, key_id=key_id, signature=signature)


def _canonical_time(text: str) -> dt.datetime:
    """created_at exactly as senders must write it: UTC, `+00:00`, six fraction digits or none."""
    if not _CANONICAL_TIME.fullmatch(text):
        raise ValueError("created_at must be written YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00 (UTC)")
    moment = dt.datetime.fromisoformat(text)
    if moment.isoformat() != text:  # .000000 is written without its fraction
        raise ValueError("created_at must leave out a zero fraction of a second")
    return moment


def _canonical_uuid(text: str) -> uuid.UUID:
    value = uuid.UUID(text)
    if str(value) != text:
        raise ValueError("a message id must be a lowercase hyphenated UUID")
    return value


def canonical_bytes(envelope: Envelope) -> bytes:
    """What the signature covers: every field but the signature itself. NotEncodable for a value the
    protocol does not carry."""
    return _encode({k: v for k, v in envelope.to_dict().items() if k not in UNSIGNED_FIELDS})


def wire_bytes(envelope: Envelope) -> bytes:
    """The envelope on the wire: the canonical fields plus the signature."""
    return _encode(envelope.to_dict())


def _encode(data: dict[str, Any]) -> bytes:
    return canonical_json(data, path="envelope")


def canonical_json(data: dict[str, Any], *, path: str) -> bytes:
    """The protocol's canonical encoding (docs/protocol.md), also what a licence's signature covers."""
    # Python compares str by code point, so sort_keys orders keys as docs/protocol.md requires.
    check_encodable(data, path=path)
    return json.dumps(data, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")).encode()
