"""Two departments complete their parallel approvals of one case at the same moment, on PostgreSQL and on a
SQLite file (the default of `make run`)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from tests.conftest import Api
from tests.e2e.flows import ACCEPT, JOINT, JOINT_APPLY, PASS, apply, approval, complete, task_id

REPETITIONS = {"postgres": 50, "sqlite-file": 10}  # SQLite serializes writers: fewer rounds say as much
TWO_DEPARTMENT_ITEM = "420100-ZJJ-002"


@pytest.fixture
def pg_app(shared_app: Flask) -> Flask:
    """Both databases several processes share (tests/integration/conftest.py)."""
    return shared_app


def _two_department_item(api: Api) -> None:
    item = api.get(f"/items/{JOINT}").get_json()
    body = {k: item[k] for k in (
        "name", "type_code", "department", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
        "limit_unit", "joint", "materials", "fees", "process_key", "form_key", "case_prefix")}
    body.update(code=TWO_DEPARTMENT_ITEM, departments=["fire", "health"], case_prefix="SGBL")
    resp = api.post("/items", "admin", json=body)
    assert resp.status_code == 201, resp.get_json()


def _race(app: Flask, tasks: dict[str, str]) -> list[int]:
    """Complete each department's task from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(tasks))
    statuses: list[int] = []
    tokens = {dept: Api(app.test_client()).token(f"{dept}_approver") for dept in tasks}

    def work(dept: str) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"/api/v1/tasks/{tasks[dept]}/complete", json={"data": approval()},
                           headers={"Authorization": f"Bearer {tokens[dept]}"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=work, args=(d,)) for d in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


def test_parallel_approvals_at_the_same_moment_are_all_recorded(pg_app: Flask, shared_url: str):
    api = Api(pg_app.test_client())
    _two_department_item(api)
    for rep in range(REPETITIONS["sqlite-file" if shared_url.startswith("sqlite") else "postgres"]):
        case_no = apply(api, TWO_DEPARTMENT_ITEM, JOINT_APPLY, "builder")["case_no"]
        complete(api, case_no, "preview", "housing_clerk", PASS)
        complete(api, case_no, "acceptance", "housing_clerk", ACCEPT)
        tasks = {d: task_id(api, case_no, "dept_approval", d) for d in ("fire", "health")}

        statuses = _race(pg_app, tasks)

        assert statuses == [200, 200], (rep, statuses)
        view = api.get(f"/cases/{case_no}", "admin").get_json()
        assert sorted(a["department"] for a in view["data"]["approvals"]) == ["fire", "health"], rep
        assert [t["task_key"] for t in view["tasks"]] == ["decision"], rep  # advanced exactly once
        completions = [e for e in view["history"] if e["action"] == "completed" and e["task_key"] == "dept_approval"]
        assert len(completions) == 2, rep


def test_the_same_task_completed_twice_at_once_counts_once(pg_app: Flask):
    api = Api(pg_app.test_client())
    case_no = apply(api, JOINT, JOINT_APPLY, "builder")["case_no"]
    complete(api, case_no, "preview", "housing_clerk", PASS)
    tid = task_id(api, case_no, "acceptance")
    token = api.token("housing_clerk")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def work() -> None:
        client = pg_app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/api/v1/tasks/{tid}/complete", json={"data": ACCEPT},
                                    headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    view = api.get(f"/cases/{case_no}", "admin").get_json()
    assert sorted(t["department"] for t in view["tasks"]) == ["fire", "health", "planning"]


def test_two_admins_creating_the_same_department_at_once_get_one_department_and_no_server_error(pg_app: Flask):
    """Both requests pass the service's own "code taken" check; the database refuses the second insert.
    Its answer is a 409 (or the field message, if the first had already committed), never a 500."""
    api = Api(pg_app.test_client())
    token = api.token("admin")
    for rep in range(10):
        statuses = _create_together(pg_app, token, f"race{rep}")
        assert sorted(statuses) in ([201, 400], [201, 409]), (rep, statuses)
        listed = [d for d in api.get("/departments?per_page=100", "admin").get_json()["items"]
                  if d["code"] == f"race{rep}"]
        assert len(listed) == 1, rep


def _create_together(app: Flask, token: str, code: str) -> list[int]:
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def work() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/departments", json={"code": code, "name": "并发部门"},
                                    headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses
