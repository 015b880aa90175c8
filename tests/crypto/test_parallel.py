"""Verifying a batch on every core gives exactly the verdicts of verifying one by one — whatever the
batch holds, however many workers there are, and when a worker dies or a caller stops early."""

from __future__ import annotations

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
    yield
    parallel.shutdown()


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
    assert parallel.verify_many(batch) == _one_by_one(batch)


def test_the_stages_come_in_order_and_cover_the_batch():
    batch = [_item(i % 3, i, tamper=i % 7 == 0) for i in range(30)]
    stages = list(parallel.verify_in_stages(batch))
    assert len(stages) == 2  # the caller's share, then the worker's
    assert [verdict for stage in stages for verdict in stage] == _one_by_one(batch)


def test_a_small_batch_is_verified_in_place():
    batch = [_item(0, i) for i in range(parallel.MIN_PARALLEL - 1)]
    assert list(parallel.verify_in_stages(batch)) == [[True] * len(batch)]
    assert parallel._workers == []  # no worker was started for it


def test_a_worker_that_dies_costs_speed_not_verdicts():
    batch = [_item(1, i, tamper=i % 5 == 0) for i in range(20)]
    assert parallel.verify_many(batch) == _one_by_one(batch)
    (worker,) = parallel._workers
    worker.process.kill()
    worker.process.wait()
    assert parallel.verify_many(batch) == _one_by_one(batch)  # its share verified here instead
    assert parallel.verify_many(batch) == _one_by_one(batch)  # and a new worker started
    assert parallel._workers and parallel._workers[0] is not worker


def test_a_caller_that_stops_early_does_not_leave_a_stale_answer_behind():
    tampered = [_item(2, i, tamper=True) for i in range(20)]
    stages = parallel.verify_in_stages(tampered)
    assert next(stages) == [False] * 10
    stages.close()  # the worker's answer for the rest is never read
    honest = [_item(2, i) for i in range(20)]
    assert parallel.verify_many(honest) == [True] * 20


def test_a_worker_exits_when_its_parent_lets_go():
    parallel.verify_many([_item(0, i) for i in range(10)])
    (worker,) = parallel._workers
    parallel.shutdown()
    assert worker.process.poll() == 0
