"""A small pool of engine worker processes (app/engine/worker.py) and the watchdog over them.

The web and scheduler processes never run designer code: `WorkflowEngine` sends each step here, and a
worker runs it under operating-system limits (memory, CPU time; see worker.py). The thread that sends
a job waits for the reply with a wall-clock deadline (the time limit plus WATCHDOG_GRACE); a worker
that overruns it is killed (SIGKILL) and replaced, and the step fails with `EngineFailure(limit=True)`
naming the element that was running. So does a step whose worker dies (SIGXCPU, a crash) or runs out
of memory. Other requests never wait for it: each job has a worker of its own.

- Workers start from the multiprocessing forkserver with the engine modules preloaded, lazily (the
  first job starts the first worker; more start when jobs run at the same time, up to `size`).
- One pool per process and per set of limits (`shared_pool`): tests build many apps, gunicorn forks
  workers. A forked child never touches its parent's pool or forkserver: it starts its own on first use.
  Pools are shut down at exit.
- Thread-safe: any number of threads may call `run`; each job holds one worker until it is answered.
- A job goes, when possible, to the worker that produced its state (it has that state deserialized).
- Replies are unpickled with an allowlist of classes: a worker is never trusted with the parent.
"""

from __future__ import annotations

import atexit
import ctypes
import io
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing import forkserver
from typing import Any

from .steps import Job, Limits
from .views import EngineFailure
from .worker import STATUS_SIZE, serve

log = logging.getLogger(__name__)

WATCHDOG_GRACE = 0.5        # seconds a step may run beyond the time limit before its worker is killed
STARTUP_TIMEOUT = 60.0     # seconds a new worker may take to start (the first one starts the forkserver)
MAX_NEEDS_PER_JOB = 4       # a worker asks for a bundle and a calendar at most
AFFINITY_SIZE = 4096
PRELOAD = ["__main__", "app.engine.worker"]

_ALLOWED = frozenset({
    ("app.engine.steps", "Outcome"), ("app.engine.steps", "Snapshot"),
    ("app.engine.views", "StepResult"), ("app.engine.views", "Passed"),
    ("app.engine.views", "UserTaskView"), ("app.engine.views", "TimerView"),
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "timedelta"), ("datetime", "timezone"),
    ("decimal", "Decimal"), ("uuid", "UUID"), ("uuid", "SafeUUID"),
})


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"an engine worker sent a {module}.{name}")
        return super().find_class(module, name)


def _loads(data: bytes) -> Any:
    return _ReplyUnpickler(io.BytesIO(data)).load()


class _Worker:
    """The parent's side of one worker process."""

    def __init__(self, process: Any, conn: Any, status: Any) -> None:
        self.process = process
        self.conn = conn
        self.status = status
        self.alive = True
        self.discarded = False

    def element(self) -> str | None:
        try:
            return self.status.value.decode("utf-8", "replace") or None
        except (ValueError, OSError):  # pragma: no cover - the buffer is ours
            return None

    def stop(self, kill: bool) -> int | None:
        """End the process (SIGKILL when `kill`, else close its pipe and let it exit); its exit code."""
        self.alive = False
        if kill and self.process.is_alive():
            self.process.kill()
        try:
            self.conn.close()
        except OSError:
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        code = self.process.exitcode
        try:
            self.process.close()
        except ValueError:  # still running after SIGKILL: leave it to the OS
            pass
        return code


class EnginePool:
    """Up to `size` engine workers sharing one set of `limits`."""

    def __init__(self, limits: Limits, size: int) -> None:
        if size < 1:
            raise ValueError("an engine pool needs at least one worker")
        self.limits = limits
        self.size = size
        self.pid = os.getpid()
        self.closed = False
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._starting = 0
        self._affinity: OrderedDict[int, _Worker] = OrderedDict()
        self._max_reply = max(64, limits.memory_limit_mb) * 2**20

    # -- public -------------------------------------------------------------------------------------------
    def run(self, job: Job, answer: Callable[[str, str], Any]) -> tuple[Any, ...]:
        """Send `job` to a worker and return its reply (see worker.py); `answer(kind, key)` supplies a
        bundle's (process key, sources) or a calendar when the worker asks for one.

        :raises EngineFailure: the step overran the watchdog or its worker died (limit=True).
        """
        key = hash(job.state) if job.state is not None else None
        worker = self._acquire(key)
        try:
            reply = self._exchange(worker, job, answer)
        except BaseException:
            self._discard(worker, kill=True, replace=True)
            raise
        if reply[0] == "fail" and reply[4]:  # the worker retires (it ran out of memory)
            self._discard(worker, kill=False, replace=True)
        else:
            self._release(worker, reply[1].state if reply[0] == "ok" else None)
        return reply

    def close(self) -> None:
        """Stop every worker (idle ones at once; busy ones are killed)."""
        with self._cond:
            self.closed = True
            workers, self._idle = list(self._workers), []
            self._workers.clear()
            self._affinity.clear()
            self._cond.notify_all()
        for worker in workers:
            try:
                worker.conn.send_bytes(pickle.dumps(("stop",)))
            except (OSError, ValueError):
                pass
            worker.stop(kill=False)

    @property
    def worker_pids(self) -> list[int]:
        with self._cond:
            return [w.process.pid for w in self._workers]

    # -- workers ------------------------------------------------------------------------------------------
    def _acquire(self, key: int | None) -> _Worker:
        while True:
            with self._cond:
                worker = self._take(key)
                if worker is None:
                    self._starting += 1
            if worker is None:
                try:
                    worker = self._spawn()
                finally:
                    with self._cond:
                        self._starting -= 1
                        self._cond.notify_all()
                with self._cond:
                    if self.closed:
                        worker.stop(kill=True)
                        raise RuntimeError("the engine pool is closed")
                    self._workers.add(worker)
                return worker
            if worker.conn.poll(0):  # an idle worker has nothing to say: it died (or misbehaved)
                self._discard(worker, kill=True, replace=False)
                continue
            return worker

    def _take(self, key: int | None) -> _Worker | None:
        """An idle worker (the one that produced the state, if idle), or None to start one. Waits when
        all `size` workers are busy. Called with the lock held."""
        while True:
            if self.closed:
                raise RuntimeError("the engine pool is closed")
            if self._idle:
                preferred = self._affinity.get(key) if key is not None else None
                if preferred is not None and preferred in self._idle:
                    self._idle.remove(preferred)
                    return preferred
                return self._idle.pop()
            if len(self._workers) + self._starting < self.size:
                return None
            self._cond.wait()

    def _release(self, worker: _Worker, state: str | None) -> None:
        with self._cond:
            if not worker.alive or worker not in self._workers:
                return
            if state is not None:
                self._affinity[hash(state)] = worker
                while len(self._affinity) > AFFINITY_SIZE:
                    self._affinity.popitem(last=False)
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker, kill: bool, replace: bool) -> int | None:
        with self._cond:
            if worker.discarded:
                return None
            worker.discarded = True
            self._workers.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            self._cond.notify_all()
        code = worker.stop(kill=kill)
        if replace and not self.closed:
            self._replace()
        return code

    def _replace(self) -> None:
        """Start a fresh worker now, so the next step does not wait for one (best effort)."""
        with self._cond:
            if self.closed or len(self._workers) + self._starting >= self.size:
                return
            self._starting += 1
        try:
            worker = self._spawn()
        except Exception:  # noqa: BLE001 - the next job starts one (and reports what fails)
            worker = None
        with self._cond:
            self._starting -= 1
            if worker is not None and not self.closed:
                self._workers.add(worker)
                self._idle.append(worker)
            elif worker is not None:
                worker.stop(kill=True)
            self._cond.notify_all()

    def _spawn(self) -> _Worker:
        ctx = _context()
        with _spawn_lock:
            parent_conn, child_conn = ctx.Pipe(duplex=True)
            status = ctx.RawArray(ctypes.c_char, STATUS_SIZE)
            process = ctx.Process(target=serve, args=(child_conn, self.limits, status), daemon=True,
                                  name="banjian-engine-worker")
            try:
                process.start()
            finally:
                child_conn.close()
        worker = _Worker(process, parent_conn, status)
        # Its start-up (imports, limits) must not count against the first step's time.
        try:
            ready = parent_conn.poll(STARTUP_TIMEOUT) and _loads(parent_conn.recv_bytes(1024))
        except (EOFError, OSError, pickle.UnpicklingError):
            ready = None
        if not (isinstance(ready, tuple) and ready[:1] == ("ready",)):
            code = worker.stop(kill=True)
            raise EngineFailure(f"an engine worker did not start ({self._death(code)})", None, limit=True)
        return worker

    # -- one job ------------------------------------------------------------------------------------------
    def _exchange(self, worker: _Worker, job: Job, answer: Callable[[str, str], Any]) -> tuple[Any, ...]:
        budget = self.limits.time_limit + WATCHDOG_GRACE
        conn = worker.conn
        try:
            conn.send_bytes(pickle.dumps(("job", job), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            raise self._died(worker) from None
        deadline = time.monotonic() + budget
        needs = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not conn.poll(remaining):
                element = worker.element()
                self._discard(worker, kill=True, replace=True)
                raise EngineFailure(self.limits.describe_time(), element, limit=True)
            try:
                data = conn.recv_bytes(self._max_reply)
            except (EOFError, OSError):
                raise self._died(worker) from None
            try:
                message = _loads(data)
            except Exception as exc:  # noqa: BLE001 - whatever the bytes are, the worker is not trusted
                raise self._unreadable(worker, f"{type(exc).__name__}: {exc}") from None
            if not isinstance(message, tuple) or not message:
                raise self._unreadable(worker, f"a {type(message).__name__}")
            if message[0] != "need":
                if message[0] not in ("ok", "missing", "fail"):
                    raise self._unreadable(worker, f"{str(message[0])[:40]!r}")
                return message
            needs += 1
            if needs > MAX_NEEDS_PER_JOB or len(message) != 3:
                raise self._unreadable(worker, "too many requests")
            kind, key = message[1], message[2]
            value = answer(kind, key)
            conn.send_bytes(pickle.dumps((kind, key, value), protocol=pickle.HIGHEST_PROTOCOL))
            deadline = time.monotonic() + budget  # the parent's time to answer is not the step's

    def _died(self, worker: _Worker) -> EngineFailure:
        """The failure for a worker that died or broke the protocol during a job (it is killed)."""
        element = worker.element()
        code = self._discard(worker, kill=True, replace=True)
        return EngineFailure(self._death(code), element, limit=True)

    def _unreadable(self, worker: _Worker, what: str) -> EngineFailure:
        """The failure for a worker that sent what the protocol does not allow (it is killed)."""
        log.error("engine worker %s sent an unreadable reply: %s", worker.process.pid, what)
        element = worker.element()
        self._discard(worker, kill=True, replace=True)
        return EngineFailure(f"the engine worker running the step sent an unreadable reply ({what})", element,
                             limit=True)

    def _death(self, code: int | None) -> str:
        if code is not None and code < 0:
            signum = -code
            if signum == signal.SIGXCPU:
                return f"{self.limits.describe_time()} (CPU time)"
            name = signal.Signals(signum).name if signum in signal.valid_signals() else str(signum)
            if signum == signal.SIGKILL:
                return f"the engine worker running the step was killed ({name}); " \
                       f"perhaps {self.limits.describe_memory()}"
            return f"the engine worker running the step crashed ({name})"
        if code is not None:
            return f"the engine worker running the step stopped (exit code {code})"
        return "the engine worker running the step stopped answering"


# -- one pool per process and per limits -------------------------------------------------------------------
_spawn_lock = threading.Lock()
_registry_lock = threading.Lock()
_pools: dict[tuple[Limits, int], EnginePool] = {}
_context_ready = False


def _context() -> Any:
    global _context_ready
    ctx = multiprocessing.get_context("forkserver")
    if not _context_ready:
        ctx.set_forkserver_preload(PRELOAD)  # has no effect once this process's forkserver runs
        _context_ready = True
    return ctx


def shared_pool(limits: Limits, size: int) -> EnginePool:
    """This process's pool for `limits` and `size`, created on first use."""
    key = (limits, size)
    with _registry_lock:
        pool = _pools.get(key)
        if pool is None or pool.closed or pool.pid != os.getpid():
            pool = _pools[key] = EnginePool(limits, size)
        return pool


def shutdown() -> None:
    """Stop this process's pools (at exit; tests may call it)."""
    with _registry_lock:
        pools = [p for p in _pools.values() if p.pid == os.getpid()]
        _pools.clear()
    for pool in pools:
        pool.close()


def _after_fork_in_child() -> None:
    """A forked child (a gunicorn worker, say) starts afresh: its parent's pools and forkserver are not
    its own (waiting for them would fail), and a lock held at the fork would never be released."""
    global _registry_lock, _spawn_lock, _pools
    _registry_lock, _spawn_lock = threading.Lock(), threading.Lock()
    _pools = {}
    server = forkserver._forkserver  # the module's singleton; multiprocessing keeps no per-process copy
    if getattr(server, "_forkserver_pid", None) is not None:
        try:
            os.close(server._forkserver_alive_fd)
        except (OSError, TypeError):
            pass
        server._forkserver_pid = None
        server._forkserver_address = None
        server._forkserver_alive_fd = None
        server._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
