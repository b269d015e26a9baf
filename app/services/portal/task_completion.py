"""Completing a task through the generic task API (`POST /api/v1/tasks/<id>/complete`).

A case's correction step (补正) is the one step with a rule of its own: every material the correction
notice lists needs a new file. The generic completion does not go around it: it runs the same rule
(`resubmit_parts` for the applicant, `resubmit_at_window` for a window clerk; not a copy), with the files
the request carries as `material-<index>` parts. Without them the answer is 422 naming each listed
material and nothing changes; with them the step completes exactly as a resubmission would (a new round
of files, the older ones superseded, the same event). Any other step takes no files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from app.errors import InvalidForm
from app.models import Case, HumanTask
from app.services.casework import tasks
from app.services.context import ServiceContext
from app.services.documents.files import FileStore
from app.services.identity.principal import Principal
from app.services.portal.common import MATERIAL
from app.services.portal.correction import correction_step, resubmit_at_window, resubmit_parts
from app.services.portal.submission import Part, named_uploads


def complete_task(ctx: ServiceContext, principal: Principal, task_id: str, data: dict[str, Any],
                  parts: Sequence[Part], store: FileStore) -> dict[str, Any]:
    """Complete any open task; a correction step goes through the correction rule with `parts`.

    :raises: as `casework.tasks.complete_task`; for a correction step as `resubmit_parts` (the applicant)
        or `resubmit_at_window` (staff), InvalidForm naming each listed material that has no file.
    :raises InvalidForm: files sent for a step that takes none.
    """
    with ctx.uow() as uow:
        s = uow.session
        step = correction_step(s, task_id)
        case_no = s.scalar(select(Case.case_no).join(HumanTask, HumanTask.case_id == Case.id)
                           .where(HumanTask.id == task_id)) if step is not None else None
    if step is None or case_no is None:
        if parts:
            raise InvalidForm({f"{MATERIAL}.{p.index}": ["此步骤不接收文件 / this step takes no files"] for p in parts})
        return tasks.complete_task(ctx, principal, task_id, data)
    tasks.task_detail(ctx, principal, task_id)  # not in your task list: the usual 404, before any rule
    names = {f"{MATERIAL}.{m['index']}": str(m["name"]) for m in step.materials}
    try:
        if not principal.is_staff:
            return resubmit_parts(ctx, principal, case_no, data, parts, store)
        uploads, errors = named_uploads(step.materials, parts)
        if errors:
            raise InvalidForm(errors)
        return resubmit_at_window(ctx, principal, task_id, data, uploads, store)
    except InvalidForm as exc:  # keyed by index: say which material each error is about
        raise InvalidForm({key: [m if key not in names or names[key] in m else f"{m}: {names[key]}" for m in messages]
                           for key, messages in exc.field_errors.items()}, exc.message) from exc
