"""Verifying a batch of SM2 signatures on every core.

Verification costs about four signatures and gmalglib holds the GIL while it computes, so threads do
not help. Worker processes (`python -m tongban.crypto.parallel`: this package and its backend, never
Django) each take a share of a batch while the caller verifies its own share. They are plain child
processes talking pickle over their stdin and stdout — not `multiprocessing`, whose spawned children
re-import the parent's main script — and they exit when the parent closes their stdin or dies.

`TONGBAN_VERIFY_WORKERS` sets the number of workers: unset, one less than the CPUs this process may
use; 0 verifies everything in the calling process. A batch smaller than `MIN_PARALLEL` is verified in
place, since the round trip to a worker costs more than it saves; so is a
batch that arrives while another thread of the process has the workers. A worker that fails costs
only speed: its share is verified in place and the worker is started again for the next batch.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO

from tongban.crypto.backends import default_backend_name
from tongban.crypto.curve import DEFAULT_USER_ID
from tongban.crypto.keys import SM2PublicKey
from tongban.crypto.sm2 import verify

log = logging.getLogger(__name__)

ENV_VAR = "TONGBAN_VERIFY_WORKERS"
MIN_PARALLEL = 8

# One item: (public key, signed data, DER signature).
Item = tuple[SM2PublicKey, bytes, bytes]
# What travels to a worker: (public point, data, signature) for each item of its share.
Share = list[tuple[bytes, bytes, bytes]]

_lock = threading.Lock()
_workers: list[_Worker] = []


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
    for share in verify_in_stages(items, user_id):
        verdicts.extend(share)
    return verdicts


def verify_in_stages(items: Sequence[Item], user_id: bytes = DEFAULT_USER_ID) -> Iterator[list[bool]]:
    """The verdicts a share at a time, in order: the items are cut into consecutive shares; the first is
    verified here while the workers verify the others, so a caller can act on one share (write the rows
    it verified) while the workers are still busy with the next."""
    count = worker_count()
    if count == 0 or len(items) < MIN_PARALLEL or not _lock.acquire(blocking=False):
        yield _verify_here(items, user_id)
        return
    try:
        yield from _verify_shared(items, user_id, count)
    finally:
        _lock.release()


def _verify_shared(items: Sequence[Item], user_id: bytes, count: int) -> Iterator[list[bool]]:
    size = -(-len(items) // (count + 1))  # ceiling: every share but the last is full
    shares = [list(items[i : i + size]) for i in range(0, len(items), size)]
    backend = default_backend_name()
    workers = _ensure_workers(len(shares) - 1)
    sent = [worker.send(_portable(share), user_id, backend) for worker, share in zip(workers, shares[1:], strict=True)]
    unread = [worker for worker, ok in zip(workers, sent, strict=True) if ok]
    try:
        yield _verify_here(shares[0], user_id)
        for worker, share, ok in zip(workers, shares[1:], sent, strict=True):
            verdicts = worker.receive() if ok else None
            if ok:
                unread.remove(worker)
            if verdicts is None or len(verdicts) != len(share):
                _retire(worker)
                verdicts = _verify_here(share, user_id)
            yield verdicts
    finally:
        # A caller that stopped early leaves answers in the pipes; a worker's next answer must belong
        # to its next share, so those workers go.
        for worker in unread:
            _retire(worker)


def _verify_here(items: Sequence[Item], user_id: bytes) -> list[bool]:
    return [verify(key, data, signature, user_id) for key, data, signature in items]


def _portable(share: list[Item]) -> Share:
    """The share as plain bytes: the public point travels, the worker keeps its own key objects."""
    return [(key.point, data, signature) for key, data, signature in share]


class _Worker:
    def __init__(self) -> None:
        self.pid_of_parent = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tongban.crypto.parallel"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def send(self, share: Share, user_id: bytes, backend: str) -> bool:
        try:
            assert self.process.stdin is not None
            pickle.dump((share, user_id, backend), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.flush()
            return True
        except (OSError, ValueError):
            log.warning("a signature verification worker stopped taking work; verifying its share here")
            return False

    def receive(self) -> list[bool] | None:
        try:
            assert self.process.stdout is not None
            verdicts = pickle.load(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            log.warning("a signature verification worker stopped answering; verifying its share here")
            return None
        return verdicts if isinstance(verdicts, list) else None

    def stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _ensure_workers(count: int) -> list[_Worker]:
    """The process's workers, started on first use; a forked child starts its own."""
    global _workers
    mine = [w for w in _workers if w.pid_of_parent == os.getpid() and w.process.poll() is None]
    _workers = mine
    while len(_workers) < count:
        _workers.append(_Worker())
    return _workers[:count]


def _retire(worker: _Worker) -> None:
    if worker in _workers:
        _workers.remove(worker)
    try:
        worker.process.kill()
        worker.process.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass


def shutdown() -> None:
    """Stop this process's workers (at exit, and in tests)."""
    global _workers
    with _lock:
        workers, _workers = _workers, []
    for worker in workers:
        if worker.pid_of_parent == os.getpid():
            worker.stop()


atexit.register(shutdown)


# ---------------------------------------------------------------- in the worker process


def _serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    keys: dict[bytes, SM2PublicKey] = {}
    while True:
        try:
            share, user_id, backend = pickle.load(incoming)
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
        pickle.dump(verdicts, outgoing, protocol=pickle.HIGHEST_PROTOCOL)
        outgoing.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
