"""Verifying SM2 signatures on every core.

Verification costs about four signatures and gmalglib holds the GIL while it computes, so threads do
not help. Worker processes (`python -m tongban.crypto.parallel`: this package and its backend, never
Django) verify shares of a batch while the caller verifies its own share. They are plain child
processes exchanging numbered, pickled requests and answers over their stdin and stdout — not
`multiprocessing`, whose spawned children re-import the parent's main script. A writer thread and a
reader thread per worker do the pipe I/O, so a caller never blocks on a pipe; a worker exits when
its stdin closes, which happens when its parent exits or dies.

Two ways in:
- `verify_many` / `verify_in_stages`: the verdicts of a batch, now. The items are cut into
  consecutive shares; the first is verified here while the workers take the others, and
  `verify_in_stages` hands over each share's verdicts as soon as they are known, so a caller can
  write the rows of one share while the workers finish the next.
- `warm`: signatures that will be asked about soon are sent to the workers in the background; their
  verdicts are remembered, and a later `verify_many` takes a remembered verdict instead of computing
  it again. Warming is best effort: it is dropped when the workers are busy.

A verdict is a pure function of the public key, the data, the signature and the user id; the memory
of verdicts is keyed by a SHA-256 of all four, holds the last MEMORY_SIZE, and is only ever a
shortcut: whatever it does not hold is verified when asked for.

`TONGBAN_VERIFY_WORKERS` sets the number of workers: unset, one less than the CPUs this process may
use, at most DEFAULT_MAX_WORKERS; 0 verifies everything in the calling process (and `warm` does
nothing). A batch with fewer than MIN_PARALLEL signatures left to verify is verified in place, since
the round trip to a worker costs more than it saves. A worker that dies, errs or does not answer a
batch within WORKER_TIMEOUT is killed and replaced, and its share is verified in place; workers that
keep failing are given up for RESTART_PAUSE seconds, in which everything is verified in place.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import IO

from tongban.crypto.backends import default_backend_name
from tongban.crypto.curve import DEFAULT_USER_ID
from tongban.crypto.keys import SM2PublicKey
from tongban.crypto.sm2 import verify

log = logging.getLogger(__name__)

ENV_VAR = "TONGBAN_VERIFY_WORKERS"
DEFAULT_MAX_WORKERS = 4  # a batch of 50 gains little from more; a container may report the host's CPUs
MIN_PARALLEL = 8
WARM_SHARE = 10  # signatures sent to a worker at once by `warm`
WARM_MAX_OUTSTANDING = 8  # requests a worker may have in hand before `warm` drops work
MEMORY_SIZE = 8192
WRITE_WAIT = 0.05  # seconds a batch waits for its requests to reach the workers before verifying its own share
WORKER_TIMEOUT = 5.0  # seconds for a whole batch; a share takes milliseconds, even behind warm requests
RESTART_PAUSE = 60.0  # seconds without workers after they kept failing
RESTARTS_BEFORE_PAUSE = 3

# One item: (public key, signed data, DER signature).
Item = tuple[SM2PublicKey, bytes, bytes]
# What travels to a worker: (public point, data, signature) for each item of its share.
Share = list[tuple[bytes, bytes, bytes]]


class WorkerGone(Exception):
    """A worker stopped taking work or answering, or could not verify a request."""


def worker_count() -> int:
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        try:
            return max(0, int(configured))
        except ValueError:
            _warn_once(f"{ENV_VAR}={configured!r} is not a number; using the default")
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, DEFAULT_MAX_WORKERS))


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


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
    workers.sort(key=lambda worker: worker.outstanding())  # the least busy take the shares
    size = -(-len(todo) // (len(workers) + 1))  # ceiling: every share but the last is full
    shares = [todo[i : i + size] for i in range(0, len(todo), size)]
    backend = default_backend_name()
    futures = [
        worker.submit(_portable([items[i] for i in share]), user_id, backend, [keys[i] for i in share], WRITE_WAIT)
        for worker, share in zip(workers, shares[1:], strict=False)
    ]
    deadline = time.monotonic() + WORKER_TIMEOUT  # one deadline for the batch, however many workers stall
    ends = [share[0] for share in shares[1:]] + [len(items)]  # a stage runs up to the next share's first item
    start = 0
    for number, share in enumerate(shares):
        sent = (workers[number - 1], futures[number - 1], deadline) if number else None
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
    sent: tuple[_Worker, Future[list[bool]], float] | None,
) -> list[bool]:
    """The share's verdicts: the worker's answer when one was sent and comes in time, else computed here."""
    if sent is not None:
        worker, future, deadline = sent
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except (WorkerGone, TimeoutError):
            log.warning("a signature verification worker failed or stalled; verifying its share in this process")
            _pool.failed(worker)
    return [_verify_here(items[i], user_id, keys[i]) for i in share]


def _verify_here(item: Item, user_id: bytes, key: bytes) -> bool:
    public_key, data, signature = item
    verdict = verify(public_key, data, signature, user_id)
    _memory.learn([key], [verdict])
    return verdict


def warm(items: Sequence[Item], user_id: bytes = DEFAULT_USER_ID) -> Future[list[bool]] | None:
    """Have the workers verify these in the background and remember the verdicts. It never waits for a
    worker; it returns the future of the request it sent, if it sent one (it gathers WARM_SHARE items
    of one user id first, and drops them when every worker has WARM_MAX_OUTSTANDING requests in hand).
    Without workers it does nothing: the signatures are verified when they are asked about."""
    count = worker_count()
    if count == 0 or not items:
        return None
    with _warm_lock:
        waiting = _warm_buffers.setdefault(user_id, [])
        waiting.extend(items)
        if len(waiting) < WARM_SHARE:
            return None
        batch = list(waiting)
        waiting.clear()
    workers = _pool.workers(count)
    if not workers:
        return None
    worker = min(workers, key=lambda candidate: candidate.outstanding())
    if worker.outstanding() >= WARM_MAX_OUTSTANDING:
        return None  # the workers are busy with batches: a head start is not worth waiting for
    keys = [_memory_key(item, user_id) for item in batch]
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
    """One worker process. Callers hand requests to a writer thread and get futures; a reader thread
    resolves each future with the answer that carries its request id. No caller touches the pipes."""

    def __init__(self) -> None:
        self.pid_of_parent = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tongban.crypto.parallel"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._lock = threading.Lock()  # guards the fields below; never held during I/O
        self._pending: dict[int, tuple[Future[list[bool]], list[bytes]]] = {}
        self._ids = itertools.count()
        self.alive = True
        self._requests: queue.SimpleQueue[tuple[bytes, threading.Event] | None] = queue.SimpleQueue()
        threading.Thread(target=self._write, name="tongban-verify-writer", daemon=True).start()
        threading.Thread(target=self._read, name="tongban-verify-reader", daemon=True).start()

    def outstanding(self) -> int:
        with self._lock:
            return len(self._pending)

    def submit(
        self, share: Share, user_id: bytes, backend: str, keys: list[bytes], wait_written: float = 0.0
    ) -> Future[list[bool]]:
        """Queue a share; the future gets its verdicts, which are remembered under `keys` first. With
        `wait_written`, wait up to that long for the writer to hand it to the worker: a caller about to
        verify its own share holds the GIL for a while, and the writer would wait for it."""
        future: Future[list[bool]] = Future()
        with self._lock:
            if not self.alive:
                future.set_exception(WorkerGone())
                return future
            request_id = next(self._ids)
            self._pending[request_id] = (future, keys)
        written = threading.Event()
        self._requests.put((pickle.dumps((request_id, share, user_id, backend), pickle.HIGHEST_PROTOCOL), written))
        if wait_written:
            written.wait(wait_written)
        return future

    def _write(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (request := self._requests.get()) is not None:
                payload, written = request
                stdin.write(payload)
                stdin.flush()
                written.set()
        except (OSError, ValueError):
            self._end()
        finally:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

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
                if verdicts is None:  # the worker could not verify this request; it goes on with others
                    _settle(future, exception=WorkerGone())
                    continue
                if not isinstance(verdicts, list) or len(verdicts) != len(keys):
                    raise ValueError("an answer that does not fit its request")
                _memory.learn(keys, verdicts)
                _settle(future, result=verdicts)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            pass  # the worker is gone (or talks nonsense): every request still waiting fails below
        finally:
            self._end()

    def _end(self) -> None:
        """No more requests; every one still waiting fails, so its caller verifies in place."""
        with self._lock:
            self.alive = False
            pending, self._pending = self._pending, {}
        for future, _keys in pending.values():
            _settle(future, exception=WorkerGone())

    def close(self) -> None:
        """Ask the worker to finish: its stdin closes after the requests already queued."""
        self._requests.put(None)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self._end()
        self._requests.put(None)

    def wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()


def _settle(
    future: Future[list[bool]], *, result: list[bool] | None = None, exception: Exception | None = None
) -> None:
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result or [])
    except InvalidStateError:  # the caller cancelled it: nobody is waiting
        pass


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._failures: list[float] = []
        self._paused_until = 0.0
        self.closed = False

    def workers(self, count: int) -> list[_Worker]:
        """`count` live workers of this process, started on first use; none while paused or closed."""
        with self._lock:
            self._workers = [w for w in self._workers if w.alive]
            if self.closed or count == 0 or time.monotonic() < self._paused_until:
                return []
            while len(self._workers) < count:
                try:
                    self._workers.append(_Worker())
                except OSError as error:
                    log.warning("cannot start a signature verification worker (%s); verifying in place", error)
                    self._pause()
                    return []
            return list(self._workers[:count])

    def failed(self, worker: _Worker) -> None:
        """A worker failed a request or stalled: kill it; several failures in a row pause the pool."""
        worker.kill()
        with self._lock:
            now = time.monotonic()
            self._failures = [at for at in self._failures if now - at < RESTART_PAUSE] + [now]
            if len(self._failures) >= RESTARTS_BEFORE_PAUSE:
                self._pause()

    def _pause(self) -> None:
        self._paused_until = time.monotonic() + RESTART_PAUSE
        self._failures = []
        log.warning("signature verification workers keep failing; verifying in place for %.0f s", RESTART_PAUSE)

    def shutdown(self, *, close: bool = False) -> None:
        """Stop the workers: all are asked to finish first, then waited for together, then killed."""
        with self._lock:
            workers, self._workers = self._workers, []
            self.closed = self.closed or close
            self._paused_until = 0.0
            self._failures = []
        for worker in workers:
            worker.close()
        deadline = time.monotonic() + 5
        for worker in workers:
            worker.wait(deadline - time.monotonic())

    def health(self, configured: int) -> PoolHealth:
        with self._lock:
            alive = sum(1 for w in self._workers if w.alive)
            return PoolHealth(configured, alive, time.monotonic() < self._paused_until)

    def reset_in_child(self) -> None:
        """After fork: the parent's workers are not ours. Let go of our copies of their pipes without
        writing to them (the ends become /dev/null), so the workers still see their parent's exit."""
        for worker in self._workers:
            for stream in (worker.process.stdin, worker.process.stdout):
                if stream is not None:
                    _release(stream)
        self.__init__()


def _release(stream: IO[bytes]) -> None:
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


_memory = _Memory()
_pool = _Pool()
_warm_lock = threading.Lock()
_warm_buffers: dict[bytes, list[Item]] = {}


@dataclass(frozen=True)
class PoolHealth:
    """What `/metrics` shows of this process's verification workers: how many it may use, how many
    run now (they start on first use), and whether repeated failures made it verify in place."""

    configured: int
    alive: int
    paused: bool


def health() -> PoolHealth:
    return _pool.health(worker_count())


def shutdown() -> None:
    """Stop this process's workers (tests; they start again when next needed)."""
    _pool.shutdown()


def forget() -> None:
    """Drop the remembered verdicts and any signatures waiting to be warmed (tests)."""
    _memory.forget()
    with _warm_lock:
        _warm_buffers.clear()


def _after_fork_in_child() -> None:
    global _memory, _warm_lock, _warm_buffers
    _pool.reset_in_child()
    _memory = _Memory()
    _warm_lock = threading.Lock()
    _warm_buffers = {}


atexit.register(lambda: _pool.shutdown(close=True))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ---------------------------------------------------------------- in the worker process


def _serve(incoming: IO[bytes], outgoing: IO[bytes]) -> None:
    keys: dict[bytes, SM2PublicKey] = {}
    while True:
        try:
            request_id, share, user_id, backend = pickle.load(incoming)
        except EOFError:
            return  # the parent closed our stdin, exited or died
        try:
            verdicts: list[bool] | None = _verify_request(share, user_id, backend, keys)
        except Exception:  # this request only: the parent verifies it in place
            log.exception("verifying request %s failed", request_id)
            verdicts = None
        try:
            pickle.dump((request_id, verdicts), outgoing, pickle.HIGHEST_PROTOCOL)
            outgoing.flush()
        except BrokenPipeError:
            return  # the parent is gone


def _verify_request(share: Share, user_id: bytes, backend: str, keys: dict[bytes, SM2PublicKey]) -> list[bool]:
    verdicts = []
    for point, data, signature in share:
        key = keys.get(point)
        if key is None:
            if len(keys) >= 1024:
                keys.clear()
            key = keys[point] = SM2PublicKey(point)
        verdicts.append(verify(key, data, signature, user_id, backend=backend))  # the caller's implementation
    return verdicts


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which closes our stdin
    _serve(sys.stdin.buffer, sys.stdout.buffer)
