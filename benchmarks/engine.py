"""Engine benchmark: what a user-task completion costs, from raw SpiffWorkflow to a full API round trip.

Run from the repository root:  .venv/bin/python benchmarks/engine.py [--quick] [--pg URL]

(a)  raw SpiffWorkflow in memory, per completion: deserialize (stock serializer, spec embedded), complete
     the READY user task, do_engine_steps, serialize; (a') the same with our spec-free StateSerializer;
     (a") our WorkflowEngine (restricted script sandbox + StateSerializer), i.e. the engine part of (b).
(b)  `services.tasks.complete_task` on SQLite (file, WAL) and PostgreSQL (schema `bench`, dropped first).
(c)  API round trip on SQLite via Flask's test client: POST /cases + POST /tasks/<id>/complete.
(a)/(b) use a chain of CHAIN user tasks with a script between; (c) start->script->user task->script->end.
Targets: (b) <= 2x (a) and (c) median <= 15 ms. Always exits 0: it is a report.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from SpiffWorkflow import __version__ as SPIFF_VERSION  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import create_app  # noqa: E402
from app.api.schemas import ItemBody  # noqa: E402
from app.cli.db import upgrade_database  # noqa: E402
from app.clock import ManualClock  # noqa: E402
from app.engine.runtime import WorkflowEngine  # noqa: E402
from app.engine.serializer import StateSerializer  # noqa: E402
from app.engine.specs import BpmnSource, build_bundle  # noqa: E402
from app.services import cases, items, processes, tasks, users  # noqa: E402
from app.services.context import ServiceContext  # noqa: E402
from app.services.principal import Principal  # noqa: E402
from config import TestConfig  # noqa: E402

CHAIN = 10
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
FORM = '{"id":"Form_bench","type":"default","schemaVersion":16,"components":[{"type":"textfield",' \
       '"id":"Field_note","key":"note","label":"Note","validate":{"maxLength":200}}]}'
DATA = {"note": "ok"}
Timings = list[float]


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
             for i, (a, b) in enumerate(zip(ids, ids[1:]))]
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn='
            f'"http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
            f'id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="{key}" '
            f'name="{key}" isExecutable="true">{"".join(nodes + flows)}</bpmn:process></bpmn:definitions>'
            ).encode()


def ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000, value


# -- (a) in memory -----------------------------------------------------------------------------------
def bench_raw(n: int, variant: str) -> Timings:
    """Completions of the chain model, deserialize -> complete -> steps -> serialize each time."""
    bundle = build_bundle("bench_chain", [BpmnSource("bench_chain.bpmn", model("bench_chain", CHAIN))])
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    ours, engine = StateSerializer(), WorkflowEngine()
    dumps: Callable[[BpmnWorkflow], str]
    loads: Callable[[str], BpmnWorkflow]
    if variant == "stock":
        dumps, loads = stock.serialize_json, stock.deserialize_json
    elif variant == "ours":
        dumps, loads = ours.dumps, lambda s: ours.loads(s, bundle)
    else:
        dumps, loads = engine.dumps, lambda s: engine.loads(s, bundle)
    out: Timings = []
    while len(out) < n:
        wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=engine.script_engine
                          if variant == "engine" else None)
        wf.do_engine_steps()
        state = dumps(wf)
        for _ in range(CHAIN):
            def step(state: str = state) -> str:
                w = loads(state)
                if variant == "engine":
                    task = w.get_tasks(state=TaskState.READY, manual=True)[0]
                    engine.complete(w, str(task.id), DATA, lambda: datetime.now(UTC))
                else:
                    task = w.get_tasks(state=TaskState.READY, manual=True)[0]
                    task.set_data(**DATA)
                    task.run()
                    w.do_engine_steps()
                return dumps(w)
            elapsed, state = ms(step)
            out.append(elapsed)
    return out[:n]


def state_sizes() -> tuple[int, int]:
    bundle = build_bundle("bench_chain", [BpmnSource("bench_chain.bpmn", model("bench_chain", CHAIN))])
    wf = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
    wf.do_engine_steps()
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    return len(stock.serialize_json(wf).encode()), len(StateSerializer().dumps(wf).encode())


# -- (b) and (c) through the app -----------------------------------------------------------------------
def build(url: str, tmp: Path) -> tuple[Any, ServiceContext, Principal]:
    (tmp / "forms").mkdir(parents=True)
    (tmp / "bpmn").mkdir()
    (tmp / "forms" / "bench.form").write_text(FORM)
    config = type("BenchConfig", (TestConfig,), {"DATABASE_URL": url, "FORMS_DIR": tmp / "forms",
                                                 "BPMN_DIR": tmp / "bpmn"})
    app = create_app(config, clock=ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)))
    ctx: ServiceContext = app.extensions["banjian"]
    with app.app_context():
        upgrade_database()
    with ctx.uow(write=True) as uow:
        users.ensure_department(uow.session, "bench", "Bench")
        uow.commit()
    clerk = users.create_user(ctx, "bench", "bench1234", "clerk", ["bench.clerk"], department="bench")
    for key, n in (("bench", 1), ("bench_chain", CHAIN)):
        processes.deploy(ctx, None, model(key, n), f"{key}.bpmn")
        items.create_item(ctx, None, ItemBody().load({
            "code": f"BENCH-{n}", "name": key, "type_code": "20", "department": "bench",
            "case_kind": "instant", "promised_limit": 0, "process_key": key, "case_prefix": "BN"}))
    return app, ctx, clerk


def bench_service(ctx: ServiceContext, clerk: Principal, n: int) -> Timings:
    out: Timings = []
    while len(out) < n:
        task_id = cases.create_case(ctx, clerk, f"BENCH-{CHAIN}", {})["tasks"][0]["id"]
        for _ in range(CHAIN):
            elapsed, view = ms(lambda t=task_id: tasks.complete_task(ctx, clerk, t, DATA))
            out.append(elapsed)
            task_id = view["next_tasks"][0]["id"] if view["next_tasks"] else ""
    return out[:n]


def bench_api(app: Any, n: int) -> tuple[Timings, Timings, Timings]:
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "bench", "password": "bench1234"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    pairs: Timings = []
    creates: Timings = []
    completes: Timings = []
    for _ in range(n):
        t_create, resp = ms(lambda: client.post("/api/v1/cases", json={"item_code": "BENCH-1"}, headers=headers))
        assert resp.status_code == 201, resp.get_json()
        task_id = resp.get_json()["tasks"][0]["id"]
        t_complete, resp = ms(lambda: client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": DATA},
                                                  headers=headers))
        assert resp.status_code == 200 and resp.get_json()["status"] == "closed", resp.get_json()
        creates.append(t_create)
        completes.append(t_complete)
        pairs.append(t_create + t_complete)
    return pairs, creates, completes


def pg_url(base: str) -> str | None:
    """A URL whose search_path is a fresh schema `bench`, or None when PostgreSQL is unreachable."""
    try:
        engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1),
                               connect_args={"connect_timeout": 3})
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
            conn.execute(text("CREATE SCHEMA bench"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        print(f"note: PostgreSQL skipped ({base} unreachable: {str(exc).splitlines()[0]})")
        return None
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3Dbench"


# -- report ---------------------------------------------------------------------------------------------
def p95(xs: Timings) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


def row(label: str, xs: Timings | None, extra: str = "") -> None:
    if xs is None:
        print(f"  {label:<48} {'skipped':>8}")
        return
    print(f"  {label:<48} {statistics.median(xs):8.2f} {p95(xs):8.2f}  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--pg", default=PG_URL, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    n, n_api, warm = (50, 40, CHAIN) if args.quick else (300, 200, 3 * CHAIN)

    raw: dict[str, Timings] = {}
    for variant in ("stock", "ours", "engine"):
        bench_raw(warm, variant)
        raw[variant] = bench_raw(n, variant)

    service: dict[str, Timings | None] = {}
    api: tuple[Timings, Timings, Timings] | None = None
    with tempfile.TemporaryDirectory(prefix="banjian-bench-") as tmp:
        urls = {"SQLite (file, WAL)": f"sqlite:///{tmp}/SQLite/bench.sqlite3",
                "PostgreSQL": pg_url(args.pg) if args.pg else None}
        if not args.pg:
            print("note: PostgreSQL skipped (--pg '')")
        for name, url in urls.items():
            if url is None:
                service[name] = None
                continue
            app, ctx, clerk = build(url, Path(tmp) / name.split()[0])
            bench_service(ctx, clerk, warm)
            service[name] = bench_service(ctx, clerk, n)
            if name.startswith("SQLite"):
                bench_api(app, max(5, warm // CHAIN))
                api = bench_api(app, n_api)
            ctx.db.dispose()

    base = statistics.median(raw["stock"])
    stock_size, our_size = state_sizes()
    print(f"\nbanjian engine benchmark: SpiffWorkflow {SPIFF_VERSION}, Python {sys.version.split()[0]}; "
          f"{n} completions on a {CHAIN}-user-task chain, {n_api} API round trips")
    print(f"  {'':<48} {'median':>8} {'p95':>8}  (ms)")
    row("(a)  raw SpiffWorkflow, stock serializer", raw["stock"], f"state {stock_size / 1024:.1f} KiB")
    row("(a') raw SpiffWorkflow, StateSerializer", raw["ours"],
        f"state {our_size / 1024:.1f} KiB  (info)")
    row('(a") WorkflowEngine: sandbox + StateSerializer', raw["engine"], "(info: engine part of (b))")
    for name, xs in service.items():
        if xs is None:
            row(f"(b)  complete_task, {name}", None)
            continue
        ratio = statistics.median(xs) / base
        row(f"(b)  complete_task, {name}", xs,
            f"(b)/(a) = {ratio:.2f}  target <= 2.00  {'PASS' if ratio <= 2 else 'FAIL'}")
    if api is not None:
        pairs, creates, completes = api
        med = statistics.median(pairs)
        row("(c)  API create + complete, SQLite", pairs, f"target <= 15.00  {'PASS' if med <= 15 else 'FAIL'}")
        row("       POST /api/v1/cases", creates)
        row("       POST /api/v1/tasks/<id>/complete", completes)


if __name__ == "__main__":
    main()
