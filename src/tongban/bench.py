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


def _online(i: int) -> None:
    from tongban.cases.services import add_material, create_case, do_action
    from tongban.exchange.dispatcher import run_until_idle

    applicant = _actor("zhengchuilu", "330000")
    case = create_case(
        applicant,
        item_code="TB-yibao-002",
        mode="online",
        form={
            "applicant_name": "郑垂禄",
            "applicant_id_number": "520324197806230536",
            "phone": "13800001234",
            "insured_region": "520324",
            "treatment_region": "331024",
            "filing_kind": "异地安置退休人员",
            "start_date": "2025-06-09",
        },
    )
    add_material(applicant, case, material_code="id_card", filename=f"id{i}.pdf", data=PDF + str(i).encode())
    do_action(applicant, case, "submit")
    run_until_idle()
    _owner_steps(case.case_no, "520000", "gz-yibao-reviewer", "gz-yibao-approver", "online")


def _proxy(i: int) -> None:
    from tongban.cases.services import ApplicantInput, add_material, create_case, do_action
    from tongban.exchange.dispatcher import run_until_idle

    clerk = _actor("hlj-shichang-clerk", "230000")
    case = create_case(
        clerk,
        item_code="TB-shichang-001",
        mode="proxy",
        applicant=ApplicantInput("樊女士", "230183197504102029", identity_verified=True, username="fan"),
        enterprise_credit_code="91630100MA7K2Q3H85",
        form={
            "application_kind": "遗失补领",
            "enterprise_name": "盛之瑞新能源科技有限公司",
            "credit_code": "91630100MA7K2Q3H85",
            "domicile_region": "630100",
            "agent_name": "樊女士",
            "agent_id_number": "230183197504102029",
            "phone": "13900002345",
        },
    )
    for code in ("application", "agent_id_card", "authorisation"):
        add_material(clerk, case, material_code=code, filename=f"{code}{i}.pdf", data=PDF + f"{code}{i}".encode())
    do_action(clerk, case, "submit")
    do_action(clerk, case, "check_form", data={"identity_verified": True, "form_complete": True})
    do_action(clerk, case, "forward", data={"waybill": {"carrier": "EMS", "number": f"E{i:09d}"}})
    run_until_idle()
    _owner_steps(case.case_no, "630000", "qh-shichang-reviewer", "qh-shichang-approver", "mail")


def _multi_place(i: int) -> None:
    from tongban.cases.models import Case
    from tongban.cases.services import add_material, create_case, do_action
    from tongban.exchange.dispatcher import run_until_idle

    applicant = _actor("zhangtao", "370000")
    case = create_case(
        applicant,
        item_code="TB-renshe-001",
        mode="multi_place",
        form={
            "applicant_name": "张涛",
            "applicant_id_number": "110105196203152013",
            "phone": "13700003456",
            "origin_region": "110000",
            "destination_region": "370100",
            "applicant_kind": "参保人员本人申请",
        },
    )
    for code in ("id_card", "application", "payment_certificate"):
        add_material(applicant, case, material_code=code, filename=f"{code}{i}.pdf", data=PDF + f"{code}{i}".encode())
    do_action(applicant, case, "submit")
    run_until_idle()
    jinan, beijing = _actor("sd-renshe-reviewer", "370000"), _actor("bj-renshe-reviewer", "110000")
    for step in ("accept", "start_review", "complete_leg"):
        do_action(jinan, Case.objects.get(node="370000", case_no=case.case_no), step)
    run_until_idle()
    do_action(beijing, Case.objects.get(node="110000", case_no=case.case_no), "complete_leg")
    run_until_idle()
    here = Case.objects.get(node="370000", case_no=case.case_no)
    do_action(_actor("sd-renshe-approver", "370000"), here, "decide", data={"outcome": "approve"})
    do_action(jinan, here, "deliver", data={"method": "online"})
    run_until_idle()


def _owner_steps(case_no: str, node: str, reviewer: str, approver: str, method: str) -> None:
    from tongban.cases.models import Case
    from tongban.cases.services import do_action
    from tongban.exchange.dispatcher import run_until_idle

    review, decide = _actor(reviewer, node), _actor(approver, node)
    case = Case.objects.get(node=node, case_no=case_no)
    do_action(review, case, "accept")
    do_action(review, case, "start_review")
    do_action(decide, case, "decide", data={"outcome": "approve"})
    data = {"method": method}
    if method == "mail":
        data["waybill"] = {"carrier": "EMS", "number": "R123"}
    do_action(review, case, "deliver", data=data)
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
