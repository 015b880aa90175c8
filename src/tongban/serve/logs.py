"""Structured logs: one JSON object per line, one line per request and per message.

Every line names the node and the process role; a request line has the request id (the caller's
X-Request-ID, else a new one, echoed in the answer), the route pattern, status and duration; a message
line the message id, type, sender, receiver and case number. Personal data never goes in: routes are
patterns, not paths; query strings and bodies are not logged; and whatever text does reach a line (an
exception from the database, say) passes through a scrubber that masks anything shaped like a
citizen ID number, a credit code or a mobile number.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tongban.serve import metrics

request_log = logging.getLogger("tongban.request")

# Context every line carries; set once per process by `tongban node`.
ROLE_ENV = "TONGBAN_ROLE"
FIELDS = (
    "event",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "problem",
    "message_id",
    "message_type",
    "from_node",
    "to_node",
    "case_no",
    "outcome",
    "role_name",
    "pid",
    "exit_code",
)
_SHAPES = [
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])"), r"\1********\2"),  # GB 11643
    (re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6})[0-9A-HJ-NPQRTUWXY]{9}(?![0-9A-Z])"), r"\1*********"),
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),  # mobile numbers
]


def scrub(text: str) -> str:
    for shape, replacement in _SHAPES:
        text = shape.sub(replacement, text)
    return text


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from django.conf import settings

        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "node": settings.TONGBAN_NODE or "embedded",
            "role": os.environ.get(ROLE_ENV, "command"),
            "message": scrub(record.getMessage()),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value not in (None, ""):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    """Times each request, counts it by route for `/metrics`, and writes its log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get(REQUEST_ID_HEADER, "")
        request.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = _route(request)
        metrics.observe_request(request.method or "", route, response.status_code, seconds)
        problem = getattr(response, "problem_code", "")
        if problem:
            metrics.REFUSALS.labels(problem, "api").inc()
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        if route not in QUIET_ROUTES:
            request_log.info(
                "%s %s %s",
                request.method,
                route,
                response.status_code,
                extra={
                    "event": "request",
                    "request_id": request.request_id,  # type: ignore[attr-defined]
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "problem": problem,
                    "case_no": _case_no(request),
                },
            )
        return response


# Probes asked every few seconds would drown the log; they still count in the metrics.
QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})


def _route(request: HttpRequest) -> str:
    """The URL pattern that answered (`api/v1/cases/{case_no}`), or a fixed name for none."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    route = match.route or match.view_name or "unmatched"
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


_CASE_NO = re.compile(r"^\d{20}[0-9X]$")  # GB/T 39046-style: region, date, serial, check


def _case_no(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    value = str((match.kwargs if match else {}).get("case_no", ""))
    return value if _CASE_NO.match(value) else ""


def message_logged(
    outcome: str, *, message_id: str, message_type: str, from_node: str, to_node: str, case_no: str = ""
) -> None:
    """One line per message a node sends, takes or applies (and what became of it), and its count."""
    metrics.MESSAGES.labels(outcome).inc()
    logging.getLogger("tongban.message").info(
        "%s %s %s→%s",
        outcome,
        message_type,
        from_node,
        to_node,
        extra={
            "event": "message",
            "outcome": outcome,
            "message_id": message_id,
            "message_type": message_type,
            "from_node": from_node,
            "to_node": to_node,
            "case_no": case_no,
        },
    )
