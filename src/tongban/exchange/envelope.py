"""The envelope every cross-node message travels in, and its canonical encoding.

The sending node signs the canonical encoding (UTF-8 JSON of every field but the signature, keys
sorted, no insignificant whitespace) with its SM2 key; `key_id` names the key in the trust list.
See docs/protocol.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

SCHEMA_VERSION = 1
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
            created_at = dt.datetime.fromisoformat(data["created_at"])
            message_id, correlation_id = uuid.UUID(data["message_id"]), uuid.UUID(data["correlation_id"])
            type_, from_node, to_node, payload = data["type"], data["from_node"], data["to_node"], data["payload"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an envelope: {exc}") from None
        if created_at.tzinfo is None:
            raise ValueError("created_at must carry its time zone")
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


def canonical_bytes(envelope: Envelope) -> bytes:
    """What the signature covers: every field but the signature itself."""
    data = {k: v for k, v in envelope.to_dict().items() if k not in UNSIGNED_FIELDS}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def wire_bytes(envelope: Envelope) -> bytes:
    """The envelope on the wire: the canonical fields plus the signature."""
    return json.dumps(envelope.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
