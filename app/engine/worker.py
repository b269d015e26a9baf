"""An engine worker process: runs engine steps for the web or scheduler process that started it.

Started by app/engine/pool.py from the multiprocessing forkserver, which has this module (and so the
engine and SpiffWorkflow) imported already, so a new worker is ready in milliseconds. The operating
system limits it:
- RLIMIT_AS: its address space at start plus the memory limit (a MemoryError ends the step, and the
  worker retires after replying);
- RLIMIT_CPU: set before each job to the CPU time used so far plus the time limit, rounded up to whole
  seconds (SIGXCPU kills it; the parent reports the step as too long);
- no core files; SIGINT ignored (Ctrl-C in a terminal stops the parent, which stops its workers).
The parent's wall-clock watchdog kills it (SIGKILL) if a step overruns anyway.

Protocol, over one Pipe, each message a pickled tuple (the worker first says ("ready", pid)):
  parent -> worker  ("job", Job) | ("bundle", key, (process key, sources)) | ("calendar", key, WorkCalendar)
  worker -> parent  ("need", "bundle" | "calendar", key) | ("ok", Outcome) | ("missing",)
                    | ("fail", message, element id, limit, retire)
A job names its spec bundle and calendar by key; the worker asks for one ("need") only when its cache
lacks it, so the common job carries only the state and the action. The element whose code is running
is published in a small shared buffer, so a step the watchdog kills still names it.

A "read" job (what the services read before a step: open user tasks and their data) leaves the
deserialized workflow in a small cache, and so does an idle worker for the state it has just returned;
a step whose state is cached, which the pool sends to that worker when it can, starts from it instead
of deserializing the state again.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import signal
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from app.workdays import WorkCalendar

from .specs import SpecBundle, build_bundle
from .steps import Job, Limits, StepRunner
from .views import EngineFailure

BUNDLES_CACHED = 64
CALENDARS_CACHED = 2
STATES_CACHED = 4
PREFETCH_MAX_CHARS = 1_000_000   # larger states are not deserialized ahead
STATUS_SIZE = 128                # bytes of the shared buffer naming the running element
_PAGE = os.sysconf("SC_PAGE_SIZE")


def address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS limits)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * _PAGE


def serve(conn: Any, limits: Limits, status: Any) -> None:
    """The worker's main function (the target of its Process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    baseline = address_space()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = baseline + limits.memory_limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    worker = _Worker(conn, limits, status)
    worker.send(("ready", os.getpid()))  # the parent starts a job's clock only once the worker is up
    worker.loop()


class _ProtocolError(Exception):
    pass


class _Worker:
    def __init__(self, conn: Any, limits: Limits, status: Any) -> None:
        self.conn = conn
        self.limits = limits
        self.status = status
        self.bundles: OrderedDict[str, SpecBundle] = OrderedDict()
        self.calendars: OrderedDict[str, WorkCalendar] = OrderedDict()
        self.states: OrderedDict[tuple[str, str], BpmnWorkflow] = OrderedDict()
        self.calendar_key: str | None = None
        self.runner = StepRunner(limits, self.calendar, on_element=self.publish, worker=True)
        self.rss_limit_kb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                             + limits.memory_limit_mb * 1024 // 2)

    # -- the pipe ---------------------------------------------------------------------------------------
    def send(self, message: tuple[Any, ...]) -> None:
        self.conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def recv(self) -> tuple[Any, ...]:
        message = pickle.loads(self.conn.recv_bytes())
        if not isinstance(message, tuple) or not message:
            raise _ProtocolError(f"unexpected message {type(message).__name__}")
        return message

    def need(self, kind: str, key: str) -> Any:
        self.send(("need", kind, key))
        answer = self.recv()
        if answer[:2] != (kind, key):
            raise _ProtocolError(f"asked for {kind} {key}, got {answer[:2]!r}")
        self.arm_cpu()  # what the parent took to answer is not the step's time
        return answer[2]

    # -- limits and status --------------------------------------------------------------------------------
    def arm_cpu(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + self.limits.time_limit)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))

    def publish(self, element: str) -> None:
        self.status.value = element.encode("utf-8", "replace")[:STATUS_SIZE - 1]

    # -- caches -------------------------------------------------------------------------------------------
    def bundle(self, key: str) -> SpecBundle:
        bundle = self.bundles.get(key)
        if bundle is None:
            process_key, sources = self.need("bundle", key)
            bundle = build_bundle(process_key, sources)
            if bundle.cache_key != key:
                raise _ProtocolError("the sources sent do not match the bundle key")
            self.arm_cpu()
            self.bundles[key] = bundle
            while len(self.bundles) > BUNDLES_CACHED:
                self.bundles.popitem(last=False)
        else:
            self.bundles.move_to_end(key)
        return bundle

    def calendar(self) -> WorkCalendar:
        """The calendar of the job in progress (the helpers call this while an expression runs)."""
        key = self.calendar_key
        if key is None:
            raise RuntimeError("no calendar was named for this step")
        calendar = self.calendars.get(key)
        if calendar is None:
            calendar = self.need("calendar", key)
            if not isinstance(calendar, WorkCalendar):
                raise _ProtocolError("not a calendar")
            self.calendars[key] = calendar
            while len(self.calendars) > CALENDARS_CACHED:
                self.calendars.popitem(last=False)
        return calendar

    # -- jobs ---------------------------------------------------------------------------------------------
    def loop(self) -> None:
        while True:
            try:
                message = self.recv()
            except (EOFError, OSError):
                return  # the parent has gone or closed the pipe
            if message[0] == "stop":
                return
            if message[0] != "job" or len(message) != 2 or not isinstance(message[1], Job):
                raise _ProtocolError(f"unexpected {message[0]!r}")
            if not self.job(message[1]):
                return

    def job(self, job: Job) -> bool:
        """Run one job and reply; False when this worker should retire."""
        self.arm_cpu()
        self.status.value = b""
        self.calendar_key = job.calendar_key
        retire = False
        workflow: BpmnWorkflow | None = None
        try:
            bundle = self.bundle(job.bundle_key)
            if job.state is not None:
                workflow = self.states.pop((job.bundle_key, job.state), None)
            target = self.bundle(job.target_key) if job.target_key is not None else None  # a migration
            workflow, outcome = self.runner.run(job, bundle, workflow, target=target)
            reply: tuple[Any, ...] = ("ok", outcome)
            if job.op == "read" and job.state is not None and workflow is not None:
                self.states[(job.bundle_key, job.state)] = workflow  # for the step that follows
                while len(self.states) > STATES_CACHED:
                    self.states.popitem(last=False)
        except KeyError:
            reply = ("missing",)
        except EngineFailure as failure:
            retire = failure.limit and failure.message == self.limits.describe_memory()  # a MemoryError
            reply = ("fail", failure.message, failure.element_id, failure.limit, retire)
        except MemoryError:
            retire = True
            reply = ("fail", self.limits.describe_memory(), self.runner.current_element, True, True)
        except (_ProtocolError, EOFError, OSError):
            raise  # the pipe is broken: this worker is done
        except Exception as exc:  # noqa: BLE001 - an unreadable state, say: the step fails, the worker goes on
            failure = self.runner.failure(exc, None)
            reply = ("fail", failure.message, failure.element_id, failure.limit, False)
        workflow = None  # a failed step's workflow may hold what exhausted the memory
        try:
            self.send_reply(reply)
        except MemoryError:
            return False
        if retire:
            return False
        if reply[0] == "ok" and reply[1].state is not None:
            self.prefetch(job.target_key or job.bundle_key, reply[1].state)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < self.rss_limit_kb

    def prefetch(self, bundle_key: str, state: str) -> None:
        """While idle, deserialize the state just returned: a case's next step often follows soon (a clerk
        working through it), and the pool sends it here when it can. Skipped when a job already waits."""
        if len(state) > PREFETCH_MAX_CHARS or self.conn.poll(0):
            return
        self.arm_cpu()
        try:
            workflow = self.runner.load(state, self.bundles[bundle_key])
        except Exception:  # noqa: BLE001 - the step that needs it loads it again and reports what fails
            return
        self.states[(bundle_key, state)] = workflow
        while len(self.states) > STATES_CACHED:
            self.states.popitem(last=False)

    def send_reply(self, reply: tuple[Any, ...]) -> None:
        """Send `reply`; if its data does not pickle (a function nested in the data, which the state
        stores as null), without it: the parent then reads the data from the state."""
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            if reply[0] != "ok" or reply[1].snapshot is None:
                raise
            reply[1].snapshot.data = reply[1].snapshot.ready_data = None
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        self.conn.send_bytes(payload)
