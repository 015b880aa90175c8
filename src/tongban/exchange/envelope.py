"""The envelope every cross-node message travels in, and its canonical encoding.

The canonical encoding (UTF-8 JSON, keys sorted, no insignificant whitespace) is what a
signature will cover once messages are signed; keep it stable and documented in docs/protocol.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


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

    def __post_init__(self) -> None:
        if self.correlation_id is None:
            # A conversation starts with its first message.
            object.__setattr__(self, "correlation_id", self.message_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["message_id"] = str(self.message_id)
        data["correlation_id"] = str(self.correlation_id)
        data["created_at"] = self.created_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        return cls(
            type=data["type"],
            from_node=data["from_node"],
            to_node=data["to_node"],
            payload=data["payload"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            case_no=data.get("case_no", ""),
            message_id=uuid.UUID(data["message_id"]),
            correlation_id=uuid.UUID(data["correlation_id"]),
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )


def canonical_bytes(envelope: Envelope) -> bytes:
    return json.dumps(envelope.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
