"""Engine benchmark: what a user-task completion costs, from raw SpiffWorkflow to a full API round trip.

Run from the repository root:  .venv/bin/python benchmarks/engine.py [--quick] [--pg URL]

(a)  raw SpiffWorkflow in memory, per completion: deserialize (stock serializer, spec embedded), complete
     the READY user task, do_engine_steps, serialize; (a') the same with our spec-free StateSerializer;
     (a") our WorkflowEngine in process (restricted script sandbox + StateSerializer), the engine part of
     (b); (a"') the same engine with isolation: each step runs in an engine worker process.
(b)  `services.tasks.complete_task` on SQLite (file, WAL), with the engine in process
     (BANJIAN_ENGINE_ISOLATION=off) and with engine workers (the default), same run, interleaved; with
     engine workers but no snapshots of recent states kept (each step's reads are a worker's read job, as
     for a case this process has not stepped lately); and on PostgreSQL (schema `bench`, dropped first)
     with engine workers.
(c)  API round trip on SQLite (engine workers) via Flask's test client: POST /cases + POST /tasks/<id>/complete.
(a)/(b) use a chain of CHAIN user tasks with a script between; (c) start->script->user task->script->end.
Targets: (b) <= 2x (a); isolation adds <= 0.5 ms to the median of (b) on SQLite; (c) median <= 15 ms.
Always exits 0: it is a report.
"""
# ruff: noqa: E402  (the repository root goes on sys.path before the app is imported)

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SpiffWorkflow import __version__ as SPIFF_VERSION
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState

from app import create_app
from app.api.schemas import ItemBody
from app.cli.db import upgrade_database
from app.clock import ManualClock
from app.engine.parser import BPMN_NS, CAMUNDA_NS
from app.engine.runtime import WorkflowEngine
from app.engine.serializer import StateSerializer
from app.engine.specs import BpmnSource, SpecBundle, build_bundle  # noqa: E402
from app.services.casework import cases, items, processes, tasks
from app.services.context import ServiceContext
from app.services.identity import users
from app.services.identity.principal import Principal
from benchmarks.pgschema import fresh_schema_url  # noqa: E402
from config import TestConfig

CHAIN = 10
IN_PROCESS = "(b)  complete_task, SQLite, engine in process"
WORKERS = "(b)  complete_task, SQLite, engine workers"
COLD = "(b)  ... engine workers, no recent snapshots"
POSTGRES = "(b)  complete_task, PostgreSQL, engine workers"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
FORM = '{"id":"Form_bench","type":"default","schemaVersion":16,"components":[{"type":"textfield",' \
       '"id":"Field_note","key":"note","label":"Note","validate":{"maxLength":200}}]}'
DATA = {"note": "ok"}
Timings = list[float]
Runner = Callable[[], Timings]


def model(key: str, n: int) -> bytes:
    """start -> script(x = 1) -> n x [user task -> script(y = x + i)] -> end."""
    nodes = ['<bpmn:startEvent id="start"/>',
             '<bpmn:scriptTask id="s0" name="init"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>']
    ids = ["start", "s0"]
    for i in range(1, n + 1):
        wid = "work" if n == 1 else f"work{i}"
        nodes.append(f'<bpmn:userTask id="{wid}" name="Work {i}" camunda:candidateGroups="bench.clerk" '
                     f'camunda:formKey="bench.form"/>')
        nodes.append(f'<bpmn:scriptTask id="s{i}"><bpmn:script>y = x + {i}</bpmn:script></bpmn:scriptTask>')
        ids += [wid, f"s{i}"]
    nodes.append('<bpmn:endEvent id="end"/>')
    ids.append("end")
    flows = [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
             for i, (a, b) in enumerate(itertools.pairwise(ids))]
    body = "".join(nodes + flows)
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="{BPMN_NS}" '
            f'xmlns:camunda="{CAMUNDA_NS}" id="Def_{key}" targetNamespace="http://bpmn.io/schema/bpmn">'
            f'<bpmn:process id="{key}" name="{key}" isExecutable="true">{body}</bpmn:process>'
            '</bpmn:definitions>').encode()


def ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000, value


# -- (a) in memory -----------------------------------------------------------------------------------
@functools.cache
def chain_bundle() -> SpecBundle:
    return build_bundle("bench_chain", [BpmnSource("bench_chain.bpmn", model("bench_chain", CHAIN))])


def raw_runner(variant: str) -> Runner:
    """One case of the chain model in memory: per completion deserialize, complete, run on, serialize."""
    bundle = chain_bundle()
    stock, ours = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)), StateSerializer()
    if variant in ("engine", "isolated"):  # restricted sandbox, engine clock, StepResult: what complete_task runs
        engine = WorkflowEngine(isolated=variant == "isolated")

        def engine_step(state: str) -> str:
            workflow = engine.loads(state, bundle)
            engine.complete(workflow, engine.user_tasks(workflow)[0].id, DATA, lambda: datetime.now(UTC))
            return engine.dumps(workflow)

        def engine_run() -> Timings:
            workflow, _ = engine.start(bundle, {}, lambda: datetime.now(UTC))
            state, out = engine.dumps(workflow), []
            for _ in range(CHAIN):
                elapsed, state = ms(lambda s=state: engine_step(s))
                out.append(elapsed)
            return out

        return engine_run

    codecs: dict[str, tuple[Callable[[str], BpmnWorkflow], Callable[[BpmnWorkflow], str]]] = {
        "stock": (stock.deserialize_json, stock.serialize_json),
        "ours": (lambda s: ours.loads(s, bundle, PythonScriptEngine()), ours.dumps)}
    loads, dumps = codecs[variant]

    def step(state: str) -> str:
        wf = loads(state)
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(**DATA)
        task.run()
        wf.do_engine_steps()
        return dumps(wf)

    def run() -> Timings:
        wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
        wf.do_engine_steps()
        state, out = dumps(wf), []
        for _ in range(CHAIN):
            elapsed, state = ms(lambda s=state: step(s))
            out.append(elapsed)
        return out

    return run


def state_sizes() -> tuple[int, int]:
    wf = BpmnWorkflow(chain_bundle().spec, chain_bundle().subprocess_specs)
    wf.do_engine_steps()
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    return len(stock.serialize_json(wf).encode()), len(StateSerializer().dumps(wf).encode())


# -- (b) and (c) through the app -----------------------------------------------------------------------
def build(url: str, tmp: Path, isolation: str = "on") -> tuple[Any, ServiceContext, Principal]:
    for sub in ("forms", "bpmn"):
        (tmp / sub).mkdir(parents=True)
    (tmp / "forms" / "bench.form").write_text(FORM)
    config = type("BenchConfig", (TestConfig,), {"DATABASE_URL": url, "FORMS_DIR": tmp / "forms",
                                                 "BPMN_DIR": tmp / "bpmn", "ENGINE_ISOLATION": isolation})
    app = create_app(config, clock=ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)))
    ctx: ServiceContext = app.extensions["banjian"]
    with app.app_context():
        upgrade_database()
    with ctx.uow(write=True) as uow:
        users.ensure_department(uow.session, "bench", "Bench")
        uow.commit()
    clerk = users.create_user(ctx, "bench", "bench1234", "clerk", ["bench.clerk"], department="bench")
    users.create_user(ctx, "bench_applicant", "bench1234", "applicant")  # window intake names the applicant
    for key, n in (("bench", 1), ("bench_chain", CHAIN)):
        processes.deploy(ctx, None, model(key, n), f"{key}.bpmn")
        items.create_item(ctx, None, ItemBody().load({
            "code": f"BENCH-{n}", "name": key, "type_code": "20", "department": "bench",
            "case_kind": "instant", "promised_limit": 0, "process_key": key, "case_prefix": "BN"}))
    return app, ctx, clerk


def service_runner(ctx: ServiceContext, clerk: Principal) -> Runner:
    """One case of the chain model through the services; only `complete_task` is timed."""
    def run() -> Timings:
        task_id, out = cases.create_case(ctx, clerk, f"BENCH-{CHAIN}", {}, "bench_applicant")["tasks"][0]["id"], []
        for _ in range(CHAIN):
            elapsed, view = ms(lambda t=task_id: tasks.complete_task(ctx, clerk, t, DATA))
            out.append(elapsed)
            task_id = view["next_tasks"][0]["id"] if view["next_tasks"] else ""
        return out

    return run


def bench_api(app: Any, n: int) -> tuple[Timings, Timings, Timings]:
    """(create + complete, create, complete) per round trip; the token is issued once, untimed."""
    client = app.test_client()
    login = client.post("/api/v1/auth/token", json={"username": "bench", "password": "bench1234"})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    creates: Timings = []
    completes: Timings = []
    for _ in range(n):
        t_create, resp = ms(lambda: client.post("/api/v1/cases", json={"item_code": "BENCH-1", "applicant": "bench_applicant"},
                                                headers=headers))
        assert resp.status_code == 201, resp.get_json()
        task_id = resp.get_json()["tasks"][0]["id"]
        t_complete, resp = ms(lambda t=task_id: client.post(f"/api/v1/tasks/{t}/complete",
                                                            json={"data": DATA}, headers=headers))
        assert resp.status_code == 200 and resp.get_json()["status"] == "closed", resp.get_json()
        creates.append(t_create)
        completes.append(t_complete)
    return [a + b for a, b in zip(creates, completes, strict=True)], creates, completes


def p95(xs: Timings) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


def row(label: str, xs: Timings | None, extra: str = "") -> None:
    figures = f"{statistics.median(xs):8.2f} {p95(xs):8.2f}  {extra}" if xs else f"{'skipped':>8}"
    print(f"  {label:<50} {figures}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--pg", default=PG_URL, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    cases_n, n_api, warm = (5, 40, 1) if args.quick else (30, 200, 3)  # cases of CHAIN completions each
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="banjian-bench-") as tmp:
        runners: dict[str, Runner | None] = {
            "(a)  raw SpiffWorkflow, stock serializer": raw_runner("stock"),
            "(a') raw SpiffWorkflow, StateSerializer": raw_runner("ours"),
            '(a") WorkflowEngine in process': raw_runner("engine"),
            "(a\"') WorkflowEngine, engine workers": raw_runner("isolated")}
        apps: list[tuple[Any, ServiceContext]] = []
        for name, folder, url, isolation in (
                (IN_PROCESS, "in-process", f"sqlite:///{tmp}/in-process/db/bench.sqlite3", "off"),
                (WORKERS, "workers", f"sqlite:///{tmp}/workers/db/bench.sqlite3", "on"),
                (COLD, "cold", f"sqlite:///{tmp}/cold/db/bench.sqlite3", "on"),
                (POSTGRES, "postgres", fresh_schema_url(args.pg, "bench") if args.pg else None, "on")):
            if url is None:
                runners[name] = None
                continue
            app, ctx, clerk = build(url, Path(tmp) / folder, isolation)
            if name == COLD:  # as for a case this process has not stepped lately: reads go to a worker
                ctx.engine._remember = lambda state, snapshot: None  # type: ignore[method-assign]
            apps.append((app, ctx))
            runners[name] = service_runner(ctx, clerk)
        live = {k: r for k, r in runners.items() if r is not None}
        results: dict[str, Timings] = {k: [] for k in live}
        for _ in range(warm):
            for run in live.values():
                run()
        for _ in range(cases_n):  # interleaved, so a busy neighbour slows every series alike
            for key, run in live.items():
                results[key] += run()
        bench_api(apps[1][0], 5)  # the default: engine workers
        api = bench_api(apps[1][0], n_api)
        for _app, ctx in apps:
            ctx.db.dispose()

    base = statistics.median(results["(a)  raw SpiffWorkflow, stock serializer"])
    stock_size, our_size = state_sizes()
    print(f"\nbanjian engine benchmark: SpiffWorkflow {SPIFF_VERSION}, Python {sys.version.split()[0]}; "
          f"{cases_n * CHAIN} completions per row on a {CHAIN}-user-task chain, {n_api} API round trips; "
          f"load avg {load_before:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"  {'':<50} {'median':>8} {'p95':>8}  (ms)")
    notes = {"(a) ": f"state after start {stock_size / 1024:.1f} KiB (spec embedded)",
             "(a')": f"state {our_size / 1024:.1f} KiB (info)", '(a")': "(info: the engine part of (b))",
             "(a\"'": "(info: with the IPC to a worker)"}
    for key, run in runners.items():
        if run is None:
            row(key, None)
        elif key.startswith("(b)"):
            ratio = statistics.median(results[key]) / base
            verdict = "PASS" if ratio <= 2 else "FAIL"
            row(key, results[key], f"(b)/(a) = {ratio:.2f}  target <= 2.00  {verdict}")
        else:
            row(key, results[key], notes[key[:4]])
    base_b = statistics.median(results[IN_PROCESS])
    added = statistics.median(results[WORKERS]) - base_b
    verdict = "PASS" if added <= 0.5 else "FAIL"
    print(f"  isolation adds {added:+.2f} ms to the median complete_task on SQLite ({base_b:.2f} in process -> "
          f"{statistics.median(results[WORKERS]):.2f} with engine workers)  target <= 0.50  {verdict}")
    print(f"  ... {statistics.median(results[COLD]) - base_b:+.2f} ms when the process kept no snapshot of the "
          "case's state (a read job before the step)")
    pairs, creates, completes = api
    verdict = "PASS" if statistics.median(pairs) <= 15 else "FAIL"
    row("(c)  API create + complete, SQLite", pairs, f"target <= 15.00  {verdict}")
    row("       POST /api/v1/cases", creates)
    row("       POST /api/v1/tasks/<id>/complete", completes)


if __name__ == "__main__":
    main()
