"""Tasks: the inbox, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from app.errors import InvalidForm
from app.services.casework import tasks
from app.services.documents.files import FileStore
from app.services.portal import task_completion

from . import bp
from .cases import _files_body
from .multipart import FILES_DOC, body_and_parts, by_part
from .openapi import op, path_param
from .schemas import TaskComplete, TaskQuery
from .security import ctx, login_required, principal

OPENAPI_PATHS = {
    "/tasks/{id}": {"get": op(
        "An open task (as in the task list) with `form`, its form-js JSON as deployed with the case's "
        "process version (inline camunda:formData converted), and `values`, the current values of the "
        "form's fields; 404 for a task not in your task list", parameters=path_param("id"))},
    "/tasks/{id}/complete": {"post": op(
        "Complete a task with form data. A correction step (补正) keeps its rule: each material the correction "
        "notice lists needs a new file, sent in the same request (as with POST /cases/{case_no}/resubmit); "
        "without them 422 with one error per missing material (field `material-<index>`, naming it) and "
        "nothing changes. Any other step takes no files. " + FILES_DOC,
        requestBody=_files_body("TaskComplete"), parameters=path_param("id"))},
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
    raw, parts = body_and_parts()
    body = TaskComplete().load(raw)
    try:  # a correction step (补正) keeps its rule: the files the notice asks for come with it
        return task_completion.complete_task(ctx(), principal(), task_id, body["data"], parts,
                                             FileStore.from_settings(ctx().upload_dir, current_app.config))
    except InvalidForm as exc:
        raise by_part(exc) from exc
