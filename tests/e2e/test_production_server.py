"""The production server: probes, metrics, structured logs without personal data, and the process roles
of `tongban node` — supervised, restarted when killed, drained on SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.exchange import trust
from tongban.identity.validators import citizen_id_check_char
from tongban.regions.models import Node
from tongban.serve import logs, roles

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def keyed():
    trust.ensure_keys(list(Node.objects.filter(active=True).values_list("code", flat=True)))
    trust.invalidate()


def test_healthz_answers_without_touching_anything(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_readyz_names_every_check_and_is_ready_with_keys_and_a_trust_list(client, keyed):
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.json()
    assert [c["name"] for c in answer.json()["checks"]] == ["database", "migrations", "trust_list", "own_key"]
    assert all(c["ok"] for c in answer.json()["checks"])


def test_readyz_without_a_signing_key_is_503_with_retry_after_and_says_why(client):
    trust.invalidate()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    failing = {c["name"]: c["detail"] for c in answer.json()["checks"] if not c["ok"]}
    assert "own_key" in failing and "签名密钥" in failing["own_key"]


def test_readyz_checks_the_broker_where_rabbitmq_carries_messages(client, keyed, settings):
    settings.TONGBAN_TRANSPORT = "rabbitmq"
    settings.TONGBAN_AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens there
    from tongban.serve import health

    health._broker_checked = (float("-inf"), None)
    answer = client.get("/readyz")
    health._broker_checked = (float("-inf"), None)
    assert answer.status_code == 503
    broker = next(c for c in answer.json()["checks"] if c["name"] == "broker")
    assert not broker["ok"] and "消息代理不可达" in broker["detail"]


def test_metrics_count_requests_by_route_and_refusals_by_code(client):
    client.get("/api/v1/items/NO-SUCH-ITEM")
    text = client.get("/metrics").content.decode()
    assert 'tongban_http_requests_total{method="GET",route="api/v1/items/{code}",status="404"}' in text
    assert 'tongban_refusals_total{code="item_unknown",where="api"}' in text
    for name in ("tongban_outbox_messages", "tongban_inbox_lag_seconds", "tongban_exchanges", "tongban_verification"):
        assert name in text


def test_a_request_is_one_json_line_with_its_request_id_and_no_personal_data(client, caplog):
    id_number = "11010519491231002" + citizen_id_check_char("11010519491231002")
    with caplog.at_level(logging.INFO, logger="tongban.request"):
        answer = client.get(f"/api/v1/items?q={id_number}&phone=13812345678", HTTP_X_REQUEST_ID="req-42")
    assert answer["X-Request-ID"] == "req-42"
    (record,) = [r for r in caplog.records if r.name == "tongban.request"]
    line = logs.JsonLines().format(record)
    entry = json.loads(line)
    assert (entry["event"], entry["request_id"], entry["route"], entry["status"]) == (
        "request",
        "req-42",
        "api/v1/items",
        200,
    )
    assert id_number not in line and "13812345678" not in line


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client):
    answer = client.get("/healthz", HTTP_X_REQUEST_ID="a b\nforged")
    assert answer["X-Request-ID"] != "a b\nforged" and len(answer["X-Request-ID"]) == 32


@given(
    st.from_regex(r"[1-6]\d{5}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True),
    st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
)
def test_the_scrubber_masks_id_numbers_and_phones_wherever_they_appear(body, phone):
    id_number = body + citizen_id_check_char(body)
    text = f'duplicate key value (id_number)=({id_number}) phone "{phone}";'
    scrubbed = logs.scrub(text)
    assert id_number not in scrubbed and phone not in scrubbed
    assert id_number[:6] in scrubbed and phone[-4:] in scrubbed


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_supervisor_restarts_a_dead_role_after_a_growing_pause():
    clock = FakeClock()
    supervisor = roles.Supervisor(
        roles.NodeOptions(node="", graceful_timeout=1),
        ["dispatch"],
        lambda role: [sys.executable, "-c", "import time; time.sleep(60)"],
        dict(os.environ),
        clock=clock,
    )
    child = roles.Child("dispatch")
    supervisor.children["dispatch"] = child
    supervisor._start(child)
    try:
        first = child.process
        first.kill()
        first.wait()
        supervisor._tend(child)  # seen dead: restart after 1 s
        assert child.process is None and child.due == clock.now + 1
        supervisor._tend(child)
        assert child.process is None
        clock.now += 1
        supervisor._tend(child)
        assert child.process is not None and child.process.pid != first.pid and child.restarts == 1
        child.process.kill()
        child.process.wait()
        supervisor._tend(child)  # died again at once: the pause doubles
        assert child.due == clock.now + 2
    finally:
        supervisor.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):  # not listening yet
        return 0, {}, {}


def _text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def _until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)  # polling a real process, not waiting out a clock
    raise AssertionError(what)


def _children(pid: int) -> dict[str, int]:
    """role → pid of the supervisor's direct children."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == pid and b"--role" in argv:
            found[argv[argv.index(b"--role") + 1].decode()] = int(entry.name)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="需要 /proc")
def test_tongban_node_serves_through_gunicorn_restarts_a_killed_role_and_drains_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TONGBAN_", "PROMETHEUS"))}
    env |= {"TONGBAN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tongban.settings"}
    tongban = [sys.executable, "-m", "tongban.cli"]
    for step in (["migrate", "--noinput"], ["load_content"]):
        subprocess.run([*tongban, *step], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "node.log").open("wb")
    node = subprocess.Popen(
        [*tongban, "node", "--role", "all", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready = _until(lambda: _get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 60, "节点未就绪")
        assert ready
        status, headers, _ = _get(f"http://127.0.0.1:{port}/api/v1/regions")
        assert status == 200 and headers["Server"].startswith("gunicorn")
        # /metrics adds up every process of the node: the dispatch and sweep roles report their rounds.
        metrics = _until(lambda: (t := _text(f"http://127.0.0.1:{port}/metrics")) and 'role="sweep"' in t and t, 30, "")
        assert 'tongban_role_heartbeat_timestamp_seconds{role="dispatch"}' in metrics
        children = _until(lambda: (c := _children(node.pid)) and set(c) == {"web", "dispatch", "sweep"} and c, 30, "")
        os.kill(children["dispatch"], signal.SIGKILL)
        _until(lambda: _children(node.pid).get("dispatch") not in (None, children["dispatch"]), 30, "dispatch 未重启")
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=60) == 0
        assert not _children(node.pid)
    finally:
        if node.poll() is None:
            node.kill()
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "node.log").read_text().splitlines() if line.startswith("{")]
    assert any(e.get("event") == "request" and e.get("route") == "api/v1/regions" for e in lines)
    assert any(e.get("event") == "role_exited" and e.get("role_name") == "dispatch" for e in lines)


def test_the_dispatch_role_finishes_the_round_in_hand_on_sigterm_and_pauses_after_a_failure(monkeypatch):
    from tongban.exchange import dispatcher

    stopping = roles.Stopping()
    rounds: list[str] = []
    waits: list[float] = []

    def dispatch_once(node=None):
        rounds.append("round")
        if len(rounds) == 1:
            raise dispatcher.OperationalError("database went away")
        stopping.event.set()  # SIGTERM arrives while this round works: it still completes
        return dispatcher.DispatchStats(sent=1)

    monkeypatch.setattr(dispatcher, "dispatch_once", dispatch_once)
    monkeypatch.setattr(stopping, "wait", lambda seconds: waits.append(seconds) or stopping.is_set())
    roles.run_dispatch(roles.NodeOptions(node="", dispatch_interval=0.2), stopping)
    assert rounds == ["round", "round"] and waits == [roles.FAILURE_PAUSE]
