"""Authorization as a matrix: roles × nodes × actions, and who may see a case at all.

The case is 樊女士's 异地代收代办: accepted at the 尚志 window (黑龙江, node A = 230000), owned by
西宁 市场监管 (青海, node B = 630000). Every cell is checked through `authorize`, the one place where
case authorization is decided, and visibility through `visible_cases`.
"""

from __future__ import annotations

import pytest

from tongban.cases.lifecycle import ACTION_RULES
from tongban.cases.models import Case
from tongban.cases.policy import authorize, visible_cases
from tongban.errors import DomainError
from tongban.identity.actors import actor_for_account
from tongban.identity.models import Account, StaffBinding
from tongban.regions.queries import department_for

from .test_bad_input import _proxy_body
from support import DEMO_PASSWORD, Api, dispatch, ok

A, B = "230000", "630000"
ACTORS = {
    "applicant": ("fan", A),
    "clerk_A": ("hlj-shichang-clerk", A),
    "reviewer_A": ("hlj-shichang-reviewer", A),
    "supervisor_A": ("hlj-supervisor", A),
    "reviewer_B": ("qh-shichang-reviewer", B),
    "approver_B": ("qh-shichang-approver", B),
    "supervisor_B": ("qh-supervisor", B),
    "reviewer_C": ("sd-renshe-reviewer", "370000"),
    "citizen": ("wangjie", A),
}
ACTIONS = sorted(set(ACTION_RULES) - {"deem_accepted"})

EXPECTED = {
    "received": {("applicant", "withdraw"), ("clerk_A", "check_form")},
    "forwarded": {
        ("applicant", "withdraw"),
        ("reviewer_B", "accept"),
        ("reviewer_B", "refuse"),
        ("reviewer_B", "request_correction"),
    },
    "in_review": {
        ("applicant", "withdraw"),
        ("reviewer_B", "request_extension"),
        ("reviewer_B", "start_special"),
        ("approver_B", "approve_extension"),
        ("approver_B", "decide"),
    },
    "decided": {
        ("reviewer_B", "deliver"),
        ("approver_B", "deliver"),
        ("reviewer_B", "send_to_window"),
        ("approver_B", "send_to_window"),
    },
    # The result for pickup travels back to the window that took the case: only its clerk hands it over.
    "sent_to_window": {("clerk_A", "deliver")},
}
VISIBLE = {"applicant", "clerk_A", "reviewer_A", "supervisor_A", "reviewer_B", "approver_B", "supervisor_B"}


@pytest.fixture
def window_reviewer():
    """A reviewer in the same 市场监管 department as the window: it still gains no power to decide."""
    account = Account.objects.create_user("hlj-shichang-reviewer", password=DEMO_PASSWORD, display_name="尚志审查员")
    StaffBinding.objects.create(
        account=account,
        node_id=A,
        region_id="230183",
        department=department_for("230183", "shichang"),
        role="reviewer",
    )
    return account


def _actor(name: str):
    username, node = ACTORS[name]
    return actor_for_account(Account.objects.get(username=username), node)


def _permitted(case_no: str) -> set[tuple[str, str]]:
    allowed = set()
    for name in ACTORS:
        actor = _actor(name)
        case = Case.objects.filter(node=actor.node, case_no=case_no).first()
        if case is None:
            continue
        for action in ACTIONS:
            try:
                authorize(actor, case, action)
            except DomainError:
                continue
            allowed.add((name, action))
    return allowed


def test_matrix_over_roles_nodes_and_actions(window_reviewer):
    clerk = Api("hlj-shichang-clerk", node=A)
    case_no = ok(clerk.post("/cases", _proxy_body(username="fan")), 201)["case_no"]
    for code in ("application", "agent_id_card", "authorisation"):
        ok(clerk.upload(case_no, code), 201)
    ok(clerk.act(case_no, "submit"))
    dispatch()
    assert _permitted(case_no) == EXPECTED["received"]

    ok(clerk.act(case_no, "check_form", identity_verified=True, form_complete=True))
    ok(clerk.act(case_no, "forward", waybill={"carrier": "EMS", "number": "1"}))
    dispatch()
    assert _permitted(case_no) == EXPECTED["forwarded"]

    reviewer = Api("qh-shichang-reviewer", node=B)
    ok(reviewer.act(case_no, "accept"))
    ok(reviewer.act(case_no, "start_review"))
    dispatch()
    assert _permitted(case_no) == EXPECTED["in_review"]

    ok(Api("qh-shichang-approver", node=B).act(case_no, "decide", outcome="approve"))
    dispatch()
    assert _permitted(case_no) == EXPECTED["decided"]

    ok(reviewer.act(case_no, "send_to_window", waybill={"carrier": "EMS", "number": "2"}))
    dispatch()
    assert _permitted(case_no) == EXPECTED["sent_to_window"]

    # Visibility: at each actor's own node.
    seen = {name for name in ACTORS if visible_cases(_actor(name)).filter(case_no=case_no).exists()}
    assert seen == VISIBLE


def test_transition_table_agrees_with_the_state_machine():
    from statemachine.exceptions import TransitionNotAllowed

    from tongban.cases.lifecycle import ACTION_LABELS, TRANSITIONS, CaseLifecycle

    for state in CaseLifecycle.states:
        for action in ACTION_LABELS:
            machine = CaseLifecycle(start_value=state.value)
            try:
                machine.send(action)
            except TransitionNotAllowed:
                assert (state.value, action) not in TRANSITIONS
            else:
                assert TRANSITIONS[(state.value, action)] == machine.current_state_value
