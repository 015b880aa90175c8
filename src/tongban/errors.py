"""Domain errors: a stable machine code, a Chinese message and an HTTP status.

Every code is listed in `docs/api.md`; the API turns a DomainError into RFC 9457 problem details.
Raise inside the transaction that would have written: the rollback guarantees nothing is half-written.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status
        self.extra = extra


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Unauthorized(DomainError):
    status = 401
