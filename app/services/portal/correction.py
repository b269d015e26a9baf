"""Resubmitting corrected materials (补正): online by the applicant, or at the window by a clerk for a walk-in
applicant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, InvalidForm
from app.forms import FormDefinition
from app.models import (
    Case,
    CaseEvent,
    CaseFile,
    HumanTask,
    Notice,
    TaskCandidate,
    case_terms,
)
from app.services.casework import tasks
from app.services.casework.steps import add_event
from app.services.context import ServiceContext
from app.services.documents.files import FileStore, attach
from app.services.identity.principal import Principal
from app.services.licensing.holdings import today
from app.services.portal import reuse as reused
from app.services.portal.common import (
    Upload,
    _allowance,
    _errors_in,
    _materials,
    _missing,
    _own_case,
    _step_form,
    _store,
)
from app.services.portal.submission import Part, named_uploads


def resubmit(ctx: ServiceContext, principal: Principal, case_no: str, data: dict[str, Any],
             uploads: Sequence[Upload], store: FileStore, reuse: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Resubmit corrected materials while the case awaits correction: the new files form round n+1,
    older files of the same materials are marked superseded, then the applicant's correction task is
    completed with `data`.

    :raises CaseNotFound: :raises Conflict: not awaiting correction. :raises InvalidForm: form
        errors and "_material.<i>" errors (each material listed in the notice needs a new file).
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _own_case(s, principal, case_no)
        step = _Correction.of(s, case, _correction_task(s, case, principal))
    return _resubmit(ctx, principal, step, data, uploads, store, reuse=reuse)


def resubmit_parts(ctx: ServiceContext, principal: Principal, case_no: str, data: dict[str, Any],
                   parts: Sequence[Part], store: FileStore, reuse: Mapping[str, str] | None = None
                   ) -> dict[str, Any]:
    """`resubmit` with the files given by material index (the API's POST /cases/<no>/resubmit); the
    indexes are those of the materials the case is held to.

    :raises CaseNotFound, Conflict, InvalidForm: as `resubmit`, and "_material.<i>" for an index the
        case's materials do not have.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _own_case(s, principal, case_no)
        step = _Correction.of(s, case, _correction_task(s, case, principal))
    uploads, errors = named_uploads(step.materials, parts)
    return _resubmit(ctx, principal, step, data, uploads, store, errors, reuse)


def correction_form(ctx: ServiceContext, principal: Principal, case_no: str) -> FormDefinition | None:
    """The form of the applicant's open correction step as deployed with the case's process version (its
    formKey's or its inline fields'); None when no correction awaits them or the step has no form.

    :raises CaseNotFound: :raises ProcessError: the version names a form that cannot be read.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _own_case(s, principal, case_no)
        task = _offered_correction(s, case, principal) if case.status == "correction" else None
        return tasks.task_form(ctx, s, case, task) if task is not None else None


def window_correction(ctx: ServiceContext, principal: Principal, task_id: str) -> dict[str, Any] | None:
    """For the staff task page: what the correction notice lists and the item's materials, if the open
    task `task_id` is a case's correction step (offered to its applicant by name); else None."""
    if not principal.is_staff:
        return None
    with ctx.uow() as uow:
        step = correction_step(uow.session, task_id)
        if step is None:
            return None
        return {"task_id": step.task_id, "deficiencies": step.deficiencies, "materials": step.materials}


def resubmit_at_window(ctx: ServiceContext, clerk: Principal, task_id: str, data: dict[str, Any],
                       uploads: Sequence[Upload], store: FileStore) -> dict[str, Any]:
    """A window clerk completes a walk-in applicant's correction step with the rescanned materials, as
    the applicant would online (same checks, same round of files, same event).

    :raises Forbidden: not staff. :raises Conflict: the task is not a correction step awaiting
        correction. :raises InvalidForm: as `resubmit`. :raises NotACandidate: not offered to this clerk.
    """
    if not clerk.is_staff:
        raise Forbidden("仅限工作人员 / staff only")
    with ctx.uow() as uow:
        step = correction_step(uow.session, task_id)
    if step is None:
        raise Conflict("办件当前不需要补正 / the case is not awaiting correction")
    return _resubmit(ctx, clerk, step, data, uploads, store)


@dataclass(frozen=True)
class _Correction:
    """An open correction step: its task, what the notice lists, and the item's materials."""

    task_id: str
    deficiencies: list[dict[str, str]]
    materials: list[dict[str, Any]]
    applicant_id: int  # whose upload quota the new files count against

    @classmethod
    def of(cls, s: Session, case: Case, task: HumanTask) -> _Correction:
        return cls(task.id, _deficiencies(s, case),
                   _materials(case_terms(case)), case.applicant_id)  # type: ignore[arg-type]  # same attributes


def correction_step(s: Session, task_id: str) -> _Correction | None:
    task = s.get(HumanTask, task_id)
    case = s.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or case.status != "correction":
        return None
    offered = s.scalar(select(TaskCandidate.task_id).where(
        TaskCandidate.task_id == task.id, TaskCandidate.kind == "user",
        TaskCandidate.name == case.applicant.username).limit(1))
    return _Correction.of(s, case, task) if offered is not None else None


def _resubmit(ctx: ServiceContext, principal: Principal, step: _Correction, data: dict[str, Any],
              uploads: Sequence[Upload], store: FileStore,
              found: dict[str, list[str]] | None = None, reuse: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`found`: errors the caller already has (a part naming no material), reported with the rest;
    `reuse`: {material index: licence number}, a held licence instead of a new file (减材料)."""
    listed = {d["material"] for d in step.deficiencies}
    with ctx.uow() as uow:
        allowance = _allowance(uow.session, store, step.applicant_id)
        form = _step_form(ctx, uow.session, step.task_id)  # the case's version's, as the completion checks
        chosen, reuse_errors = reused.checked(uow.session, reused.holder_of(uow.session, step.applicant_id),
                                              step.materials, reuse or {}, today(ctx))
    errors = {**(found or {}), **_errors_in(form, data)}
    stored, file_errors = _store(uploads, step.materials, store, allowance, ctx.clock.now())
    missing = _missing([{**m, "required": True} for m in step.materials if m["name"] in listed],
                       {u.material for u, _f in stored} | set(chosen))
    errors.update({**missing, **file_errors, **reuse_errors})  # a refused file says why, not only that one is missing
    if errors:
        raise InvalidForm(errors)
    def add_round(s: Session, locked: Case) -> None:  # with the task's completion: all or nothing
        now = ctx.clock.now()
        round_no = max(s.scalar(select(func.max(CaseFile.round)).where(CaseFile.case_id == locked.id)) or 0,
                       reused.last_round(s, locked.id)) + 1
        provided = {u.material for u, _f in stored} | set(chosen)
        s.execute(update(CaseFile).where(CaseFile.case_id == locked.id, CaseFile.superseded_at.is_(None),
                                         CaseFile.material.in_(provided))
                  .values(superseded_at=now))
        reused.supersede(s, locked.id, provided, now)
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id, now=now,
                   case_id=locked.id, round_no=round_no)
        reused.record(s, chosen, principal.id, now, case_id=locked.id, round_no=round_no)
        add_event(s, locked, now, "resubmitted", principal.id, message=f"第 {round_no} 轮补正，{len(stored)} 份文件"
                  + (f"，{len(chosen)} 项使用电子证照" if chosen else ""),
                  data_after={"round": round_no, "materials": sorted(provided),
                              **({"licences": {m: h.number for m, h in chosen.items()}} if chosen else {})})

    return tasks.complete_task(ctx, principal, step.task_id, data, records=add_round)


def _correction_task(s: Session, case: Case, principal: Principal) -> HumanTask:
    task = _offered_correction(s, case, principal)
    if case.status != "correction" or task is None:
        raise Conflict("办件当前不需要补正 / the case is not awaiting correction")
    return task


def _offered_correction(s: Session, case: Case, principal: Principal) -> HumanTask | None:
    """The open correction step the applicant may do: assigned to them or offered to them by name."""
    offered = select(TaskCandidate.task_id).where(TaskCandidate.kind == "user",
                                                  TaskCandidate.name == principal.username)
    return s.scalars(select(HumanTask).where(HumanTask.case_id == case.id, or_(
        HumanTask.assignee_id == principal.id, HumanTask.id.in_(offered)))
        .order_by(HumanTask.created_at).execution_options(populate_existing=True)).first()


def _deficiencies(s: Session, case: Case) -> list[dict[str, str]]:
    """What the latest correction notice lists; before notices existed, the last preview's data."""
    notice = s.scalar(select(Notice).where(Notice.case_id == case.id, Notice.kind == "correction")
                      .order_by(Notice.id.desc()).limit(1))
    rows: Any = (notice.content or {}).get("deficiencies") if notice is not None else None
    if rows is None:
        for event in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "completed")
                               .order_by(CaseEvent.id.desc())):
            rows = (event.data_after or {}).get("deficiencies")
            if rows:
                break
    return [{"material": str(r.get("material") or ""), "requirement": str(r.get("requirement") or "")}
            for r in rows or [] if isinstance(r, dict)]
