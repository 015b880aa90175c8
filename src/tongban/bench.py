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
import sys
import tempfile
import time
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tongban 基准测试：三种模式全流程办件吞吐量")
    parser.add_argument("--cases", type=int, default=100, help="每种模式的办件数（默认 100）")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
