"""Verifying SM2 signatures on every core.

Verification costs about four signatures and gmalglib holds the GIL while it computes, so threads do
not help. Worker processes (`python -m tongban.crypto.parallel`: this package and its backend, never
Django) verify shares of a batch while the caller verifies its own share. They are plain child
processes talking pickle over their stdin and stdout — not `multiprocessing`, whose spawned children
re-import the parent's main script — and they exit when the parent closes their stdin or dies.

Two ways in:
- `verify_many` / `verify_in_stages`: the verdicts of a batch, now. The items are cut into
  consecutive shares; the first is verified here while the workers take the others, and
  `verify_in_stages` hands over each share's verdicts as soon as they are known, so a caller can
  write the rows of one share while the workers finish the next.
- `warm`: signatures that will be asked about soon (a message just committed to an outbox, whose
  receiver is this same process) are sent to the workers in the background; their verdicts are
  remembered, and a later `verify_many` takes a remembered verdict instead of computing it again.

A verdict is a pure function of the public key, the data, the signature and the user id; the memory
of verdicts is keyed by a SHA-256 of all four, holds the last MEMORY_SIZE, and is only ever a
shortcut: whatever it does not hold is verified when asked for.

`TONGBAN_VERIFY_WORKERS` sets the number of workers: unset, one less than the CPUs this process may
use; 0 verifies everything in the calling process (and `warm` does nothing). A batch with fewer than
MIN_PARALLEL signatures left to verify is verified in place, since the round trip to a worker costs
more than it saves. A worker that fails costs only speed: its share is verified in place and a new
worker is started for the next batch.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from typing import IO

from tongban.crypto.backends import default_backend_name
from tongban.crypto.curve import DEFAULT_USER_ID
from tongban.crypto.keys import SM2PublicKey
from tongban.crypto.sm2 import verify

log = logging.getLogger(__name__)

ENV_VAR = "TONGBAN_VERIFY_WORKERS"
MIN_PARALLEL = 8
WARM_SHARE = 10  # signatures sent to a worker at once by `warm`
MEMORY_SIZE = 8192
WORKER_TIMEOUT = 30.0  # seconds; a share takes milliseconds, so only a stuck worker waits this long

# One item: (public key, signed data, DER signature).
Item = tuple[SM2PublicKey, bytes, bytes]
# What travels to a worker: (public point, data, signature) for each item of its share.
Share = list[tuple[bytes, bytes, bytes]]


class WorkerGone(Exception):
    """A worker stopped taking work or answering."""


def worker_count() -> int:
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return max(0, int(configured))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, cpus - 1)


def verify_many(items: Sequence[Item], user_id: bytes = DEFAULT_USER_ID) -> list[bool]:
    """Whether each signature verifies, in the order given: the same verdicts as `verify` one by one."""
    verdicts: list[bool] = []
    for stage in verify_in_stages(items, user_id):
        verdicts.extend(stage)
    return verdicts


def verify_in_stages(items: Sequence[Item], user_id: bytes = DEFAULT_USER_ID) -> Iterator[list[bool]]:
    """The verdicts in consecutive stages that together cover `items` in order: the caller's own share
    first, then each worker's as it arrives. Remembered verdicts are taken, not computed."""
    keys = [_memory_key(item, user_id) for item in items]
    verdicts = _memory.recall(keys)
    todo = [i for i, verdict in enumerate(verdicts) if verdict is None]
    workers = _pool.workers(worker_count()) if len(todo) >= MIN_PARALLEL else []
    if not workers:
        for i in todo:
            verdicts[i] = _verify_here(items[i], user_id, keys[i])
        yield [bool(v) for v in verdicts]
        return
    size = -(-len(todo) // (len(workers) + 1))  # ceiling: every share but the last is full
    shares = [todo[i : i + size] for i in range(0, len(todo), size)]
    backend = default_backend_name()
    futures = [
        worker.submit(_portable([items[i] for i in share]), user_id, backend, [keys[i] for i in share])
        for worker, share in zip(workers, shares[1:], strict=False)
    ]
    ends = [share[0] for share in shares[1:]] + [len(items)]  # a stage runs up to the next share's first item
    start = 0
    for number, share in enumerate(shares):
        sent = (workers[number - 1], futures[number - 1]) if number else None
        answers = _verify_share(items, share, user_id, keys, sent)
        for i, verdict in zip(share, answers, strict=True):
            verdicts[i] = verdict
        yield [bool(v) for v in verdicts[start : ends[number]]]
        start = ends[number]


def _verify_share(
    items: Sequence[Item],
    share: list[int],
    user_id: bytes,
    keys: list[bytes],
    sent: tuple[_Worker, Future[list[bool]]] | None,
) -> list[bool]:
    """The share's verdicts: the worker's answer when one was sent and comes in time, else computed here."""
    if sent is not None:
        worker, future = sent
        try:
            return future.result(timeout=WORKER_TIMEOUT)
        except (WorkerGone, TimeoutError):
            log.warning("a signature verification worker failed or stalled; verifying its share in this process")
            worker.kill()  # a stalled worker is replaced for the next batch
    return [_verify_here(items[i], user_id, keys[i]) for i in share]


def _verify_here(item: Item, user_id: bytes, key: bytes) -> bool:
    public_key, data, signature = item
    verdict = verify(public_key, data, signature, user_id)
    _memory.learn([key], [verdict])
    return verdict


def warm(items: Sequence[Item], user_id: bytes = DEFAULT_USER_ID) -> Future[list[bool]] | None:
    """Have the workers verify these in the background and remember the verdicts; returns at once,
    with the future of the request it sent, if it sent one (it gathers WARM_SHARE items first).
    Without workers it does nothing: the signatures are verified when they are asked about."""
    count = worker_count()
    if count == 0 or not items:
        return None
    with _warm_lock:
        _warm_buffer.extend(items)
        if len(_warm_buffer) < WARM_SHARE:
            return None
        batch = list(_warm_buffer)
        _warm_buffer.clear()
    keys = [_memory_key(item, user_id) for item in batch]
    worker = _pool.next_worker(_pool.workers(count))
    return worker.submit(_portable(batch), user_id, default_backend_name(), keys)


def _portable(share: list[Item]) -> Share:
    """The share as plain bytes: the public point travels, the worker keeps its own key objects."""
    return [(key.point, bytes(data), bytes(signature)) for key, data, signature in share]


def _memory_key(item: Item, user_id: bytes) -> bytes:
    public_key, data, signature = item
    digest = hashlib.sha256()
    for part in (public_key.point, user_id, bytes(signature), bytes(data)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


class _Memory:
    """The last MEMORY_SIZE verdicts, by item key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: OrderedDict[bytes, bool] = OrderedDict()

    def recall(self, keys: list[bytes]) -> list[bool | None]:
        with self._lock:
            return [self._verdicts.get(key) for key in keys]

    def learn(self, keys: list[bytes], verdicts: list[bool]) -> None:
        with self._lock:
            for key, verdict in zip(keys, verdicts, strict=True):
                self._verdicts[key] = bool(verdict)
            while len(self._verdicts) > MEMORY_SIZE:
                self._verdicts.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._verdicts.clear()


class _Worker:
    """One worker process; requests carry an id, and a reader thread hands each answer to its future."""

    def __init__(self) -> None:
        self.pid_of_parent = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tongban.crypto.parallel"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Future[list[bool]], list[bytes]]] = {}
        self._ids = itertools.count()
        self.alive = True
        threading.Thread(target=self._read, name="tongban-verify-reader", daemon=True).start()

    def submit(self, share: Share, user_id: bytes, backend: str, keys: list[bytes]) -> Future[list[bool]]:
        """Send a share; the future gets its verdicts, which are remembered under `keys` first."""
        future: Future[list[bool]] = Future()
        with self._lock:
            if not self.alive:
                future.set_exception(WorkerGone())
                return future
            request_id = next(self._ids)
            self._pending[request_id] = (future, keys)
            try:
                assert self.process.stdin is not None
                pickle.dump((request_id, share, user_id, backend), self.process.stdin, pickle.HIGHEST_PROTOCOL)
                self.process.stdin.flush()
            except (OSError, ValueError):
                self._pending.pop(request_id)
                self.alive = False
                future.set_exception(WorkerGone())
        return future

    def _read(self) -> None:
        try:
            assert self.process.stdout is not None
            while True:
                request_id, verdicts = pickle.load(self.process.stdout)
                with self._lock:
                    waiting = self._pending.pop(request_id, None)
                if waiting is None:
                    continue
                future, keys = waiting
                if not isinstance(verdicts, list) or len(verdicts) != len(keys):
                    raise ValueError("an answer that does not fit its request")
                _memory.learn(keys, verdicts)
                future.set_result(verdicts)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            pass  # the worker is gone: every request still waiting is failed below
        finally:
            with self._lock:
                self.alive = False
                pending, self._pending = self._pending, {}
            for future, _keys in pending.values():
                future.set_exception(WorkerGone())

    def stop(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        with self._lock:
            self.alive = False  # no more requests, whether or not the reader has noticed yet
        try:
            self.process.kill()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._turn = itertools.count()

    def workers(self, count: int) -> list[_Worker]:
        """`count` live workers of this process, started on first use; a forked child starts its own."""
        with self._lock:
            live = [w for w in self._workers if w.pid_of_parent == os.getpid() and w.alive]
            for worker in self._workers:
                if worker not in live and worker.pid_of_parent == os.getpid():
                    worker.kill()
            while len(live) < count:
                live.append(_Worker())
            self._workers = live
            return live[:count]

    def next_worker(self, workers: list[_Worker]) -> _Worker:
        return workers[next(self._turn) % len(workers)]

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            if worker.pid_of_parent == os.getpid():
                worker.stop()


_memory = _Memory()
_pool = _Pool()
_warm_lock = threading.Lock()
_warm_buffer: list[Item] = []


def shutdown() -> None:
    """Stop this process's workers (at exit, and in tests)."""
    _pool.shutdown()


def forget() -> None:
    """Drop the remembered verdicts and any signatures waiting to be warmed (tests)."""
    _memory.forget()
    with _warm_lock:
        _warm_buffer.clear()


atexit.register(shutdown)


# ---------------------------------------------------------------- in the worker process


def _serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    keys: dict[bytes, SM2PublicKey] = {}
    while True:
        try:
            request_id, share, user_id, backend = pickle.load(incoming)
        except EOFError:
            return  # the parent closed our stdin or died
        verdicts = []
        for point, data, signature in share:
            key = keys.get(point)
            if key is None:
                if len(keys) >= 1024:
                    keys.clear()
                key = keys[point] = SM2PublicKey(point)
            verdicts.append(verify(key, data, signature, user_id, backend=backend))  # the caller's implementation
        pickle.dump((request_id, verdicts), outgoing, pickle.HIGHEST_PROTOCOL)
        outgoing.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
