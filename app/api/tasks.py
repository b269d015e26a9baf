"""Tasks: the inbox, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import request

from app.services.casework import tasks

from . import bp
from .body import json_object
from .openapi import op, path_param
from .schemas import TaskComplete, TaskQuery
from .security import ctx, login_required, principal

OPENAPI_PATHS = {
    "/tasks/{id}": {"get": op(
        "An open task (as in the task list) with `form`, its form-js JSON as deployed with the case's "
        "process version (inline camunda:formData converted), and `values`, the current values of the "
        "form's fields; 404 for a task not in your task list", parameters=path_param("id"))},
}


@bp.get("/tasks")
@login_required
def list_tasks() -> Any:
    query = TaskQuery().load(request.args)
    return tasks.list_tasks(ctx(), principal(), **query).as_dict()


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return tasks.task_detail(ctx(), principal(), task_id)


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
