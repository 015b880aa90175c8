"""`make federation`: the hub and ten provincial nodes as separate processes, each on its own
PostgreSQL database, exchanging messages over RabbitMQ — then the three modes across them.

    python -m tongban.federation            # bring up, run the three stories, tear down
    python -m tongban.federation --keep     # leave the nodes running (Ctrl+C stops them)

Node N listens on 127.0.0.1:(8100 + index); its data directory is var/tongban_fed/<node>.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[2]
NODES = ("000000", "330000", "520000", "230000", "630000", "370000", "110000", "130000", "320000", "140000", "350000")
POSTGRES = os.environ.get("TONGBAN_FEDERATION_POSTGRES", "postgres://postgres@127.0.0.1:5432")
AMQP = os.environ.get("TONGBAN_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PASSWORD = "tongban-demo-2026"
PDF = b"%PDF-1.4\nfederation\n"


@dataclass
class Node:
    code: str
    port: int
    data_dir: Path
    database: str
    namespace: str
    hub_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. shorter timeouts for a fault test
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/api/v1"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": f"{POSTGRES}/{self.database}",
            "TONGBAN_NODE": self.code,
            "TONGBAN_TRANSPORT": "rabbitmq",
            "TONGBAN_AMQP_URL": AMQP,
            "TONGBAN_AMQP_NAMESPACE": self.namespace,
            "TONGBAN_DATA_DIR": str(self.data_dir),
            "TONGBAN_DISPATCH": "manual",
            "TONGBAN_HUB_URL": self.hub_url,
            **self.extra_env,
        }


def plan(nodes: tuple[str, ...] = NODES, base_port: int = 8100, prefix: str = "tongban_fed") -> list[Node]:
    return [
        Node(
            code,
            base_port + i,
            ROOT / "var" / prefix / code,
            f"{prefix}_{code}",
            prefix,
            "" if code == "000000" else f"http://127.0.0.1:{base_port}",
        )
        for i, code in enumerate(nodes)
    ]


def tongban(node: Node, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args],
        env=node.env(),
        cwd=ROOT,
        check=check,
        capture_output=True,
        text=True,
    )


def prepare(nodes: list[Node]) -> None:
    """A fresh database and data folder per node with the content; the demo accounts at the hub only."""
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        for node in nodes:
            connection.execute(f'DROP DATABASE IF EXISTS "{node.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{node.database}"')
    _purge_queues(nodes)
    for node in nodes:
        node.data_dir.mkdir(parents=True, exist_ok=True)
        (node.data_dir / "node.log").unlink(missing_ok=True)  # each run's log is its own
    # Two at a time: the machine has two cores.
    for pair in (nodes[i : i + 2] for i in range(0, len(nodes), 2)):
        running = [
            subprocess.Popen(
                [sys.executable, "-c", _SETUP], env=n.env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            for n in pair
        ]
        for n, process in zip(pair, running, strict=True):
            out, _ = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"节点 {n.code} 初始化失败：\n{out.decode()[-2000:]}")
    _distribute_keys(nodes)


def _run(node: Node, script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _DJANGO + script, *args], env=node.env(), cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"节点 {node.code}：{done.stderr[-2000:]}")
    return done.stdout


def _distribute_keys(nodes: list[Node]) -> None:
    """The hub makes every node's key pair, publishes every node's address and signs the trust list; each
    node receives its private key and imports the list, pinning the hub's public key."""
    hub = next(n for n in nodes if n.code == "000000")
    signed = json.loads(_run(hub, _MAKE_KEYS, *[f"{n.code}={n.root}" for n in nodes]))
    listing = hub.data_dir.parent / "trust.json"
    listing.write_text(json.dumps(signed, ensure_ascii=False), encoding="utf-8")
    hub_pem = next(e["public_key"] for e in signed["document"]["entries"] if e["node"] == "000000")
    (hub.data_dir.parent / "hub.pem").write_text(hub_pem, encoding="utf-8")
    for node in nodes:
        if node is hub:
            continue
        target = node.data_dir / "keys" / node.code
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(hub.data_dir / "keys" / node.code, target)
        shutil.rmtree(hub.data_dir / "keys" / node.code)  # the private key lives at its node only
        _run(node, _IMPORT_LIST, str(listing), str(hub.data_dir.parent / "hub.pem"))


_DJANGO = """
import io, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
import django; django.setup()
"""
_MAKE_KEYS = """
from tongban.exchange import trust
for listed in sys.argv[1:]:
    code, root = listed.split("=", 1)
    trust.create_key(code)
    trust.set_address(code, root)
print(json.dumps(trust.export_signed(), ensure_ascii=False))
"""
_IMPORT_LIST = """
from pathlib import Path
from tongban.exchange import trust
trust.import_signed(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]).read_text())
"""


_SETUP = """
import io, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
import django; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("load_content", stdout=io.StringIO())
if os.environ["TONGBAN_NODE"] == "000000":  # accounts live at the hub; nodes build replicas on first use
    call_command("load_demo", stdout=io.StringIO())
"""


def _purge_queues(nodes: list[Node]) -> None:
    import pika

    from tongban.exchange.rabbitmq import declare_topology, queue_name

    connection = pika.BlockingConnection(pika.URLParameters(AMQP))
    channel = connection.channel()
    for node in nodes:
        declare_topology(channel, node.code, node.namespace)
        channel.queue_purge(queue_name(node.code, node.namespace))
    connection.close()


# Each node's web role: one gunicorn worker with eight threads is plenty for the stories, and eleven
# nodes of five processes each already share two cores.
WEB_WORKERS, WEB_THREADS = "1", "8"


def start(node: Node) -> None:
    """`tongban node --role all`: the node's web, dispatch, consume and sweep processes under one
    supervisor, in a process group of their own (so a kill takes all of them, as a crash would)."""
    log = open(node.data_dir / "node.log", "ab")  # noqa: SIM115  (kept open for the child's lifetime)
    command = [sys.executable, "-m", "tongban.cli", "node", "--role", "all", "--node", node.code]
    node.process = subprocess.Popen(
        [*command, "--port", str(node.port), "--workers", WEB_WORKERS, "--threads", WEB_THREADS],
        env=node.env(),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def readiness(node: Node) -> tuple[int, dict[str, Any]]:
    """The node's `/readyz`: its status code and named checks (0 and {} while it does not answer)."""
    try:
        with urllib.request.urlopen(f"{node.root}/readyz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return 0, {}


def wait_ready(node: Node, timeout: float = 90.0) -> None:
    """Until `/readyz` answers 200: database, migrations, broker, trust list and own key all checked."""
    deadline = time.monotonic() + timeout
    status, answer = 0, {}
    while time.monotonic() < deadline:
        if node.process is not None and node.process.poll() is not None:
            raise RuntimeError(f"节点 {node.code} 启动后退出，见 {node.data_dir / 'node.log'}")
        status, answer = readiness(node)
        if status == 200:
            return
        time.sleep(0.3)
    failing = [f"{c['name']}：{c['detail']}" for c in answer.get("checks", []) if not c.get("ok")]
    why = "；".join(failing) or "无应答"
    raise RuntimeError(f"节点 {node.code} 未能在 {timeout:.0f} 秒内就绪（{why}），见 {node.data_dir / 'node.log'}")


def stop(node: Node, kill: bool = False) -> None:
    """SIGTERM to the supervisor, which drains and stops every role; or SIGKILL to the whole group."""
    if node.process and node.process.poll() is None:
        if kill:
            os.killpg(node.process.pid, signal.SIGKILL)
        else:
            node.process.send_signal(signal.SIGTERM)
        node.process.wait(timeout=60)
    node.process = None


@contextmanager
def federation(nodes: list[Node]) -> Iterator[dict[str, Node]]:
    prepare(nodes)
    try:
        for node in nodes:
            start(node)
        for node in nodes:
            wait_ready(node)
        yield {node.code: node for node in nodes}
    finally:
        for node in nodes:
            stop(node)


# ---------------------------------------------------------------- a small HTTP client


class Client:
    def __init__(self, node: Node, token: str) -> None:
        self.node, self.token = node, token

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None, ctype: str = "application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.node.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", ctype)
        request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        got, answer = self.call(method, path, body)
        if got != status:
            raise AssertionError(f"{method} {self.node.code}{path} → {got}: {answer}")
        return answer

    def upload(self, case_no: str, code: str) -> None:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="material_code"\r\n\r\n{code}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{code}.pdf"\r\n'
                f"Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + PDF
            + code.encode()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        got, answer = self.call(
            "POST", f"/cases/{case_no}/materials", raw=body, ctype=f"multipart/form-data; boundary={boundary}"
        )
        if got != 201:
            raise AssertionError(f"upload {code} → {got}: {answer}")

    def act(self, case_no: str, action: str, **data: Any) -> dict[str, Any]:
        return self.ok("POST", f"/cases/{case_no}/actions", {"action": action, **data})

    def wait_for(self, case_no: str, status: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got, answer = self.call("GET", f"/cases/{case_no}")
            if got == 200 and (status is None or answer["status"] == status):
                return answer
            time.sleep(0.2)
        raise AssertionError(f"节点 {self.node.code} 在 {timeout:.0f} 秒内未看到办件 {case_no}（期望状态 {status}）")


def login(hub: Node, node: Node, username: str, password: str = PASSWORD, audience: list[str] | None = None) -> Client:
    """The hub issues the token; the node where the person acts accepts it."""
    asked: dict[str, Any] = {"username": username, "password": password}
    if audience is not None:
        asked["audience"] = audience
    request = urllib.request.Request(f"{hub.url}/auth/token", data=json.dumps(asked).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return Client(node, json.loads(response.read())["access_token"])


def _story(mode: str) -> dict[str, Any]:
    with open(ROOT / "content" / "demo" / "stories.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)[mode]


def open_and_submit(nodes: dict[str, Node], mode: str) -> tuple[str, dict[str, Any]]:
    told = _story(mode)
    submitter = login(nodes["000000"], nodes[told["node"]], told["user"])
    request = told["request"]
    if mode == "online":
        request["form"]["start_date"] = time.strftime("%Y-%m-%d")
    case_no = submitter.ok("POST", "/cases", request, status=201)["case_no"]
    for code in told["materials"]:
        submitter.upload(case_no, code)
    submitter.act(case_no, "submit")
    return case_no, told


def run_online(nodes: dict[str, Node]) -> dict[str, Any]:
    case_no, told = open_and_submit(nodes, "online")
    owner = nodes[told["owner_node"]]
    reviewer = login(nodes["000000"], owner, told["reviewer"])
    reviewer.wait_for(case_no, "received")
    reviewer.act(case_no, "accept")
    reviewer.act(case_no, "start_review")
    login(nodes["000000"], owner, told["approver"]).act(case_no, "decide", outcome="approve")
    reviewer.act(case_no, "deliver", method="online")
    return login(nodes["000000"], nodes[told["node"]], told["user"]).wait_for(case_no, "delivered")


def run_proxy(nodes: dict[str, Node]) -> dict[str, Any]:
    case_no, told = open_and_submit(nodes, "proxy")
    clerk = login(nodes["000000"], nodes[told["node"]], told["user"])
    clerk.act(case_no, "check_form", identity_verified=True, form_complete=True)
    clerk.act(case_no, "forward", waybill={"carrier": "中国邮政EMS", "number": "1187654321098"})
    owner = nodes[told["owner_node"]]
    reviewer = login(nodes["000000"], owner, told["reviewer"])
    reviewer.wait_for(case_no, "forwarded")
    reviewer.act(case_no, "accept")
    reviewer.act(case_no, "start_review")
    login(nodes["000000"], owner, told["approver"]).act(case_no, "decide", outcome="approve")
    reviewer.act(case_no, "deliver", method="mail", waybill={"carrier": "中国邮政EMS", "number": "9876543210"})
    return clerk.wait_for(case_no, "delivered")


def run_multi_place(nodes: dict[str, Node]) -> dict[str, Any]:
    case_no, told = open_and_submit(nodes, "multi_place")
    here = nodes[told["node"]]
    reviewer = login(nodes["000000"], here, told["reviewer"])
    for step in ("accept", "start_review", "complete_leg"):
        reviewer.act(case_no, step)
    origin = login(nodes["000000"], nodes[told["origin_node"]], told["origin_reviewer"])
    origin.wait_for(case_no, "in_review")
    _wait_holder(origin, case_no, told["origin_node"])
    origin.act(case_no, "complete_leg")
    _wait_holder(reviewer, case_no, told["node"])
    login(nodes["000000"], here, told["approver"]).act(case_no, "decide", outcome="approve")
    reviewer.act(case_no, "deliver", method="online")
    return login(nodes["000000"], here, told["user"]).wait_for(case_no, "delivered")


def _wait_holder(client: Client, case_no: str, node: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.ok("GET", f"/cases/{case_no}")["jurisdiction"]["processing"]["node"] == node:
            return
        time.sleep(0.2)
    raise AssertionError(f"办件 {case_no} 未在 {timeout:.0f} 秒内转到节点 {node}")


def _until(probe, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{timeout:.0f} 秒内未达到：{what}")


def run_identity(nodes: dict[str, Node]) -> dict[str, Any]:
    """One hub account at separate nodes: a token for some nodes only, then a password change and a
    logout at the hub, each refused at a node that holds the account's replica — timed."""
    hub, zhejiang, guizhou = nodes["000000"], nodes["330000"], nodes["520000"]
    person = _story("online")["user"]
    at_zhejiang = login(hub, zhejiang, person)
    me = at_zhejiang.ok("GET", "/me")
    narrow = login(hub, guizhou, person, audience=["330000"])
    refused_elsewhere = narrow.call("GET", "/me")
    at_hub = Client(hub, at_zhejiang.token)
    new_password = "tongban-new-2026-12"
    started = time.monotonic()
    at_hub.ok("POST", "/me/password", {"current_password": PASSWORD, "new_password": new_password}, status=204)
    _until(lambda: at_zhejiang.call("GET", "/me")[0] == 401, "改密后旧令牌在节点失效")
    password_seconds = time.monotonic() - started
    again = login(hub, zhejiang, person, password=new_password)
    again.ok("GET", "/me")
    started = time.monotonic()
    Client(hub, again.token).ok("POST", "/auth/logout", status=204)
    _until(lambda: again.call("GET", "/me")[0] == 401, "退出登录后令牌在节点失效")
    logout_seconds = time.monotonic() - started
    return {
        "me": me,
        "refused_elsewhere": refused_elsewhere,
        "after_password": at_zhejiang.call("GET", "/me"),
        "after_logout": again.call("GET", "/me"),
        "password_seconds": password_seconds,
        "logout_seconds": logout_seconds,
    }


def run_marriage(nodes: dict[str, Node]) -> dict[str, Any]:
    """王杰 and 刘燕 marry in 南京; both hold the 结婚证, which 山西 and 福建 verify and both find in their wallets."""
    told = _story("marriage")
    hub, here = nodes["000000"], nodes[told["node"]]
    clerk = login(hub, here, told["user"])
    case_no = clerk.ok("POST", "/cases", told["request"], status=201)["case_no"]
    for code in told["materials"]:
        clerk.upload(case_no, code)
    clerk.act(case_no, "submit")
    reviewer = login(hub, here, told["reviewer"])
    reviewer.act(case_no, "accept")
    reviewer.act(case_no, "start_review")
    decided = login(hub, here, told["approver"]).act(case_no, "decide", outcome="approve")
    [issued] = decided["timeline"][-1]["data"]["licences"]
    identifier = issued["identifier"]
    verdicts = {}
    for code in told["verified_at"]:
        verifier = login(hub, nodes[code], told["user"])
        path = f"/licenses/{identifier}/verify"
        verdicts[code] = _until(
            lambda v=verifier, p=path: v.call("GET", p)[0] == 200 and v.ok("GET", p), f"{code} 核验结婚证"
        )
    wallets, read = {}, {}
    for username, code in told["holders"].items():
        holder = login(hub, nodes[code], username)
        wallets[username] = [e["identifier"] for e in holder.ok("GET", "/me/licenses")["items"]]
        # The whole licence, which that node reads from 南京 and checks against 江苏's signature.
        read[username] = [h["name"] for h in holder.ok("GET", f"/me/licenses/{identifier}")["holders"]]
    return {"case_no": case_no, "identifier": identifier, "verdicts": verdicts, "wallets": wallets, "read": read}


def run_licence_use(nodes: dict[str, Node]) -> dict[str, Any]:
    """赵宇 withdraws his 北京 housing fund for a flat in 保定: 河北's 不动产权证书 stands in for the paper."""
    told = _story("licence_use")
    hub, issuing, applying = nodes["000000"], nodes[told["issuer_node"]], nodes[told["node"]]
    registrar = login(hub, issuing, told["registrar"])
    identifier = registrar.ok("POST", "/licenses", told["licence"], status=201)["identifier"]
    user = login(hub, applying, told["user"])
    verify = f"/licenses/{identifier}/verify"
    _until(lambda: user.call("GET", verify)[0] == 200, "国家平台证照目录收录不动产权证书")
    case_no = user.ok("POST", "/cases", told["request"], status=201)["case_no"]
    for code in told["materials"]:
        user.upload(case_no, code)
    uses = f"/cases/{case_no}/licence-uses"
    use = user.ok("POST", uses, {"material_code": told["licence_material"], "cause": told["cause"]}, status=201)

    def status_is(wanted: str) -> dict[str, Any] | None:
        [current] = [u for u in user.ok("GET", uses)["items"] if u["id"] == use["id"]]
        if current["status"] == "failed":
            raise AssertionError(f"用证失败：{current['error_code']} {current['error_detail']}")
        return current if current["status"] == wanted else None

    _until(lambda: status_is("awaiting_consent"), "签发节点答复共享内容预览")
    user.ok("POST", f"{uses}/{use['id']}/consent", {"accept": True})
    _until(lambda: status_is("accepted"), "签发节点提供经签名的证照")
    user.act(case_no, "submit")
    case = user.wait_for(case_no, "received")
    # He reads the log where he applied: that node asks 河北 for the licence and checks its signature.
    case["licence_log"] = user.ok("GET", f"/me/licenses/{identifier}")["uses"]
    return case


STORIES = {"全程网办": run_online, "异地代收代办": run_proxy, "多地联办": run_multi_place}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(
            "启动国家平台与十个省级节点（各自的 PostgreSQL 数据库，经 RabbitMQ 交换消息），跑通三种模式与跨节点用证授权"
        )
    )
    parser.add_argument("--keep", action="store_true", help="跑完后保持节点运行，按 Ctrl+C 结束")
    args = parser.parse_args(argv)
    nodes = plan()
    print("准备节点数据库与内容（每个节点一个 PostgreSQL 数据库）…", flush=True)
    with federation(nodes) as running:
        for node in nodes:
            print(f"  节点 {node.code}: {node.url}  数据库 {node.database}", flush=True)
        for label, story in STORIES.items():
            started = time.monotonic()
            case = story(running)
            steps = " → ".join(f"{e['label']}@{e['node']}" for e in case["timeline"])
            elapsed = time.monotonic() - started
            print(f"{label}：办件 {case['case_no']} 状态 {case['status_label']}，用时 {elapsed:.1f} 秒", flush=True)
            print(f"  {steps}", flush=True)
        started = time.monotonic()
        marriage = run_marriage(running)
        verified = "、".join(f"{code} {v['result_label']}" for code, v in marriage["verdicts"].items())
        elapsed = time.monotonic() - started
        print(f"结婚登记：办件 {marriage['case_no']} 签发结婚证，核验：{verified}，用时 {elapsed:.1f} 秒", flush=True)
        started = time.monotonic()
        case = run_licence_use(running)
        [use] = case["licence_log"]
        elapsed = time.monotonic() - started
        print(
            f"用证授权：办件 {case['case_no']} 以签发节点 130000 的不动产权证书代替纸质材料，用时 {elapsed:.1f} 秒",
            flush=True,
        )
        print(f"  签发节点的用证记录：{use['node']} {use['cause']} {use['status_label']}", flush=True)
        identity = run_identity(running)
        print(
            f"统一身份：在国家平台改密后 {identity['password_seconds']:.1f} 秒、退出登录后 "
            f"{identity['logout_seconds']:.1f} 秒，节点 330000 拒绝旧令牌",
            flush=True,
        )
        if args.keep:
            print("节点保持运行中，按 Ctrl+C 结束。", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
