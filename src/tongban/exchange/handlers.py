"""Message handlers by type. A handler runs inside the transaction that marks the inbox row applied."""

from __future__ import annotations

from collections.abc import Callable

from tongban.exchange.envelope import Envelope

Handler = Callable[[Envelope], None]
_handlers: dict[str, Handler] = {}


class RetryLater(Exception):
    """The message cannot be applied yet (e.g. an earlier message of the same case has not arrived)."""


def handles(message_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if message_type in _handlers and _handlers[message_type] is not fn:
            raise ValueError(f"a handler for {message_type} is already registered")
        _handlers[message_type] = fn
        return fn

    return register


def handler_for(message_type: str) -> Handler | None:
    return _handlers.get(message_type)


def known_types() -> list[str]:
    return sorted(_handlers)
