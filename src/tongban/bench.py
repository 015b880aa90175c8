"""`make bench`: cases per second through the whole flow on the embedded default, per mode, beside
plain sqlite3 doing the same number of commits with rows of the same size, in the same run.

The flow goes through the write functions the API calls (create, upload, submit, accept, review,
decide, deliver, and the dispatcher carrying every cross-node message), on a fresh SQLite file in
WAL mode. The reference opens its own SQLite file with the same pragmas and commits the same number
of transactions, each writing the same number of rows of the same average size. The ratio
platform ÷ reference says what the platform's logic costs over the database's bare commit cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PDF = b"%PDF-1.4\n" + b"0" * 2048


@dataclass
class WriteCounter:
    commits: int = 0
    rows: int = 0
    bytes: int = 0

    def reset(self) -> None:
        self.commits = self.rows = self.bytes = 0

    def detach(self) -> None:
        """Stop counting: the message benchmark measures the platform, not this instrumentation."""
        from django.db import connection

        connection.execute_wrappers.clear()
        connection.__dict__.pop("_commit", None)


def _setup(data_dir: Path) -> WriteCounter:
    # A throwaway SQLite file, whatever database this shell is configured for.
    for name in ("DATABASE_URL", "TONGBAN_SQLITE_PATH", "TONGBAN_BLOB_DIR", "TONGBAN_NODE"):
        os.environ.pop(name, None)
    os.environ["TONGBAN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    call_command("load_content", stdout=quiet)
    call_command("load_demo", stdout=quiet)

    counter = WriteCounter()

    def count_statements(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE"):
            rows = params if many else [params]
            for row in rows:
                counter.rows += 1
                counter.bytes += sum(len(str(value).encode()) for value in (row or ()))
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(count_statements)
    connection.ensure_connection()
    original_commit = connection._commit

    def counting_commit():
        counter.commits += 1
        return original_commit()

    connection._commit = counting_commit
    return counter


def _actor(username: str, node: str):
    from tongban.identity.actors import actor_for_account
    from tongban.identity.models import Account

    return actor_for_account(Account.objects.get(username=username), node)


def _create(mode: str, i: int):
    """Open a case from the mode's story and attach its materials; returns (case, submitter, story)."""
    from tongban.cases.services import ApplicantInput, add_material, create_case
    from tongban.stories import story

    told = story(mode)
    request = told["request"]
    submitter = _actor(told["user"], told["node"])
    applicant = request.get("applicant")
    case = create_case(
        submitter,
        item_code=request["item_code"],
        mode=request["mode"],
        form=request["form"],
        applicant=ApplicantInput(**applicant) if applicant else None,
        enterprise_credit_code=request.get("enterprise_credit_code", ""),
    )
    for code in told["materials"]:
        add_material(submitter, case, material_code=code, filename=f"{code}{i}.pdf", data=PDF + f"{code}{i}".encode())
    return case, submitter, told


def _online(i: int) -> None:
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    case, applicant, told = _create("online", i)
    do_action(applicant, case, "submit")
    run_until_idle()
    _owner_steps(case.case_no, told, {"method": "online"})


def _proxy(i: int) -> None:
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    case, clerk, told = _create("proxy", i)
    do_action(clerk, case, "submit")
    do_action(clerk, case, "check_form", data={"identity_verified": True, "form_complete": True})
    do_action(clerk, case, "forward", data={"waybill": {"carrier": "EMS", "number": f"E{i:09d}"}})
    run_until_idle()
    _owner_steps(case.case_no, told, {"method": "mail", "waybill": {"carrier": "EMS", "number": f"R{i:09d}"}})


def _multi_place(i: int) -> None:
    from tongban.cases.models import Case
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    case, applicant, told = _create("multi_place", i)
    do_action(applicant, case, "submit")
    run_until_idle()
    here = _actor(told["reviewer"], told["node"])
    for step in ("accept", "start_review", "complete_leg"):
        do_action(here, Case.objects.get(node=told["node"], case_no=case.case_no), step)
    run_until_idle()
    origin = Case.objects.get(node=told["origin_node"], case_no=case.case_no)
    do_action(_actor(told["origin_reviewer"], told["origin_node"]), origin, "complete_leg")
    run_until_idle()
    case = Case.objects.get(node=told["node"], case_no=case.case_no)
    do_action(_actor(told["approver"], told["node"]), case, "decide", data={"outcome": "approve"})
    do_action(here, case, "deliver", data={"method": "online"})
    run_until_idle()


def _owner_steps(case_no: str, told: dict, delivery: dict) -> None:
    from tongban.cases.models import Case
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    node = told["owner_node"]
    review, decide = _actor(told["reviewer"], node), _actor(told["approver"], node)
    case = Case.objects.get(node=node, case_no=case_no)
    do_action(review, case, "accept")
    do_action(review, case, "start_review")
    do_action(decide, case, "decide", data={"outcome": "approve"})
    do_action(review, case, "deliver", data=delivery)
    run_until_idle()


def _reference(path: Path, commits: int, rows: int, row_bytes: int) -> float:
    """Plain sqlite3, same pragmas: `commits` transactions writing `rows` rows of `row_bytes` bytes in all."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v TEXT)")
    per_commit, extra = divmod(rows, commits)
    size = max(1, row_bytes // max(1, rows))
    payload = "x" * size
    started = time.perf_counter()
    for n in range(commits):
        connection.execute("BEGIN IMMEDIATE")
        for r in range(per_commit + (1 if n < extra else 0)):
            connection.execute("INSERT INTO t (k, v) VALUES (?, ?)", (f"{n}-{r}", payload))
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


WARM_UP = 100  # messages sent and applied before the clock starts


def _noop_handler() -> None:
    from tongban.exchange.handlers import handler_for, handles

    if handler_for("bench.noop") is None:
        handles("bench.noop")(lambda envelope: None)


def _signed_in_process(n: int) -> float:
    """n messages 330000 → 520000, each written (signed) in its own transaction, delivered, verified
    and applied exactly once; returns messages per second."""
    from django.db import transaction

    from tongban.exchange import outbox
    from tongban.exchange.dispatcher import run_until_idle

    _noop_handler()

    def send_and_dispatch(count: int) -> None:
        for i in range(count):
            with transaction.atomic():
                outbox.send(
                    "bench.noop", from_node="330000", to_node="520000", payload={"i": i, "text": "办件进度" * 8}
                )
        run_until_idle(max_rounds=10_000)

    send_and_dispatch(WARM_UP)  # keys made, caches filled, verification workers started: the steady state
    started = time.perf_counter()
    send_and_dispatch(n)
    return n / (time.perf_counter() - started)


def _raw_sign_verify(n: int) -> float:
    from tongban import crypto

    key = crypto.generate_keypair()
    public = key.public_key()
    message = b"x" * 400
    started = time.perf_counter()
    for _ in range(n):
        assert crypto.verify(public, message, crypto.sign(key, message))
    return n / (time.perf_counter() - started)


def _signed_rabbitmq(n: int, url: str) -> float:
    """The same messages over RabbitMQ: published with confirms by the dispatcher, consumed into the
    receiver's inbox and applied, acknowledged after the commit."""
    from django.db import transaction

    from tongban.exchange import dispatcher, outbox
    from tongban.exchange.models import InboxMessage
    from tongban.exchange.rabbitmq import RabbitTransport, consume, declare_topology, queue_name

    _noop_handler()
    import pika

    namespace = "tongban-bench"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    declare_topology(channel, "520000", namespace)
    channel.queue_purge(queue_name("520000", namespace))
    connection.close()
    previous = dispatcher.set_transport(RabbitTransport(url, namespace))
    before = InboxMessage.objects.filter(node="520000", type="bench.noop").count()
    started = time.perf_counter()
    try:
        for i in range(n):
            with transaction.atomic():
                outbox.send(
                    "bench.noop", from_node="330000", to_node="520000", payload={"i": i, "text": "办件进度" * 8}
                )
        dispatcher.deliver_pending(limit=n + 10, node="330000")

        def done() -> bool:
            return InboxMessage.objects.filter(node="520000", type="bench.noop", status="applied").count() >= before + n

        consume("520000", url, stop=done, idle_timeout=0.2, namespace=namespace)
    finally:
        dispatcher.set_transport(previous)
    return n / (time.perf_counter() - started)


def _raw_rabbitmq(n: int, url: str) -> float:
    """Durable publish with confirms + consume with manual acks on a quorum queue, nothing else."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    queue = "tongban-bench.raw"
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_purge(queue)
    channel.confirm_delivery()
    body = b"x" * 1200
    started = time.perf_counter()
    for _ in range(n):
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    for taken, (method, _props, _body) in enumerate(channel.consume(queue, inactivity_timeout=2), start=1):
        if method is None:
            break
        channel.basic_ack(method.delivery_tag)
        if taken >= n:
            break
    elapsed = time.perf_counter() - started
    channel.cancel()
    channel.queue_delete(queue)
    connection.close()
    return n / elapsed


@dataclass
class Figure:
    """Messages per second over several rounds: the median is the figure, the range shows the noise."""

    rounds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)

    def spread(self) -> str:
        return f"{min(self.rounds):.0f}–{max(self.rounds):.0f}"


def _measure(rounds: int, path: Callable[..., float], *args: object) -> Figure:
    return Figure([path(*args) for _ in range(rounds)])


def _exchange_section(messages: int, rounds: int) -> None:
    from django.conf import settings

    print(f"\nsigned exchange: {messages} messages 330000 → 520000 (SM2-signed, verified, applied exactly once)")
    print(f"median of {rounds} rounds each (range in brackets)")
    raw_crypto = _measure(rounds, _raw_sign_verify, max(200, messages // 2))
    in_process = _measure(rounds, _signed_in_process, messages)
    print(f"{'path':<38}{'msg/s':>8}{'range':>13}{'limit msg/s':>13}{'ratio':>7}")
    _row("raw gmalglib sign+verify", raw_crypto)
    _row("tongban in-process (SQLite WAL)", in_process, raw_crypto.median)
    try:
        raw_broker = _measure(rounds, _raw_rabbitmq, messages, settings.TONGBAN_AMQP_URL)
        over_broker = _measure(rounds, _signed_rabbitmq, messages, settings.TONGBAN_AMQP_URL)
    except Exception as exc:  # no broker on this machine: report it, the rest of the figures stand
        print(f"RabbitMQ 不可用，跳过：{type(exc).__name__}: {exc}")
        return
    _row("raw RabbitMQ durable publish+consume", raw_broker)
    _row("tongban over RabbitMQ", over_broker, min(raw_crypto.median, raw_broker.median))
    print("ratio = tongban messages/s ÷ the slower of its limits measured in the same run")


def _row(path: str, figure: Figure, limit: float | None = None) -> None:
    line = f"{path:<38}{figure.median:>8.0f}{'(' + figure.spread() + ')':>13}"
    if limit is not None:
        line += f"{limit:>13.0f}{figure.median / limit:>7.2f}"
    print(line)


# ---------------------------------------------------------------- licences

REISSUE = "TB-shichang-001"  # 营业执照补领: 樊女士 for 盛之瑞, decided by 西宁


def _reissue_cases(n: int) -> list:
    """`n` submitted, accepted, in-review 营业执照 reissue cases at 西宁, ready for the decision."""
    from tongban.cases.models import Case
    from tongban.cases.services import add_material, create_case, do_action
    from tongban.exchange.dispatcher import run_until_idle
    from tongban.stories import story

    told = story("proxy")
    agent = _actor("fan", "630000")
    reviewer = _actor("qh-shichang-reviewer", "630000")
    cases = []
    for i in range(n):
        case = create_case(
            agent,
            item_code=REISSUE,
            mode="online",
            form=told["request"]["form"],
            enterprise_credit_code=told["request"]["enterprise_credit_code"],
        )
        for code in told["materials"]:
            add_material(agent, case, material_code=code, filename=f"{code}.pdf", data=PDF + f"{i}".encode())
        do_action(agent, case, "submit")
        held = Case.objects.get(node="630000", case_no=case.case_no)
        do_action(reviewer, held, "accept")
        do_action(reviewer, held, "start_review")
        cases.append(held)
    run_until_idle()  # the messages of the setup are not part of what is timed
    return cases


def _decide_all(cases: list) -> None:
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    approver = _actor("qh-shichang-approver", "630000")
    for case in cases:
        do_action(approver, case, "decide", data={"outcome": "approve"})
    run_until_idle()


def _approvals(n: int) -> float:
    """Seconds for `n` whole reissue cases: opened, submitted, accepted, reviewed, approved, delivered
    messages included."""
    started = time.perf_counter()
    _decide_all(_reissue_cases(n))
    return time.perf_counter() - started


def _issuing_section(n: int) -> list[str]:
    """The same approvals with and without the licence they issue; returns the identifiers issued."""
    from tongban.catalog.models import ItemVersion
    from tongban.licences.models import Licence

    print(f"\nlicences: {n} cases of 营业执照补领 approved at 西宁, with and without issuing the licence")
    versions = ItemVersion.objects.filter(item_id=REISSUE)
    chosen = list(versions.values_list("pk", "result_licence"))
    _approvals(max(5, n // 20))  # warm caches and code paths before either is timed
    versions.update(result_licence=None)
    try:
        bare = _approvals(n)
    finally:
        for pk, licence in chosen:
            ItemVersion.objects.filter(pk=pk).update(result_licence=licence)
    issuing = _approvals(n)
    print(f"{'path':<38}{'seconds':>9}{'cases/s':>9}{'ratio':>7}")
    print(f"{'approvals without licences':<38}{bare:>9.2f}{n / bare:>9.1f}")
    print(f"{'approvals issuing a licence':<38}{issuing:>9.2f}{n / issuing:>9.1f}{issuing / bare:>7.2f}")
    print("ratio = seconds with licences ÷ seconds without (goal ≤ 1.25); issuing includes the SM2 signature,")
    print("the serial, the holder, the events, the replaced licence's cancellation and licence.indexed to the hub")
    return list(Licence.objects.order_by("-id").values_list("identifier", flat=True)[:n])


def _verify_all(identifiers: list[str]) -> float:
    from tongban.licences.verification import verify_identifier

    started = time.perf_counter()
    for identifier in identifiers:
        assert verify_identifier(identifier, "230000").verdict.code in ("valid", "cancelled")
    return len(identifiers) / (time.perf_counter() - started)


def _raw_verify_licences(identifiers: list[str]) -> float:
    """gmalglib verifying the very signatures over the very bytes, nothing else."""
    import base64

    from tongban import crypto
    from tongban.exchange.envelope import canonical_json
    from tongban.exchange.trust import current_entries, public_key
    from tongban.licences.issuing import signed_document
    from tongban.licences.models import Licence

    entries = current_entries() or {}
    material = [
        (
            public_key(entries[lic.key_id]["public_key"]),
            canonical_json(signed_document(lic), path="licence"),
            base64.b64decode(lic.signature),
        )
        for lic in Licence.objects.filter(identifier__in=identifiers).prefetch_related("holders")
    ]
    started = time.perf_counter()
    for key, content, signature in material:
        assert crypto.verify(key, content, signature)
    return len(material) / (time.perf_counter() - started)


def _verification_section(identifiers: list[str], rounds: int) -> None:
    print(f"\nlicence verification at a node: {len(identifiers)} licences, median of {rounds} rounds")
    raw = _measure(rounds, _raw_verify_licences, identifiers)
    platform = _measure(rounds, _verify_all, identifiers)
    print(f"{'path':<38}{'verif/s':>8}{'range':>13}{'limit':>13}{'ratio':>7}")
    _row("raw gmalglib verify (same signatures)", raw)
    _row("tongban verify (signature + state)", platform, raw.median)
    print("ratio = tongban verifications/s ÷ raw verify/s of the same signatures over the same bytes (goal ≥ 0.8)")


def _qr_texts(identifiers: list[str]) -> list[str]:
    from tongban.licences.models import Licence
    from tongban.licences.qr import qr_text

    licences = Licence.objects.filter(identifier__in=identifiers).select_related("licence_type")
    return [qr_text(licence) for licence in licences.prefetch_related("holders")]


def _verify_qr_all(texts: list[str]) -> float:
    from tongban.licences.qr import verify_qr

    started = time.perf_counter()
    for text in texts:
        assert verify_qr(text).code == "valid"
    return len(texts) / (time.perf_counter() - started)


def _raw_verify_qr(texts: list[str]) -> float:
    """gmalglib verifying the codes' own signatures over their own payload bytes."""
    from tongban import crypto
    from tongban.exchange.trust import current_entries, public_key
    from tongban.licences.qr import parse

    entries = current_entries() or {}
    material = []
    for text in texts:
        parsed = parse(text)
        material.append((public_key(entries[parsed.claims.key_id]["public_key"]), parsed.payload, parsed.signature))
    started = time.perf_counter()
    for key, payload, signature in material:
        assert crypto.verify(key, payload, signature)
    return len(material) / (time.perf_counter() - started)


def _offline_section(identifiers: list[str], rounds: int) -> None:
    texts = _qr_texts(identifiers)
    print(f"\noffline QR verification: {len(texts)} codes against the stored trust list, median of {rounds} rounds")
    raw = _measure(rounds, _raw_verify_qr, texts)
    platform = _measure(rounds, _verify_qr_all, texts)
    print(f"{'path':<38}{'verif/s':>8}{'range':>13}{'limit':>13}{'ratio':>7}")
    _row("raw gmalglib verify (same signatures)", raw)
    _row("tongban verify-qr (parse + key + sig)", platform, raw.median)
    print("ratio = tongban offline verifications/s ÷ raw verify/s of the same signatures (goal ≥ 0.8)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tongban 基准测试：三种模式全流程办件吞吐量")
    parser.add_argument("--cases", type=int, default=100, help="每种模式的办件数（默认 100）")
    parser.add_argument("--messages", type=int, default=2000, help="签名消息基准的消息数（默认 2000）")
    parser.add_argument("--rounds", type=int, default=3, help="签名消息基准每条路径的轮数，取中位数（默认 3）")
    parser.add_argument("--licences", type=int, default=1000, help="签发证照基准的审批件数（默认 1000）")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        counter = _setup(Path(tmp) / "platform")
        from tongban import clock

        fixed = clock.FixedClock(dt.datetime(2025, 6, 9, 9, 0, tzinfo=clock.CHINA_TZ))
        clock.set_clock(fixed)
        print(f"tongban bench: {args.cases} cases per mode, embedded default (SQLite WAL, in-process exchange)")
        print(f"{'mode':<12}{'cases':>7}{'seconds':>9}{'cases/s':>9}{'commits':>9}{'rows':>8}{'ref s':>8}{'ratio':>7}")
        for name, flow in (("online", _online), ("proxy", _proxy), ("multi_place", _multi_place)):
            counter.reset()
            started = time.perf_counter()
            for i in range(args.cases):
                fixed.advance(minutes=1)
                flow(i)
            elapsed = time.perf_counter() - started
            commits, rows, row_bytes = counter.commits, counter.rows, counter.bytes
            ref = _reference(Path(tmp) / f"ref-{name}.sqlite3", commits, rows, row_bytes)
            print(
                f"{name:<12}{args.cases:>7}{elapsed:>9.2f}{args.cases / elapsed:>9.1f}{commits:>9}{rows:>8}"
                f"{ref:>8.3f}{elapsed / ref:>7.1f}"
            )
        print("ratio = platform seconds ÷ plain sqlite3 seconds for the same commits and rows of the same size")
        counter.detach()
        _exchange_section(args.messages, max(1, args.rounds))
        issued = _issuing_section(args.licences)
        _verification_section(issued, max(1, args.rounds))
        _offline_section(issued, max(1, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
