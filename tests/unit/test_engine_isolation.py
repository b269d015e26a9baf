"""The engine runs designer code in worker processes that the OS limits: what escaped the in-process
sandbox (C-level loops and allocations) now ends the step with an EngineFailure, the worker is replaced
and the next step works; what a script leaves in the data that cannot be stored, unbounded helper
arguments and oversized multi-instance loops fail readably instead of with a server error."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from app import SettingsError, create_app
from app.engine import pool as pool_module
from app.engine.helpers import MAX_WORKDAYS, calendar_helpers
from app.engine.runtime import CaseWorkflow, EngineFailure, WorkflowEngine
from app.engine.sandbox import ScriptForbidden
from app.engine.specs import BpmnSource, SpecBundle, build_bundle
from app.engine.validate import lint
from app.workdays import default_calendar
from tests.bpmn_builder import linear, script, user
from tests.conftest import make_config

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TIME_LIMIT = 0.5
MEMORY_MB = 96
EXTEND = "a = [1]\na.extend(map(abs, a))"
SORTED = "L = [0] * 1000000\nn = [" + ", ".join(["len(sorted(L))"] * 600) + "]"


def now() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def engine() -> Iterator[WorkflowEngine]:
    engine = WorkflowEngine(time_limit=TIME_LIMIT, memory_limit_mb=MEMORY_MB, workers=2, max_loop_instances=5)
    yield engine
    engine._shared_pool().close()


def bundle_with(code: str, key: str = "p") -> SpecBundle:
    """start -> user task `work` -> script `bad` (code) -> user task `after` -> end."""
    return build_bundle(key, [BpmnSource(f"{key}.bpmn", linear(key, user("work"), script("bad", code), user("after")))])


def at_work(engine: WorkflowEngine, bundle: SpecBundle) -> tuple[CaseWorkflow, str]:
    workflow, _ = engine.start(bundle, {}, now)
    [task] = engine.user_tasks(workflow)
    return engine.loads(engine.dumps(workflow), bundle), task.id


def fail(engine: WorkflowEngine, code: str) -> tuple[EngineFailure, float]:
    workflow, task_id = at_work(engine, bundle_with(code))
    state = engine.dumps(workflow)
    start = time.monotonic()
    with pytest.raises(EngineFailure) as caught:
        engine.complete(workflow, task_id, {}, now)
    elapsed = time.monotonic() - start
    assert engine.dumps(workflow) == state  # the caller's workflow is the last good state
    return caught.value, elapsed


def still_works(engine: WorkflowEngine) -> None:
    workflow, task_id = at_work(engine, bundle_with("y = 1", "ok"))
    engine.complete(workflow, task_id, {"note": "x"}, now)
    assert [t.key for t in engine.user_tasks(workflow)] == ["after"]
    assert engine.data(workflow)["y"] == 1


# -- what escaped the in-process sandbox ----------------------------------------------------------------


@pytest.mark.parametrize("code", [EXTEND, "a = [1]\na += map(abs, a)"])
def test_growing_a_list_from_c_is_stopped_by_the_memory_limit(engine, code):
    failure, elapsed = fail(engine, code)
    assert failure.limit and failure.element_id == "bad"
    assert f"more than {MEMORY_MB} MB" in failure.message
    assert elapsed < TIME_LIMIT + 5  # it ran 11 s and grew to 3 GB before
    still_works(engine)


def test_long_c_calls_on_one_line_are_stopped_by_the_cpu_limit_or_the_watchdog(engine):
    pids = set(engine._shared_pool().worker_pids)
    failure, elapsed = fail(engine, SORTED)
    assert failure.limit and failure.element_id == "bad"
    assert f"longer than {TIME_LIMIT:g} s" in failure.message
    assert elapsed < TIME_LIMIT + 1.5  # 54 s before
    assert not pids & set(engine._shared_pool().worker_pids)  # killed (SIGXCPU or SIGKILL) and replaced
    still_works(engine)


def test_the_watchdog_kills_a_step_that_overruns_and_a_fresh_worker_takes_the_next(engine):
    pool = engine._shared_pool()
    still_works(engine)
    before = set(pool.worker_pids)
    failure, elapsed = fail(engine, SORTED)
    assert failure.limit
    assert before - set(pool.worker_pids)  # the worker that ran it is gone...
    assert len(pool.worker_pids) >= 1       # ...and a fresh one is ready
    still_works(engine)


def test_a_worker_that_dies_while_idle_is_replaced_before_the_next_step(engine):
    still_works(engine)
    pool = engine._shared_pool()
    workers = list(pool._workers)
    pids = {w.process.pid for w in workers}
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for worker in workers:
        worker.process.join(10)
    still_works(engine)
    assert not pids & set(pool.worker_pids)


def test_a_bad_step_does_not_hold_up_steps_in_other_threads(engine):
    still_works(engine)
    outcome: list[BaseException | EngineFailure] = []

    def bad() -> None:
        try:
            outcome.append(fail(engine, SORTED)[0])
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    runaway = threading.Thread(target=bad)
    runaway.start()
    rounds: list[float] = []
    while runaway.is_alive() or not rounds:  # steps keep going while the bad one runs (pool of two)
        start = time.monotonic()
        still_works(engine)
        rounds.append(time.monotonic() - start)
    runaway.join()
    assert isinstance(outcome[0], EngineFailure) and outcome[0].limit
    assert len(rounds) >= 3 and sorted(rounds)[len(rounds) // 2] < 0.25, rounds


def test_the_web_process_never_evaluates_designer_code(engine):
    workflow, task_id = at_work(engine, bundle_with("y = 1"))
    engine.task_data(workflow, task_id)  # a read deserializes here...
    live = engine._live(workflow)
    with pytest.raises(ScriptForbidden):  # ...with a script engine that refuses everything
        live.script_engine.environment.evaluate("1 + 1", {})
    with pytest.raises(ScriptForbidden):
        live.script_engine.environment.execute("x = 1", {})


def test_a_reply_that_is_not_plain_data_is_refused():
    class Evil:
        def __reduce__(self):
            return (os.getpid, ())

    with pytest.raises(pickle.UnpicklingError, match="posix.getpid"):
        pool_module._loads(pickle.dumps(("ok", Evil())))


def test_pools_are_shared_per_limits_and_created_lazily():
    first = WorkflowEngine(time_limit=0.7, workers=1)
    second = WorkflowEngine(time_limit=0.7, workers=1)
    assert first._pool is None  # nothing starts before the first step
    assert first._shared_pool() is second._shared_pool()
    assert WorkflowEngine(time_limit=0.8, workers=1)._shared_pool() is not first._shared_pool()
    pool_module.shutdown()
    assert first._shared_pool() is not None and not first._shared_pool().closed


def test_a_forked_child_starts_its_own_pool(engine):
    still_works(engine)  # the parent has a pool and a forkserver
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            still_works(engine)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    still_works(engine)


def test_without_isolation_steps_run_in_process_alike():
    engine = WorkflowEngine(time_limit=TIME_LIMIT, isolated=False)
    still_works(engine)
    failure, _ = fail(engine, "x = 1 / 0")
    assert failure.element_id == "bad" and not failure.limit


# -- data that cannot be stored --------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), [
    ("x = (i for i in [1])", "a generator"),
    ("x = range(3)", "a range"),
    ("x = b'ab'", "a bytes"),
    ("x = 1j", "a complex"),
    ("x = map(abs, [1])", "a map"),
    ("x = ValueError('no')", "a ValueError"),
    ("x = {'k': [frozenset([1])]}", "a frozenset"),
    ("x = {(1, 2): 3}", "a dict whose key is a tuple"),
    ("x = []\nfor i in range(50000):\n    x = [x]", "nested more than 100 levels"),
])
def test_data_that_cannot_be_stored_fails_the_step_naming_the_variable(engine, code, kind):
    failure, _ = fail(engine, code)
    assert failure.element_id == "bad" and not failure.limit
    assert "'x'" in failure.message and kind in failure.message, failure.message


def test_timedeltas_tuples_and_sets_read_back(engine):
    workflow, task_id = at_work(engine, bundle_with(
        "d = timedelta(days=1, microseconds=5)\nt = (1, 2)\ns = {3}\nwhen = date(2026, 1, 2)"))
    engine.complete(workflow, task_id, {}, now)
    restored = engine.loads(engine.dumps(workflow), workflow.bundle)
    data = engine.data(restored)
    assert data["d"] == timedelta(days=1, microseconds=5)
    assert (data["t"], data["s"], data["when"]) == ([1, 2], [3], date(2026, 1, 2))


# -- working-day helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "bound"), [
    ("x = add_workdays(date(1, 1, 2), 3000000)", "1900-01-01 and 2200-12-31"),
    ("x = [" + ", ".join(["add_workdays(date(2100, 1, 2), 300000)"] * 5) + "]", f"between 0 and {MAX_WORKDAYS}"),
    ("x = add_workdays(date(2026, 1, 2), -1)", f"between 0 and {MAX_WORKDAYS}"),
    ("x = workday_deadline(date(2200, 12, 1), 3650)", "after 2200-12-31"),
    ("x = is_working_day(date(9999, 12, 31))", "1900-01-01 and 2200-12-31"),
])
def test_helper_arguments_are_bounded(engine, code, bound):
    failure, elapsed = fail(engine, code)
    assert bound in failure.message and failure.element_id == "bad"
    assert elapsed < TIME_LIMIT + 1


def test_helpers_count_on_the_calendar_they_are_given():
    helpers = calendar_helpers(default_calendar)
    after_national_day = default_calendar().add_workdays(date(2026, 9, 30), 1)
    assert after_national_day > date(2026, 10, 7)
    assert helpers["add_workdays"](date(2026, 9, 30), 1) == after_national_day
    assert helpers["add_workdays"]("2026-11-23", 0) == date(2026, 11, 23)
    assert helpers["is_working_day"](date(2026, 10, 1)) is False
    assert helpers["workday_deadline"](date(2026, 11, 23), 5).startswith("2026-11-30T23:59:59")
    assert helpers["add_workdays"](date(2200, 1, 1), 100) <= date(2200, 12, 31)


def test_helpers_inside_a_step_use_the_engine_calendar(engine):
    workflow, task_id = at_work(engine, bundle_with("x = add_workdays(date(2026, 9, 30), 1)"))
    engine.complete(workflow, task_id, {}, now)
    assert engine.data(workflow)["x"] == default_calendar().add_workdays(date(2026, 9, 30), 1) > date(2026, 10, 7)


# -- multi-instance loops ------------------------------------------------------------------------------------


def multi_instance(cardinality: str | None = None, collection: str | None = None) -> bytes:
    if cardinality is not None:
        loop = f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>"
    else:
        loop = (f'<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>'
                '<bpmn:inputDataItem id="item" name="item"/>')
    task = (f'<bpmn:multiInstanceLoopCharacteristics isSequential="false">{loop}'
            '</bpmn:multiInstanceLoopCharacteristics>')
    xml = linear("mi", user("each"))
    return xml.replace(b"</bpmn:userTask>", task.encode() + b"</bpmn:userTask>", 1)


@pytest.mark.parametrize(("markup", "data"), [
    (multi_instance(cardinality="n"), {"n": 6}),
    (multi_instance(collection="items"), {"items": list(range(6))}),
])
def test_a_multi_instance_above_the_cap_fails_at_run_time(engine, markup, data):
    bundle = build_bundle("mi", [BpmnSource("mi.bpmn", markup)])
    with pytest.raises(EngineFailure) as caught:
        engine.start(bundle, data, now)
    assert caught.value.limit and caught.value.element_id == "each"
    assert "more than 5 instances" in caught.value.message
    workflow, _ = engine.start(bundle, {k: v[:5] if isinstance(v, list) else 5 for k, v in data.items()}, now)
    assert len(engine.user_tasks(workflow)) == 5


def test_a_literal_cardinality_above_the_cap_is_refused_at_deploy():
    result = lint(BpmnSource("mi.bpmn", multi_instance(cardinality="50000")), max_loop_instances=200)
    assert [(p.element_id, p.message) for p in result.problems] == [
        ("each", "loopCardinality 50000 is above the limit of 200 instances of a multi-instance task")]
    assert lint(BpmnSource("mi.bpmn", multi_instance(cardinality="200")), max_loop_instances=200).ok


# -- settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value", "needle"), [
    ("SCRIPT_MEMORY_LIMIT_MB", "lots", "BANJIAN_SCRIPT_MEMORY_LIMIT_MB must be a whole number"),
    ("SCRIPT_MEMORY_LIMIT_MB", "8", "from 32"),
    ("ENGINE_WORKERS", "0", "BANJIAN_ENGINE_WORKERS"),
    ("MAX_LOOP_INSTANCES", "-1", "BANJIAN_MAX_LOOP_INSTANCES"),
    ("ENGINE_ISOLATION", "maybe", "BANJIAN_ENGINE_ISOLATION must be on or off"),
    ("SCRIPT_TIME_LIMIT", 1000, "BANJIAN_SCRIPT_TIME_LIMIT"),
])
def test_engine_settings_are_checked_at_start_up(name, value, needle):
    with pytest.raises(SettingsError, match=needle):
        create_app(make_config("sqlite://", **{name: value}))


def test_isolation_is_on_by_default_and_in_tests():
    app = create_app(make_config("sqlite://"))
    engine = app.extensions["banjian"].engine
    assert engine.isolated and engine.limits.memory_limit_mb == 256 and engine.workers == 2
    assert engine.max_loop_instances == 200
    app.extensions["banjian"].db.dispose()


# -- what the web process reads ------------------------------------------------------------------------------


def test_reads_before_a_step_come_from_a_worker_and_the_step_reuses_its_workflow(engine):
    workflow, task_id = at_work(engine, bundle_with("y = 1"))
    assert [t.id for t in engine.user_tasks(workflow)] == [task_id]
    assert engine.task_data(workflow, task_id) == {}
    with pytest.raises(KeyError):
        engine.task_data(workflow, "not-a-task")
    assert workflow._workflow is None  # nothing was deserialized here
    engine.complete(workflow, task_id, {"note": "x"}, now)
    assert engine.data(workflow)["note"] == "x" and workflow._workflow is None


def test_data_that_does_not_pickle_is_read_from_the_state(engine):
    workflow, task_id = at_work(engine, bundle_with("f = [lambda: 1]"))  # the state stores the function as null
    engine.complete(workflow, task_id, {}, now)
    assert engine.data(workflow)["f"] == [None]


def test_the_next_step_of_a_case_reads_what_the_last_one_returned_as_it_was_saved(engine):
    workflow, task_id = at_work(engine, bundle_with("t = (1, 2)\nnested = {'xs': [1]}"))
    engine.complete(workflow, task_id, {}, now)
    state = engine.dumps(workflow)
    again = engine.loads(state, workflow.bundle)
    assert again.snapshot is not None  # no read job, no deserialization
    [after] = engine.user_tasks(again)
    data = engine.task_data(again, after.id)
    assert data["t"] == [1, 2]  # as the saved state reads back, not the tuple the script made
    data["nested"]["xs"].append(2)  # what a caller does with it stays with the caller
    assert engine.task_data(engine.loads(state, workflow.bundle), after.id)["nested"] == {"xs": [1]}
    assert engine.data(again) == engine.data(CaseWorkflow(workflow.bundle, state))  # read here, from the state
