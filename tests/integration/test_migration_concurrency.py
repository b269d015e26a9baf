"""A designer migrates a case to another version at the moment a clerk completes its open step, on
PostgreSQL (and on a SQLite file). The case row lock puts one of them first; the other works on what the
first left: no lost update, no half-migrated case, and the projections agree with the workflow."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, HumanTask, ProcessDefinition
from tests.conftest import Api
from tests.e2e.flows import case, complete, task_id
from tests.e2e.test_migration_api import KEY, V1, V2_ADDS, V2_REMOVES

REPETITIONS = {"postgres": 12, "sqlite-file": 4}


def _setup(api: Api, cases: int, v2: bytes) -> list[str]:
    """`cases` cases waiting at "first" on v1, then v2 deployed."""
    assert _deploy(api, V1) == 1
    body = {"code": "MIG-R", "name": "迁移并发", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": KEY, "case_prefix": "MR"}
    assert api.post("/items", "admin", json=body).status_code == 201
    numbers = [api.post("/cases", "company", json={"item_code": "MIG-R", "data": {}}).get_json()["case_no"]
               for _ in range(cases)]
    assert _deploy(api, v2) == 2
    return numbers


def _deploy(api: Api, content: bytes) -> int:
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(content), f"{KEY}.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code in (200, 201), resp.get_json()
    version: int = resp.get_json()["version"]
    return version


def _race(app: Flask, api: Api, case_no: str) -> tuple[Any, Any]:
    """Migrate the case and complete its step "first" from two threads released together."""
    tid = task_id(api, case_no, "first")
    tokens = {who: api.token(who) for who in ("designer", "market_clerk")}
    barrier = threading.Barrier(2)
    replies: dict[str, Any] = {}

    def migrate() -> None:
        client = app.test_client()
        barrier.wait()
        replies["migrate"] = client.post(f"/api/v1/process-definitions/{KEY}/migrations",
                                         json={"from_version": 1, "to_version": 2, "cases": [case_no]},
                                         headers={"Authorization": f"Bearer {tokens['designer']}"})

    def finish() -> None:
        client = app.test_client()
        barrier.wait()
        replies["complete"] = client.post(f"/api/v1/tasks/{tid}/complete", json={"data": {}},
                                          headers={"Authorization": f"Bearer {tokens['market_clerk']}"})

    threads = [threading.Thread(target=migrate), threading.Thread(target=finish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return replies["migrate"], replies["complete"]


def _consistent(app: Flask, api: Api, case_no: str) -> dict[str, Any]:
    """The case as the API shows it, checked against the workflow: the task rows are exactly the open
    user tasks of the stored state, on the version the case row names."""
    ctx = app.extensions["banjian"]
    view = case(api, case_no)
    with ctx.uow() as uow:
        s = uow.session
        row = s.scalar(select(Case).where(Case.case_no == case_no))
        rows = set(s.scalars(select(HumanTask.id).where(HumanTask.case_id == row.id)))
        definition = s.get(ProcessDefinition, row.process_definition_id)
        from app.services.casework.processes import bundle_for

        workflow = ctx.engine.loads(row.engine_state, bundle_for(ctx, s, definition.id))
        assert {v.id for v in ctx.engine.user_tasks(workflow)} == rows
        assert view["process_version"] == definition.version
    return view


@pytest.fixture
def race_app(shared_app: Flask) -> Flask:
    return shared_app


def test_a_migration_and_a_completion_at_once_both_count(race_app: Flask, shared_url: str):
    api = Api(race_app.test_client())
    rounds = REPETITIONS["sqlite-file" if shared_url.startswith("sqlite") else "postgres"]
    for case_no in _setup(api, rounds, V2_ADDS):
        migrated, completed = _race(race_app, api, case_no)

        assert completed.status_code == 200, completed.get_json()
        assert migrated.status_code == 200 and migrated.get_json()["migrated"] == 1, migrated.get_json()
        view = _consistent(race_app, api, case_no)
        history = [e["action"] for e in view["history"] if e["action"] in ("migrated", "completed")]
        assert sorted(history) == ["completed", "migrated"]
        open_now = [t["task_key"] for t in view["tasks"]]
        # Migrated first: the completion ran on v2 and reached the step v2 added. Completed first: the
        # migration planned on the advanced case, which waits at "second" on v2.
        assert open_now == (["added"] if history[0] == "migrated" else ["second"]), (history, open_now)
        if open_now == ["added"]:
            complete(api, case_no, "added", "market_head", {})
        complete(api, case_no, "second", "market_approver", {})
        assert case(api, case_no)["status"] == "closed"


def test_a_migration_refused_before_the_completion_or_allowed_after_it(race_app: Flask, shared_url: str):
    api = Api(race_app.test_client())
    rounds = REPETITIONS["sqlite-file" if shared_url.startswith("sqlite") else "postgres"]
    for case_no in _setup(api, rounds, V2_REMOVES):
        migrated, completed = _race(race_app, api, case_no)

        assert completed.status_code == 200, completed.get_json()
        [outcome] = migrated.get_json()["cases"]
        view = _consistent(race_app, api, case_no)
        assert [t["task_key"] for t in view["tasks"]] == ["second"]
        # Before the completion the open step "first" has no place in v2 (refused, nothing changed);
        # after it the case waits at "second", which v2 has.
        assert view["process_version"] == (2 if outcome["migrated"] else 1)
        if not outcome["migrated"]:
            assert "removed" in outcome["reason"]
        complete(api, case_no, "second", "market_approver", {})
        assert case(api, case_no)["status"] == "closed"
