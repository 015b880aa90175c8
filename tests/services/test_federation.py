"""Separate node processes on their own PostgreSQL databases, talking over RabbitMQ — and the faults
they must survive: a node killed with SIGKILL mid-batch, and the broker stopped while cases are
submitted. Nothing is lost and nothing is applied twice."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import psycopg
import pytest

from tongban import federation
from tongban.federation import POSTGRES, login, open_and_submit

pytestmark = pytest.mark.services
BATCH = 12


def _rows(node: federation.Node, sql: str) -> list[tuple]:
    with psycopg.connect(f"{POSTGRES}/{node.database}") as connection:
        return connection.execute(sql).fetchall()


def _wait(predicate, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{timeout:.0f} 秒内未达到：{what}")


@pytest.fixture(scope="module")
def nodes():
    planned = federation.plan(("000000", "330000", "520000"), base_port=8200, prefix="tongban_fault")
    with federation.federation(planned) as running:
        yield running


def _received_at_owner(owner: federation.Node) -> int:
    return _rows(owner, "SELECT count(*) FROM cases_case WHERE node = '520000' AND status = 'received'")[0][0]


def _assert_applied_once(owner: federation.Node, expected: int) -> None:
    duplicates = _rows(
        owner,
        "SELECT c.case_no, count(a.id) FROM cases_case c JOIN cases_caseaction a ON a.case_id = c.id "
        "WHERE c.node = '520000' GROUP BY c.case_no HAVING count(a.id) <> 1",
    )
    assert duplicates == []
    inbox = _rows(owner, "SELECT status, count(*) FROM exchange_inboxmessage WHERE node = '520000' GROUP BY status")
    assert dict(inbox) == {"applied": expected}


PHONE = re.compile(r"^1[3-9]\d{9}$")


def _personal_values(running: dict[str, federation.Node]) -> set[str]:
    """Every name, ID number and phone number the stories put into any node's cases."""
    values: set[str] = set()
    for node in running.values():
        cases = _rows(node, "SELECT applicant_name, applicant_id_number, form_data FROM cases_case")
        for name, id_number, form in cases:
            values |= {name, id_number}
            values |= {str(v) for v in (form or {}).values() if isinstance(v, str) and PHONE.match(v)}
        values |= {v for row in _rows(node, "SELECT name, id_number FROM cases_caseparty") for v in row}
    return {v for v in values if v and len(v) >= 2}


def _assert_no_personal_data_in_the_logs(running: dict[str, federation.Node]) -> None:
    """The JSON lines of every role of every node, the whole run long: a line per request and per
    message, and not one name, ID number or phone number among them."""
    personal = _personal_values(running)
    assert any(len(v) == 18 for v in personal) and any(PHONE.match(v) for v in personal)
    lines = 0
    for node in running.values():
        text = (node.data_dir / "node.log").read_text(encoding="utf-8", errors="replace")
        entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        lines += len(entries)
        assert any(e.get("event") == "request" and e.get("request_id") for e in entries), node.code
        leaked = sorted(v for v in personal if v in text)
        assert not leaked, f"{node.code} 的日志含个人信息：{[v[:1] + '…' for v in leaked]}"
    assert any(
        e.get("event") == "message" and e.get("message_id") and e.get("case_no")
        for node in running.values()
        for e in (json.loads(x) for x in (node.data_dir / "node.log").read_text().splitlines() if x.startswith("{"))
    )
    assert lines > 100


def _assert_one_identity_across_the_nodes(running: dict[str, federation.Node]) -> None:
    """Nothing was loaded into a provincial node by hand: every account there is a replica of the hub's
    built from its signed facts, without a phone number or a password; a password change and a logout at
    the hub reach the node well within the configured age of its facts."""
    identity = federation.run_identity(running)
    assert identity["me"]["name"] == "郑垂禄" and identity["me"]["node"] == "330000"
    assert identity["refused_elsewhere"][0] == 403
    assert identity["refused_elsewhere"][1]["code"] == "token_wrong_audience"
    assert identity["after_password"][1]["code"] == "token_revoked"
    assert identity["after_logout"][1]["code"] == "token_revoked"
    assert identity["password_seconds"] < 60 and identity["logout_seconds"] < 60
    for code, node in running.items():
        if code == "000000":
            continue
        accounts = _rows(node, "SELECT home_node, phone, password LIKE '!%' FROM identity_account")
        assert accounts, code
        assert {(home, phone, unusable) for home, phone, unusable in accounts} == {("000000", "", True)}, code
    replicas = _rows(running["000000"], "SELECT count(DISTINCT node) FROM identity_accountreplica")
    assert replicas[0][0] >= 10


def test_the_three_modes_run_across_separate_node_processes():
    planned = federation.plan(base_port=8300, prefix="tongban_modes")
    with federation.federation(planned) as running:
        cases = {mode: story(running) for mode, story in federation.STORIES.items()}
        assert {case["status"] for case in cases.values()} == {"delivered"}
        delivered = [case["case_no"] for case in cases.values()]
        # The hub's own process keeps a summary of each, reported by the node that holds the case.
        hub = running["000000"]
        listed = "', '".join(delivered)
        query = f"SELECT case_no, status FROM cases_hubcasesummary WHERE case_no IN ('{listed}')"
        expected = sorted((case_no, "delivered") for case_no in delivered)
        _wait(lambda: sorted(_rows(hub, query)) == expected, what="国家平台收到办件概况")
        summaries = login(hub, hub, "hub-supervisor").ok("GET", "/case-summaries?status=delivered")["items"]
        assert {c["case_no"] for c in summaries} == set(delivered)
        # 樊女士's 营业执照, issued by 西宁, verifies at the 黑龙江 node through the hub's directory.
        [issued] = [a["data"]["licences"][0] for a in cases["异地代收代办"]["timeline"] if a["data"].get("licences")]
        heilongjiang = login(hub, running["230000"], "fan")
        path = f"/licenses/{issued['identifier']}/verify"
        _wait(lambda: heilongjiang.call("GET", path)[0] == 200, what="黑龙江节点可核验营业执照")
        answer = heilongjiang.ok("GET", path)
        assert (answer["result"], answer["source"], answer["issuer_node"]) == ("valid", "directory", "630000")
        # 王杰 and 刘燕's 结婚证, issued in 南京: 山西 and 福建 verify it, and both find it in their wallets.
        marriage = federation.run_marriage(running)
        assert {code: (v["result"], v["source"]) for code, v in marriage["verdicts"].items()} == {
            "140000": ("valid", "directory"),
            "350000": ("valid", "directory"),
        }
        assert marriage["wallets"] == {"wangjie": [marriage["identifier"]], "liuyan": [marriage["identifier"]]}
        assert marriage["read"] == {"wangjie": ["王杰", "刘燕"], "liuyan": ["王杰", "刘燕"]}
        # 赵宇's 不动产权证书, kept by 河北, stands in for the paper in his 北京 housing-fund case, and 河北
        # logs the use where he sees it.
        case = federation.run_licence_use(running)
        [used] = case["licence_uses"]
        assert (used["status"], used["issuer_node"], used["annotation"]["JZJZZZ"]) == (
            "accepted",
            "130000",
            "保定市自然资源局",
        )
        assert [(u["case_no"], u["node"], u["status"]) for u in case["licence_log"]] == [
            (case["case_no"], "110000", "accepted")
        ]
        kept_in_beijing = "SELECT count(*) FROM licences_licence"
        assert _rows(running["110000"], kept_in_beijing) == [(0,)]  # only the annotated copy of the case
        _assert_one_identity_across_the_nodes(running)
        _assert_no_personal_data_in_the_logs(running)


def test_a_receiver_killed_mid_batch_loses_nothing_and_applies_nothing_twice(nodes):
    owner = nodes["520000"]
    before = _received_at_owner(owner)
    submitted = [open_and_submit(nodes, "online")[0] for _ in range(BATCH // 2)]
    federation.stop(owner, kill=True)  # SIGKILL while messages are in flight
    submitted += [open_and_submit(nodes, "online")[0] for _ in range(BATCH // 2)]
    federation.start(owner)
    federation.wait_ready(owner)
    _wait(lambda: _received_at_owner(owner) == before + BATCH, what=f"属地节点收到全部 {BATCH} 件")
    _assert_applied_once(owner, before + BATCH)
    reviewer = login(nodes["000000"], owner, "gz-yibao-reviewer")
    assert {c["case_no"] for c in reviewer.ok("GET", "/cases?queue=true&limit=200")["items"]} >= set(submitted)


def test_cases_submitted_while_the_broker_is_down_arrive_when_it_is_back(nodes):
    owner = nodes["520000"]
    before = _received_at_owner(owner)
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    try:
        submitted = [open_and_submit(nodes, "online")[0] for _ in range(BATCH // 2)]
        sender = nodes["330000"]
        # The sender's dispatcher tries, fails and backs off; the cases wait in its outbox.
        _wait(
            lambda: _rows(sender, "SELECT count(*) FROM exchange_outboxmessage WHERE status = 'failed'")[0][0] > 0,
            what="发件箱记录投递失败",
        )
        pending = _rows(sender, "SELECT count(*) FROM exchange_outboxmessage WHERE status <> 'sent'")[0][0]
        assert pending >= len(submitted)
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
    _wait(lambda: _received_at_owner(owner) == before + len(submitted), timeout=300, what="代理恢复后全部送达")
    _assert_applied_once(owner, before + len(submitted))
    sender_left = _rows(nodes["330000"], "SELECT count(*) FROM exchange_outboxmessage WHERE status <> 'sent'")
    assert sender_left[0][0] == 0


def _refusals(node: federation.Node) -> list[tuple]:
    return _rows(node, "SELECT data->>'code' FROM audit_auditentry WHERE code = 'tongban.exchange.refused' ORDER BY id")


def test_forged_and_tampered_messages_are_refused_and_reported_to_the_sender(nodes):
    import json as jsonlib

    import pika

    from tongban.exchange.rabbitmq import exchange_name

    owner, sender = nodes["520000"], nodes["330000"]
    case_no, _ = open_and_submit(nodes, "online")
    _wait(
        lambda: _rows(owner, f"SELECT count(*) FROM cases_case WHERE case_no = '{case_no}'")[0][0] == 1,
        what="正常办件送达",
    )
    original = _rows(
        owner,
        "SELECT type, from_node, node, case_no, correlation_id, schema_version, created_at, payload, "
        f"key_id, signature, user, represented_party, message_id FROM exchange_inboxmessage "
        f"WHERE case_no = '{case_no}'",
    )[0]
    envelope = {
        "type": original[0],
        "from_node": original[1],
        "to_node": original[2],
        "case_no": original[3],
        "correlation_id": str(original[4]),
        "schema_version": original[5],
        "created_at": original[6].isoformat(),
        "payload": original[7],
        "key_id": original[8],
        "signature": original[9],
        "user": original[10],
        "represented_party": original[11],
        "message_id": str(uuid.uuid4()),
    }
    tampered = dict(envelope, payload={**envelope["payload"], "case_no": "tampered"})
    forged = dict(envelope, message_id=str(uuid.uuid4()), signature=envelope["signature"][:-8] + "AAAAAAA=")
    connection = pika.BlockingConnection(pika.URLParameters(federation.AMQP))
    channel = connection.channel()
    for body in (tampered, forged):
        channel.basic_publish(
            exchange_name(owner.namespace),
            routing_key=owner.code,
            body=jsonlib.dumps(body, ensure_ascii=False).encode(),
        )
    connection.close()
    _wait(lambda: len(_refusals(owner)) >= 2, what="收件节点拒收伪造与篡改的消息")
    assert {code for (code,) in _refusals(owner)} == {"bad_signature"}
    # The claimed sender hears of it; it never sent these ids, so nothing of its own ends.
    _wait(
        lambda: _rows(sender, "SELECT count(*) FROM exchange_inboxmessage WHERE type = 'exchange.refusal'")[0][0] >= 2,
        what="发送节点收到拒收通知",
    )


def _restart(node: federation.Node, **env: str) -> None:
    federation.stop(node)
    node.extra_env = env
    federation.start(node)
    federation.wait_ready(node)


def test_a_receiver_down_past_the_timeout_shows_on_the_senders_case_and_can_be_retried(nodes):
    hub, sender, owner = nodes["000000"], nodes["330000"], nodes["520000"]
    _restart(sender, TONGBAN_TIMEOUT_CASE_CREATED="3")
    try:
        federation.stop(owner)
        case_no, told = open_and_submit(nodes, "online")
        time.sleep(4)  # the receiver stays down past the 3-second answer deadline
        federation.tongban(sender, "sweep", "--node", sender.code)
        applicant = login(hub, sender, told["user"])
        seen = applicant.ok("GET", f"/cases/{case_no}")
        created = next(e for e in seen["exchanges"] if e["type"] == "case.created")
        assert created["state"] == "timed_out"
        assert seen["notices"][-1]["code"] == "timeout"
        applicant.ok("POST", f"/cases/{case_no}/exchanges/{created['message_id']}/retry")
        federation.start(owner)
        federation.wait_ready(owner)

        def answered() -> bool:
            listed = applicant.ok("GET", f"/cases/{case_no}")["exchanges"]
            return any(e["type"] == "case.created" and e["state"] == "answered" for e in listed)

        _wait(answered, what="属地节点恢复后答复")
        assert _rows(owner, f"SELECT count(*) FROM cases_case WHERE case_no = '{case_no}'")[0][0] == 1
    finally:
        if owner.process is None:
            federation.start(owner)
            federation.wait_ready(owner)
        _restart(sender)


# Last: it revokes 330000's key, which the tests above still sign with.
def test_a_node_removed_from_the_trust_list_is_refused(nodes):
    hub, owner, sender = nodes["000000"], nodes["520000"], nodes["330000"]
    key_id = _rows(hub, "SELECT key_id FROM exchange_nodekey WHERE node = '330000' AND status = 'active'")[0][0]
    federation.tongban(hub, "keys", "revoke", key_id)
    federation.tongban(owner, "trust", "refresh")
    federation.stop(owner)  # restart so the running node drops its cached list at once
    federation.start(owner)
    federation.wait_ready(owner)
    case_no, _ = open_and_submit(nodes, "online")
    _wait(
        lambda: (
            _rows(sender, f"SELECT state, error_code FROM exchange_exchange WHERE case_no = '{case_no}'")
            == [("failed", "key_revoked")]
        ),
        what="发送节点的交换以 key_revoked 结束",
    )
    assert _rows(owner, f"SELECT count(*) FROM cases_case WHERE case_no = '{case_no}'")[0][0] == 0
