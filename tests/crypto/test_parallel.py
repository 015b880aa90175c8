"""Verifying a batch on every core gives exactly the verdicts of verifying one by one — whatever the
batch holds, however many workers there are, and when a worker dies or a caller stops early."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tongban import crypto
from tongban.crypto import parallel

KEYS = [crypto.generate_keypair() for _ in range(3)]
MESSAGES = [f"办件消息 {i}".encode() for i in range(40)]
SIGNATURES = {(k, i): crypto.sign(KEYS[k], MESSAGES[i]) for k in range(len(KEYS)) for i in range(len(MESSAGES))}


@pytest.fixture(autouse=True)
def _own_workers(monkeypatch):
    monkeypatch.setenv(parallel.ENV_VAR, "1")
    parallel.forget()
    yield
    parallel.shutdown()
    parallel.forget()


def _item(key: int, message: int, signer: int | None = None, tamper: bool = False) -> parallel.Item:
    signature = SIGNATURES[(key if signer is None else signer, message)]
    data = MESSAGES[message] + (b"!" if tamper else b"")
    return KEYS[key].public_key(), data, signature


def _one_by_one(items: list[parallel.Item]) -> list[bool]:
    return [crypto.verify(key, data, signature) for key, data, signature in items]


items = st.lists(
    st.builds(
        _item,
        key=st.integers(0, len(KEYS) - 1),
        message=st.integers(0, len(MESSAGES) - 1),
        signer=st.none() | st.integers(0, len(KEYS) - 1),
        tamper=st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items, st.sampled_from(["0", "1", "2"]))
def test_the_verdicts_are_those_of_verifying_one_by_one(monkeypatch, batch, workers):
    monkeypatch.setenv(parallel.ENV_VAR, workers)
    parallel.forget()  # computed, not remembered from an earlier example
    assert parallel.verify_many(batch) == _one_by_one(batch)
    assert parallel.verify_many(batch) == _one_by_one(batch)  # and remembered right


def test_the_stages_come_in_order_and_cover_the_batch():
    batch = [_item(i % 3, i, tamper=i % 7 == 0) for i in range(30)]
    stages = list(parallel.verify_in_stages(batch))
    assert [len(stage) for stage in stages] == [15, 15]  # the caller's share, then the worker's
    assert [verdict for stage in stages for verdict in stage] == _one_by_one(batch)


def test_a_small_batch_is_verified_in_place():
    batch = [_item(0, i) for i in range(parallel.MIN_PARALLEL - 1)]
    assert list(parallel.verify_in_stages(batch)) == [[True] * len(batch)]
    assert parallel._pool._workers == []  # no worker was started for it


def test_a_worker_that_dies_costs_speed_not_verdicts():
    batch = [_item(1, i, tamper=i % 5 == 0) for i in range(20)]
    assert parallel.verify_many(batch) == _one_by_one(batch)
    (worker,) = parallel._pool._workers
    worker.process.kill()
    worker.process.wait()
    parallel.forget()
    assert parallel.verify_many(batch) == _one_by_one(batch)  # its share verified here instead
    parallel.forget()
    assert parallel.verify_many(batch) == _one_by_one(batch)  # and a new worker started
    assert parallel._pool._workers and parallel._pool._workers[0] is not worker


def test_a_caller_that_stops_early_does_not_leave_a_stale_answer_behind():
    tampered = [_item(2, i, tamper=True) for i in range(20)]
    stages = parallel.verify_in_stages(tampered)
    assert next(stages) == [False] * 10
    stages.close()  # the worker's answer for the rest is never read
    honest = [_item(2, i) for i in range(20)]
    assert parallel.verify_many(honest) == [True] * 20


def test_remembered_verdicts_are_taken_and_stages_still_cover_the_batch():
    batch = [_item(0, i, tamper=i % 3 == 0) for i in range(30)]
    parallel.verify_many(batch[5:12])  # these seven are known now
    stages = list(parallel.verify_in_stages(batch))
    assert sum(len(stage) for stage in stages) == 30
    assert [verdict for stage in stages for verdict in stage] == _one_by_one(batch)


def test_warmed_signatures_are_verified_in_the_background_and_remembered(monkeypatch):
    batch = [_item(1, i, tamper=i == 4) for i in range(parallel.WARM_SHARE)]
    expected = _one_by_one(batch)
    assert parallel.warm(batch[:-1]) is None  # gathered until there is a share's worth
    future = parallel.warm(batch[-1:])
    assert future is not None and future.result(timeout=60) == expected
    monkeypatch.setattr(parallel, "verify", lambda *args, **kwargs: pytest.fail("verified a second time"))
    assert parallel.verify_many(batch) == expected


def test_without_workers_warming_does_nothing(monkeypatch):
    monkeypatch.setenv(parallel.ENV_VAR, "0")
    assert parallel.warm([_item(0, i) for i in range(parallel.WARM_SHARE)]) is None
    assert parallel._pool._workers == [] and parallel._warm_buffers == {}


def test_a_worker_exits_when_its_parent_lets_go():
    parallel.verify_many([_item(0, i) for i in range(10)])
    (worker,) = parallel._pool._workers
    parallel.shutdown()
    assert worker.process.poll() == 0


def test_a_stalled_worker_is_replaced_and_its_share_verified_here(monkeypatch):
    batch = [_item(2, i, tamper=i % 4 == 0) for i in range(20)]
    parallel.verify_many(batch[:10])  # the worker is running
    (worker,) = parallel._pool._workers
    os.kill(worker.process.pid, signal.SIGSTOP)  # alive, but it will never answer
    monkeypatch.setattr(parallel, "WORKER_TIMEOUT", 0.0)
    parallel.forget()
    assert parallel.verify_many(batch) == _one_by_one(batch)
    assert worker.process.wait(timeout=10) == -signal.SIGKILL  # killed
    monkeypatch.setattr(parallel, "WORKER_TIMEOUT", 30.0)
    parallel.forget()
    assert parallel.verify_many(batch) == _one_by_one(batch)
    assert parallel._pool._workers[0] is not worker


def test_warming_never_waits_for_a_stalled_worker():
    parallel.verify_many([_item(0, i) for i in range(10)])  # the worker is running
    (worker,) = parallel._pool._workers
    os.kill(worker.process.pid, signal.SIGSTOP)  # alive, but it reads nothing more
    big = [(KEYS[0].public_key(), b"x" * 20_000 + bytes([i]), SIGNATURES[(0, 0)]) for i in range(parallel.WARM_SHARE)]
    done = threading.Event()

    def commit_many() -> None:  # far more than the pipe holds
        for _ in range(40):
            parallel.warm(big)
        done.set()

    threading.Thread(target=commit_many, daemon=True).start()
    try:
        assert done.wait(timeout=60), "warm waited for a stalled worker"
        assert worker.outstanding() == parallel.WARM_MAX_OUTSTANDING  # the rest was dropped
    finally:
        worker.kill()


def test_a_worker_that_cannot_verify_a_request_costs_only_that_request(monkeypatch):
    batch = [_item(1, i, tamper=i % 2 == 0) for i in range(20)]

    def garbled(share: list[parallel.Item]) -> parallel.Share:  # a point that is not on the curve
        return [(b"\x04" + b"\x00" * 64, data, signature) for _key, data, signature in share]

    monkeypatch.setattr(parallel, "_portable", garbled)
    assert parallel.verify_many(batch) == _one_by_one(batch)


def test_workers_that_keep_failing_are_given_up_for_a_while(monkeypatch):
    monkeypatch.setattr(parallel, "WORKER_TIMEOUT", 0.0)  # no worker ever answers in time
    batch = [_item(2, i, tamper=i == 3) for i in range(20)]
    for _ in range(parallel.RESTARTS_BEFORE_PAUSE):
        parallel.forget()
        assert parallel.verify_many(batch) == _one_by_one(batch)  # each round costs a worker
    assert parallel._pool.workers(1) == []  # paused: everything is verified in place
    parallel.forget()
    assert parallel.verify_many(batch) == _one_by_one(batch)
