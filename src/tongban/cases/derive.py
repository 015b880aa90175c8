"""Derive a case's status, holder, deadlines and warnings from its action log.

`derive` is a pure function of the actions, the frozen item version and today's date; the
fields it returns are cached on the Case row and a test re-derives them to check the cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from tongban.cases.lifecycle import next_status
from tongban.clock import CHINA_TZ
from tongban.worktime.calendar import Due, add_working_days, deadline, warning_level, working_days_between

ACCEPTANCE_WORKING_DAYS = 5  # 行政许可法 §32


@dataclass
class ActionRecord:
    """The part of an action that derivation needs (a CaseAction row or a replicated one)."""

    seq: int
    name: str
    at: dt.datetime
    node: str
    data: dict[str, Any]


@dataclass
class Derived:
    status: str = "draft"
    processing_node: str = ""
    processing_department_id: int | None = None
    received_at: dt.datetime | None = None
    owner_received_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    outcome: str = ""
    acceptance_due: dt.date | None = None
    promised_due: dt.date | None = None
    legal_due: dt.date | None = None
    due_provisional: bool = False
    paused_working_days: int = 0
    extension_working_days: int = 0
    pending_extension: int = 0
    correction_notified: bool = False
    warning: str = ""
    current_leg: int | None = None
    legs_state: list[dict[str, Any]] = field(default_factory=list)
    special_since: dt.datetime | None = None


def local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA_TZ).date()


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(CHINA_TZ).isoformat()


def derive(
    *,
    mode: str,
    actions: list[ActionRecord],
    limits: dict[str, Any],
    owner: tuple[str, int],
    window: tuple[str, int | None],
    legs_plan: list[dict[str, Any]],
    today: dt.date,
) -> Derived:
    """Replay `actions` in order. `mode` is the case's flow (cases.lifecycle.flow_of); `owner` and
    `window` are (node, department id) pairs."""
    d = Derived(legs_state=[{**leg} for leg in legs_plan])
    _set_initial_holder(d, mode, owner, window)
    paused_periods: list[tuple[dt.date, dt.date | None]] = []
    for action in actions:
        d.status = next_status(d.status, action.name)
        _apply(d, action, mode, owner, window, paused_periods)
    d.paused_working_days = sum(working_days_between(start, end or today) for start, end in paused_periods)
    _compute_deadlines(d, limits, today)
    return d


def _set_initial_holder(d: Derived, mode: str, owner: tuple[str, int], window: tuple[str, int | None]) -> None:
    # A draft exists only where it was opened: that node holds it until it is submitted.
    d.processing_node = window[0]
    d.processing_department_id = window[1] if window[1] is not None else owner[1]


def _hand_over_on_submit(d: Derived, mode: str, owner: tuple[str, int]) -> None:
    if mode == "multi_place" and d.legs_state:
        d.processing_node = d.legs_state[0]["node"]
        d.processing_department_id = d.legs_state[0]["department_id"]
    elif mode != "proxy":  # 代收代办 stays at the window until it is forwarded
        d.processing_node, d.processing_department_id = owner


def _apply(
    d: Derived,
    action: ActionRecord,
    mode: str,
    owner: tuple[str, int],
    window: tuple[str, int | None],
    paused: list[tuple[dt.date, dt.date | None]],
) -> None:
    name, at = action.name, action.at
    if name == "submit":
        d.received_at = at
        _hand_over_on_submit(d, mode, owner)
        if mode != "proxy":
            d.owner_received_at = at
    elif name == "forward":
        d.processing_node, d.processing_department_id = owner
        d.owner_received_at = at
    elif name == "accept" or name == "complete_correction":
        d.accepted_at = at
        _start_first_leg(d, at)
    elif name == "deem_accepted":
        # §32: no decision and no 补正 notice within 5 working days → accepted from receipt.
        d.accepted_at = d.owner_received_at
        _start_first_leg(d, d.owner_received_at or at)
    elif name == "request_correction":
        d.correction_notified = True
    elif name == "complete_leg":
        _advance_leg(d, at)
    elif name == "start_special":
        paused.append((local_date(at), None))
        d.special_since = at
    elif name == "end_special":
        start, _ = paused.pop()
        paused.append((start, local_date(at)))
        d.special_since = None
    elif name == "request_extension":
        d.pending_extension = int(action.data.get("working_days", 10))
    elif name == "approve_extension":
        d.extension_working_days += d.pending_extension
        d.pending_extension = 0
    elif name == "withdraw" and d.special_since is not None:
        start, _ = paused.pop()  # the clock stops for good: close the pause where it ended
        paused.append((start, local_date(at)))
        d.special_since = None
    elif name == "decide_on_the_spot":
        d.accepted_at = d.decided_at = at
        d.outcome = str(action.data.get("outcome", ""))
    elif name == "send_to_window":
        # The window that took the case hands the result over: it holds the case again.
        d.processing_node, d.processing_department_id = window[0], window[1]
    elif name == "decide":
        d.decided_at = at
        d.outcome = str(action.data.get("outcome", ""))
        if d.current_leg is not None:
            d.legs_state[d.current_leg]["completed_at"] = _stamp(at)
            d.current_leg = None


def _start_first_leg(d: Derived, at: dt.datetime) -> None:
    if d.legs_state:
        d.current_leg = 0
        d.legs_state[0]["started_at"] = _stamp(at)


def _advance_leg(d: Derived, at: dt.datetime) -> None:
    index = d.current_leg or 0
    d.legs_state[index]["completed_at"] = _stamp(at)
    d.current_leg = index + 1
    leg = d.legs_state[d.current_leg]
    leg["started_at"] = _stamp(at)
    d.processing_node = leg["node"]
    d.processing_department_id = leg["department_id"]


def _compute_deadlines(d: Derived, limits: dict[str, Any], today: dt.date) -> None:
    dues: list[Due] = []
    if d.owner_received_at is not None:
        due = add_working_days(local_date(d.owner_received_at), ACCEPTANCE_WORKING_DAYS)
        d.acceptance_due = due.date
        if d.accepted_at is None:  # once accepted, the acceptance deadline no longer matters
            dues.append(due)
    if d.accepted_at is not None:
        start = local_date(d.accepted_at)
        pause, extension = d.paused_working_days, d.extension_working_days
        promised = deadline(
            start,
            limits["promised"],
            limits["promised_unit"],
            paused_working_days=pause,
            extension_working_days=extension,
        )
        legal = deadline(
            start, limits["legal"], limits["legal_unit"], paused_working_days=pause, extension_working_days=extension
        )
        d.promised_due, d.legal_due = promised.date, legal.date
        dues += [promised, legal]
    for leg in d.legs_state:
        if leg.get("started_at"):
            leg_due = add_working_days(local_date(dt.datetime.fromisoformat(leg["started_at"])), int(leg["limit"]))
            leg["due"] = leg_due.date.isoformat()
            leg["provisional"] = leg_due.provisional
            dues.append(leg_due)
    d.due_provisional = any(due.provisional for due in dues)
    d.warning = _warning(d, today)


def _warning(d: Derived, today: dt.date) -> str:
    if d.decided_at is not None or d.status in ("not_accepted", "withdrawn", "draft"):
        return ""
    yellow = settings.TONGBAN_YELLOW_WORKING_DAYS
    levels = []
    if d.promised_due is not None and d.special_since is None:
        levels.append(warning_level(d.promised_due, today, yellow))
    if d.current_leg is not None and d.legs_state[d.current_leg].get("due"):
        levels.append(warning_level(dt.date.fromisoformat(d.legs_state[d.current_leg]["due"]), today, yellow))
    if d.accepted_at is None and d.acceptance_due is not None and d.status != "correction":
        levels.append(warning_level(d.acceptance_due, today, yellow))
    if "red" in levels:
        return "red"
    return "yellow" if "yellow" in levels else ""
