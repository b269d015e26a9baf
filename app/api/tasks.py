"""Tasks: the inbox, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import request

from app.services.casework import tasks

from . import bp
from .body import json_object
from .schemas import TaskComplete, TaskQuery
from .security import ctx, login_required, principal


@bp.get("/tasks")
@login_required
def list_tasks() -> Any:
    query = TaskQuery().load(request.args)
    return tasks.list_tasks(ctx(), principal(), **query).as_dict()


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    return tasks.claim_task(ctx(), principal(), task_id)


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Any:
    return tasks.unclaim_task(ctx(), principal(), task_id)


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> Any:
    body = TaskComplete().load(json_object())
    return tasks.complete_task(ctx(), principal(), task_id, body["data"])
