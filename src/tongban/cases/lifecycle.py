"""The case lifecycle as a state machine, and who may take each action where.

States follow the statuses used by provincial platforms (已接件 1, 已受理 3, 不予受理 4, 补正 6,
部门办理 8, 特别程序 9/10, 办结 11). The machine answers "is this action possible now"; the
rules below answer "may this actor, at this node, take it".
"""

from __future__ import annotations

from dataclasses import dataclass

from statemachine import State, StateMachine

from tongban.errors import Conflict


class CaseLifecycle(StateMachine):
    draft = State("草稿", initial=True, value="draft")
    received = State("已接件", value="received")
    form_checked = State("已形式审查", value="form_checked")
    forwarded = State("已转报属地", value="forwarded")
    correction = State("待补正", value="correction")
    accepted = State("已受理", value="accepted")
    not_accepted = State("不予受理", value="not_accepted", final=True)
    in_review = State("审查中", value="in_review")
    special_procedure = State("特别程序", value="special_procedure")
    decided = State("已办结", value="decided")
    sent_to_window = State("结果已寄送受理窗口", value="sent_to_window")
    delivered = State("已送达", value="delivered", final=True)
    withdrawn = State("已撤回", value="withdrawn", final=True)

    submit = draft.to(received)
    check_form = received.to(form_checked)
    forward = form_checked.to(forwarded)
    accept = received.to(accepted) | forwarded.to(accepted)
    deem_accepted = received.to(accepted) | forwarded.to(accepted)
    refuse = received.to(not_accepted) | forwarded.to(not_accepted)
    request_correction = received.to(correction) | forwarded.to(correction)
    complete_correction = correction.to(accepted)
    start_review = accepted.to(in_review)
    complete_leg = in_review.to.itself()
    request_extension = in_review.to.itself()
    approve_extension = in_review.to.itself()
    start_special = in_review.to(special_procedure)
    end_special = special_procedure.to(in_review)
    decide = in_review.to(decided)
    # 即办件: accepted and decided in one step, on the spot.
    decide_on_the_spot = received.to(decided) | forwarded.to(decided)
    # 异地代收代办 with pickup at the window: the owner sends the result to the window, which hands it over.
    send_to_window = decided.to(sent_to_window)
    deliver = decided.to(delivered) | sent_to_window.to(delivered)
    withdraw = (
        draft.to(withdrawn)
        | received.to(withdrawn)
        | form_checked.to(withdrawn)
        | forwarded.to(withdrawn)
        | correction.to(withdrawn)
        | accepted.to(withdrawn)
        | in_review.to(withdrawn)
        | special_procedure.to(withdrawn)
    )


ACTION_LABELS: dict[str, str] = {
    "submit": "提交申请（接件）",
    "check_form": "形式审查与身份核验",
    "forward": "转报属地部门",
    "accept": "受理",
    "deem_accepted": "逾期视为受理",
    "refuse": "不予受理",
    "request_correction": "一次性告知补正",
    "complete_correction": "补正材料齐全",
    "start_review": "开始审查",
    "complete_leg": "完成联办环节",
    "request_extension": "申请延长办理期限",
    "approve_extension": "批准延长办理期限",
    "start_special": "进入特别程序",
    "end_special": "结束特别程序",
    "decide": "作出决定（办结）",
    "decide_on_the_spot": "当场受理并办结（即办件）",
    "send_to_window": "办理结果寄送受理窗口",
    "deliver": "送达办理结果",
    "withdraw": "撤回申请",
}


@dataclass(frozen=True)
class ActionRule:
    roles: frozenset[str]
    # Where the actor must stand: "holder" = the node and department now processing the case;
    # "window" = the submitting node and window department; "applicant" = the applicant themself.
    where: str
    modes: frozenset[str] | None = None
    needs_reason: bool = False


APPLICANT = "applicant"
SYSTEM = "system"
# A window case taken by the owning department's own window (a 南京 marriage office registering two
# non-local parties) is not 异地代收代办: nothing to forward, the owner decides at once.
OWNER_WINDOW = "owner_window"
FLOW_LABELS = {"online": "全程网办", "proxy": "异地代收代办", "multi_place": "多地联办", OWNER_WINDOW: "属地窗口受理"}


def flow_of(mode: str, window_department_id: int | None, owner_department_id: int | None) -> str:
    """How a case runs: its catalog mode, except a window case at the owner's own department."""
    if mode == "proxy" and window_department_id is not None and window_department_id == owner_department_id:
        return OWNER_WINDOW
    return mode


ACTION_RULES: dict[str, ActionRule] = {
    "submit": ActionRule(frozenset({APPLICANT, "window_clerk"}), "window"),
    "check_form": ActionRule(frozenset({"window_clerk"}), "window", modes=frozenset({"proxy"})),
    "forward": ActionRule(frozenset({"window_clerk"}), "window", modes=frozenset({"proxy"})),
    "accept": ActionRule(frozenset({"reviewer"}), "holder"),
    "deem_accepted": ActionRule(frozenset({SYSTEM}), "holder"),
    "refuse": ActionRule(frozenset({"reviewer"}), "holder", needs_reason=True),
    "request_correction": ActionRule(frozenset({"reviewer"}), "holder"),
    "complete_correction": ActionRule(frozenset({APPLICANT, "window_clerk"}), "applicant"),
    "start_review": ActionRule(frozenset({"reviewer"}), "holder"),
    "complete_leg": ActionRule(frozenset({"reviewer", "approver"}), "holder", modes=frozenset({"multi_place"})),
    "request_extension": ActionRule(frozenset({"reviewer"}), "holder", needs_reason=True),
    "approve_extension": ActionRule(frozenset({"approver"}), "holder"),
    "start_special": ActionRule(frozenset({"reviewer"}), "holder", needs_reason=True),
    "end_special": ActionRule(frozenset({"reviewer"}), "holder"),
    "decide": ActionRule(frozenset({"approver"}), "holder"),
    # Only a staff member who holds both the reviewer's and the approver's post (checked in policy).
    "decide_on_the_spot": ActionRule(
        frozenset({"approver"}), "holder", modes=frozenset({"online", "proxy", OWNER_WINDOW})
    ),
    "send_to_window": ActionRule(frozenset({"reviewer", "approver"}), "holder", modes=frozenset({"proxy"})),
    "deliver": ActionRule(frozenset({"window_clerk", "reviewer", "approver"}), "holder"),
    "withdraw": ActionRule(frozenset({APPLICANT}), "applicant", needs_reason=True),
}

# Actions that belong to the owner's substantive power: an accepting window in another province
# (异地代收代办) never gains them.
OWNER_POWERS = frozenset(
    {
        "accept",
        "refuse",
        "request_correction",
        "start_review",
        "complete_leg",
        "request_extension",
        "approve_extension",
        "start_special",
        "end_special",
        "decide",
        "decide_on_the_spot",
    }
)

STATUS_LABELS = {s.value: s.name for s in CaseLifecycle.states}
TERMINAL = frozenset({"not_accepted", "delivered", "withdrawn"})


def _transition_table() -> dict[tuple[str, str], str]:
    """(status, action) → next status, read once from the machine's definition.

    Replaying a case's history asks this for every action; instantiating the machine each time would
    dominate the cost of a write, while the answers are those of the machine itself.
    """
    table: dict[tuple[str, str], str] = {}
    for state in CaseLifecycle.states:
        for transition in state.transitions:
            for event in transition.events:
                table[(str(transition.source.value), str(event))] = str(transition.target.value)
    return table


TRANSITIONS = _transition_table()


def next_status(current: str, action: str) -> str:
    """The status after `action`, or Conflict if the lifecycle does not allow it now."""
    if action not in ACTION_LABELS:
        raise Conflict("action_unknown", f"未知的办件动作：{action}", status=422)
    target = TRANSITIONS.get((current, action))
    if target is None:
        label = STATUS_LABELS.get(current, current)
        raise Conflict(
            "action_not_allowed_in_state",
            f"办件当前状态为“{label}”，不能执行“{ACTION_LABELS[action]}”。",
        )
    return target


def possible_actions(current: str) -> list[str]:
    return [action for (status, action) in TRANSITIONS if status == current]
