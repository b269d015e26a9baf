"""The applicant portal: the service guide, drafts (暂存), submitting with materials, my cases,
resubmitting corrected materials, public tracking (DB4201/T 571 §5.1.1.3) and window intake."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.errors import CaseNotFound, Conflict, Forbidden, InvalidForm, InvalidInput, ItemNotFound, NotFound
from app.models import (
    TYPE_CODES,
    Case,
    CaseEvent,
    CaseFile,
    Department,
    Draft,
    HumanTask,
    Item,
    Notice,
    ProcessDefinition,
    TaskCandidate,
    User,
)

from . import cases, ratelimit, tasks
from .context import ServiceContext
from .files import FileStore, StoredFile, attach, discard_unreferenced, view
from .identity import find_or_create_walk_in, normalize_id, normalize_mobile, walk_in_errors
from .items import item_view
from .principal import Principal
from .processes import latest_definition
from .projection import add_event
from .views import case_summary

MATERIAL = "_material"  # error key prefix: "_material.3" is the item's fourth material
APPLICANT = "_applicant"  # window intake: "_applicant.id_number"
WITHDRAWABLE = cases.WITHDRAWABLE


class DraftNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Upload:
    """One uploaded file for the material named `material` (the stream is read once)."""

    material: str
    filename: str
    stream: IO[bytes]


@dataclass
class Saved:
    """A saved draft; `errors`: refused files by material error key ("_material.1")."""

    draft_id: int
    errors: dict[str, list[str]] = field(default_factory=dict)


# -- the guide ---------------------------------------------------------------------------------------

def catalogue(ctx: ServiceContext, query: str = "") -> list[dict[str, Any]]:
    """Active items whose name or code contains `query`, by department and type."""
    needle = query.strip().lower()
    with ctx.uow() as uow:
        items = [item_view(i) for i in uow.session.scalars(
            select(Item).where(Item.active.is_(True)).order_by(Item.code))]
    return [i for i in items if not needle or needle in i["name"].lower() or needle in i["code"].lower()]


def group_items(items: Iterable[dict[str, Any]], key: str, label: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """[(key, label, items)] in key order."""
    groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for item in items:
        groups.setdefault(str(item[key]), (str(item[label] or item[key]), []))[1].append(item)
    return [(k, name, members) for k, (name, members) in sorted(groups.items())]


def item_guide(ctx: ServiceContext, code: str) -> dict[str, Any]:
    """An active item's guide (DB4201/T 571 §5.1.1.2) with the steps of its process.

    :raises ItemNotFound:
    """
    with ctx.uow() as uow:
        s = uow.session
        item = s.scalar(select(Item).where(Item.code == code, Item.active.is_(True)))
        if item is None:
            raise ItemNotFound(f"事项不存在 / item '{code}' not found")
        guide = item_view(item)
        guide["materials"] = _materials(item)
        guide["type_name"] = TYPE_CODES.get(item.type_code, item.type_code)
        guide["steps"] = process_steps(_process_xml(s, item))
        names = dict(s.execute(select(Department.code, Department.name)
                               .where(Department.code.in_(item.departments or []))).all())
        guide["department_names"] = [names.get(c, c) for c in item.departments or []]
        return guide


def process_xml(ctx: ServiceContext, code: str) -> str:
    """The BPMN XML of the latest version of an active item's process (public, like the guide).

    :raises ItemNotFound: no such active item, or its process is not deployed.
    """
    with ctx.uow() as uow:
        s = uow.session
        item = s.scalar(select(Item).where(Item.code == code, Item.active.is_(True)))
        xml = _process_xml(s, item) if item is not None else ""
        if not xml:
            raise ItemNotFound(f"事项不存在 / item '{code}' not found")
        return xml


def process_steps(xml: str) -> list[str]:
    """The names of the user tasks and called processes, following the flows from the start events."""
    if not xml:
        return []
    try:
        root = parse_xml(xml).getroot()
    except UnsafeXml:
        return []
    process = next(iter(root.xpath("//*[local-name()='process'][@isExecutable='true']")), None)
    if process is None:
        return []
    nodes = {n.get("id"): n for n in process if isinstance(n.tag, str)}
    flows: dict[str, list[str]] = {}
    for flow in process.xpath("./*[local-name()='sequenceFlow']"):
        flows.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    queue = [n.get("id") for n in process.xpath("./*[local-name()='startEvent']")]
    seen, steps = set(queue), []
    while queue:
        node = nodes.get(queue.pop(0))
        if node is None:
            continue
        if node.tag.rsplit("}", 1)[-1] in ("userTask", "callActivity", "manualTask") and node.get("name"):
            steps.append(node.get("name"))
        for target in flows.get(node.get("id"), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return list(dict.fromkeys(steps))


def _process_xml(s: Session, item: Item) -> str:
    try:
        definition = latest_definition(s, item.process_key)
    except NotFound:
        return ""
    xml: str = s.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == definition.id)) or ""
    return xml


def _materials(item: Item) -> list[dict[str, Any]]:
    return [{"index": i, "name": str(m.get("name")), "required": bool(m.get("required")),
             "description": str(m.get("description") or ""), "template": m.get("template") or None}
            for i, m in enumerate(item.materials or []) if isinstance(m, dict) and m.get("name")]


# -- drafts ------------------------------------------------------------------------------------------

def save_draft(ctx: ServiceContext, principal: Principal, item_code: str, data: dict[str, Any],
               uploads: Sequence[Upload], store: FileStore, draft_id: int | None = None) -> Saved:
    """Create or update a draft with the form data as typed, and keep every acceptable upload on it.

    Refused files (type, size) are reported in `Saved.errors`; the rest is saved anyway.
    :raises ItemNotFound, DraftNotFound, Forbidden:
    """
    _require_applicant(principal)
    with ctx.uow() as uow:
        item = _item(uow.session, item_code) if draft_id is None else _draft(uow.session, principal, draft_id).item
        item_id, materials = item.id, _materials(item)
    stored, errors = _store(uploads, materials, store)
    with ctx.uow(write=True) as uow:
        s = uow.session
        now = ctx.clock.now()
        if draft_id is None:
            draft = Draft(applicant_id=principal.id, item_id=item_id, data=data, created_at=now, updated_at=now)
            s.add(draft)
        else:
            draft = _draft(s, principal, draft_id)
            draft.data, draft.updated_at = data, now
        s.flush()
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id, now=now,
                   draft_id=draft.id)
        saved = Saved(draft.id, errors)
        uow.commit()
        return saved


def get_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """:raises DraftNotFound: unknown, or someone else's."""
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        files = s.scalars(select(CaseFile).where(CaseFile.draft_id == draft.id).order_by(CaseFile.id))
        return {"id": draft.id, "item_code": draft.item.code, "item_name": draft.item.name, "data": draft.data,
                "form_key": draft.item.form_key, "materials": _materials(draft.item),
                "files": [view(f) for f in files], "created_at": draft.created_at, "updated_at": draft.updated_at}


def list_drafts(ctx: ServiceContext, principal: Principal) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        s = uow.session
        counts = dict(s.execute(select(CaseFile.draft_id, func.count()).join(Draft, Draft.id == CaseFile.draft_id)
                                .where(Draft.applicant_id == principal.id).group_by(CaseFile.draft_id)).all())
        drafts = s.scalars(select(Draft).where(Draft.applicant_id == principal.id)
                           .order_by(Draft.updated_at.desc(), Draft.id.desc()))
        return [{"id": d.id, "item_code": d.item.code, "item_name": d.item.name, "updated_at": d.updated_at,
                 "files": counts.get(d.id, 0)} for d in drafts]


def delete_draft(ctx: ServiceContext, principal: Principal, draft_id: int, store: FileStore | None = None) -> None:
    """Delete a draft and its file records, and from `store` the bytes no other record shares.

    :raises DraftNotFound:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        hashes = s.scalars(delete(CaseFile).where(CaseFile.draft_id == draft.id, CaseFile.case_id.is_(None))
                           .returning(CaseFile.sha256)).all()
        s.delete(draft)
        uow.commit()
    if store is not None:
        discard_unreferenced(ctx, store, hashes)


def remove_draft_file(ctx: ServiceContext, principal: Principal, draft_id: int, file_id: int,
                      store: FileStore | None = None) -> None:
    """Remove a file from a draft, and its bytes from `store` unless another record shares them.

    :raises DraftNotFound: the draft or the file on it is unknown or someone else's.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        hashes = s.scalars(delete(CaseFile).where(CaseFile.id == file_id, CaseFile.draft_id == draft.id,
                                                  CaseFile.case_id.is_(None)).returning(CaseFile.sha256)).all()
        if not hashes:
            raise DraftNotFound("文件不存在 / file not found")
        uow.commit()
    if store is not None:
        discard_unreferenced(ctx, store, hashes)


def submit_draft(ctx: ServiceContext, principal: Principal, draft_id: int) -> dict[str, Any]:
    """Submit a draft: the form must validate and every required material needs a file; the case is
    created through `cases.create_case`, then the draft's files move onto it and the draft goes.

    :raises DraftNotFound: :raises InvalidForm: form errors and "_material.<i>" errors together.
    """
    with ctx.uow() as uow:
        s = uow.session
        draft = _draft(s, principal, draft_id)
        item_code, form_key, data = draft.item.code, draft.item.form_key, dict(draft.data)
        have = set(s.scalars(select(CaseFile.material).where(CaseFile.draft_id == draft.id)))
        errors = _missing(_materials(draft.item), have)
    errors.update(_form_errors(ctx, form_key, data))
    if errors:
        raise InvalidForm(errors)
    def move_files(s: Session, case: Case) -> None:  # same transaction as the case: all or nothing
        moved = s.execute(update(CaseFile).where(CaseFile.draft_id == draft_id, CaseFile.case_id.is_(None))
                          .values(case_id=case.id, draft_id=None)).rowcount
        gone = s.execute(delete(Draft).where(Draft.id == draft_id, Draft.applicant_id == principal.id)).rowcount
        if not gone and not moved:  # submitted twice (a double click): the first submission won
            raise DraftNotFound("暂存件不存在或已提交 / draft not found or already submitted")

    return cases.create_case(ctx, principal, item_code, data, records=move_files)


def _draft(s: Session, principal: Principal, draft_id: int) -> Draft:
    draft = s.get(Draft, draft_id)
    if draft is None or draft.applicant_id != principal.id:
        raise DraftNotFound("草稿不存在 / draft not found")
    return draft


def _item(s: Session, code: str) -> Item:
    item = s.scalar(select(Item).where(Item.code == code, Item.active.is_(True)))
    if item is None:
        raise ItemNotFound(f"事项不存在 / item '{code}' not found")
    return item


def _require_applicant(principal: Principal) -> None:
    if "applicant" not in principal.roles:
        raise Forbidden("只有申请人可以在线申请 / only applicants apply online")


def _store(uploads: Sequence[Upload], materials: list[dict[str, Any]], store: FileStore
           ) -> tuple[list[tuple[Upload, StoredFile]], dict[str, list[str]]]:
    """Store each upload by content; refused ones become messages under their material's key."""
    keys = {m["name"]: f"{MATERIAL}.{m['index']}" for m in materials}
    stored: list[tuple[Upload, StoredFile]] = []
    errors: dict[str, list[str]] = {}
    for upload in uploads:
        key = keys.get(upload.material)
        if key is None:
            errors.setdefault(f"{MATERIAL}", []).append("未知材料 / unknown material")
            continue
        try:
            stored.append((upload, store.put(upload.stream, key)))
        except InvalidInput as exc:
            errors.setdefault(key, []).extend(_named(d.get("message", exc.message), upload.filename)
                                              for d in exc.as_errors())
    return stored, errors


def _named(message: str, filename: str) -> str:
    """"文件为空 / empty file" → "文件为空（a.pdf） / empty file (a.pdf)"."""
    zh, sep, en = message.partition(" / ")
    return f"{zh}（{filename}） / {en} ({filename})" if sep else f"{message} ({filename})"


def _missing(materials: list[dict[str, Any]], have: set[str]) -> dict[str, list[str]]:
    return {f"{MATERIAL}.{m['index']}": ["请上传此材料 / upload this material"]
            for m in materials if m["required"] and m["name"] not in have}


def _form_errors(ctx: ServiceContext, form_key: str | None, data: dict[str, Any],
                 context: dict[str, Any] | None = None) -> dict[str, list[str]]:
    if not form_key:
        return {}
    try:
        ctx.forms.get(form_key).validate(data, context or {})
    except InvalidForm as exc:
        return dict(exc.field_errors)
    return {}


# -- my cases ----------------------------------------------------------------------------------------

def my_cases(ctx: ServiceContext, principal: Principal) -> list[dict[str, Any]]:
    """The applicant's cases, newest first: status, current step, deadline, notices received."""
    with ctx.uow() as uow:
        s = uow.session
        due = (select(HumanTask.case_id, func.min(HumanTask.due_at).label("due"))
               .group_by(HumanTask.case_id).subquery())
        notices = (select(Notice.case_id, func.count().label("n")).group_by(Notice.case_id).subquery())
        rows = s.execute(select(Case, due.c.due, func.coalesce(notices.c.n, 0))
                         .outerjoin(due, due.c.case_id == Case.id).outerjoin(notices, notices.c.case_id == Case.id)
                         .where(Case.applicant_id == principal.id)
                         .order_by(Case.received_at.desc(), Case.id.desc())).all()
        return [{"case_no": c.case_no, "item_code": c.item.code, "item_name": c.item.name, "status": c.status,
                 "stage": c.stage, "received_at": c.received_at, "deadline": due_at, "notices": n}
                for c, due_at, n in rows]


def my_case(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[str, Any]:
    """One of the applicant's own cases with what the case page shows.

    :raises CaseNotFound: unknown or someone else's.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _own_case(s, principal, case_no)
        open_tasks = list(s.scalars(select(HumanTask).where(HumanTask.case_id == case.id)
                                    .order_by(HumanTask.created_at, HumanTask.id)))
        mine = _offered_correction(s, case, principal) if case.status == "correction" else None
        files = s.scalars(select(CaseFile).where(CaseFile.case_id == case.id)
                          .order_by(CaseFile.round, CaseFile.material, CaseFile.id))
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                   CaseEvent.action.in_(("created", "status", "withdrawn",
                                                                         "resubmitted"))).order_by(CaseEvent.id))
        view_ = case_summary(case)
        view_.update(
            deadline=min((t.due_at for t in open_tasks if t.due_at), default=None),
            files=[view(f) for f in files], materials=_materials(case.item),
            history=[{"at": e.at, "action": e.action, "status": (e.data_after or {}).get("status"),
                      "message": e.message if e.action != "status" else None} for e in events],
            correction=None, withdrawable=case.accepted_at is None and case.status in WITHDRAWABLE)
        if mine is not None:
            view_["correction"] = {"task_id": mine.id, "form_key": mine.form_key,
                                   "deficiencies": _deficiencies(s, case)}
        return view_


def resubmit(ctx: ServiceContext, principal: Principal, case_no: str, data: dict[str, Any],
             uploads: Sequence[Upload], store: FileStore) -> dict[str, Any]:
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
    return _resubmit(ctx, principal, step, data, uploads, store)


def window_correction(ctx: ServiceContext, principal: Principal, task_id: str) -> dict[str, Any] | None:
    """For the staff task page: what the correction notice lists and the item's materials, if the open
    task `task_id` is a case's correction step (offered to its applicant by name); else None."""
    if not principal.is_staff:
        return None
    with ctx.uow() as uow:
        step = _window_correction(uow.session, task_id)
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
        step = _window_correction(uow.session, task_id)
    if step is None:
        raise Conflict("办件当前不需要补正 / the case is not awaiting correction")
    return _resubmit(ctx, clerk, step, data, uploads, store)


@dataclass(frozen=True)
class _Correction:
    """An open correction step: its task, what the notice lists, and the item's materials."""

    task_id: str
    form_key: str | None
    deficiencies: list[dict[str, str]]
    materials: list[dict[str, Any]]

    @classmethod
    def of(cls, s: Session, case: Case, task: HumanTask) -> _Correction:
        return cls(task.id, task.form_key, _deficiencies(s, case), _materials(case.item))


def _window_correction(s: Session, task_id: str) -> _Correction | None:
    task = s.get(HumanTask, task_id)
    case = s.get(Case, task.case_id) if task is not None else None
    if task is None or case is None or case.status != "correction":
        return None
    offered = s.scalar(select(TaskCandidate.task_id).where(
        TaskCandidate.task_id == task.id, TaskCandidate.kind == "user",
        TaskCandidate.name == case.applicant.username).limit(1))
    return _Correction.of(s, case, task) if offered is not None else None


def _resubmit(ctx: ServiceContext, principal: Principal, step: _Correction, data: dict[str, Any],
              uploads: Sequence[Upload], store: FileStore) -> dict[str, Any]:
    listed = {d["material"] for d in step.deficiencies}
    errors = _form_errors(ctx, step.form_key, data)
    stored, file_errors = _store(uploads, step.materials, store)
    missing = _missing([{**m, "required": True} for m in step.materials if m["name"] in listed],
                       {u.material for u, _f in stored})
    errors.update({**missing, **file_errors})  # a refused file says why, not only that one is missing
    if errors:
        raise InvalidForm(errors)
    def add_round(s: Session, locked: Case) -> None:  # with the task's completion: all or nothing
        now = ctx.clock.now()
        round_no = (s.scalar(select(func.max(CaseFile.round)).where(CaseFile.case_id == locked.id)) or 0) + 1
        s.execute(update(CaseFile).where(CaseFile.case_id == locked.id, CaseFile.superseded_at.is_(None),
                                         CaseFile.material.in_({u.material for u, _f in stored}))
                  .values(superseded_at=now))
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=principal.id, now=now,
                   case_id=locked.id, round_no=round_no)
        add_event(s, locked, now, "resubmitted", principal.id, message=f"第 {round_no} 轮补正，{len(stored)} 份文件",
                  data_after={"round": round_no, "materials": sorted({u.material for u, _f in stored})})

    return tasks.complete_task(ctx, principal, step.task_id, data, records=add_round)


def _own_case(s: Session, principal: Principal, case_no: str) -> Case:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or case.applicant_id != principal.id:
        raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
    return case


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


# -- public tracking ---------------------------------------------------------------------------------

RESULTS = {"issued": "granted", "decided": "granted", "closed": "completed", "withdrawn": "withdrawn"}


def track(ctx: ServiceContext, case_no: str, secret: str, client: str | None = None) -> dict[str, Any]:
    """The §5.1.1.3 fields of a case, for whoever knows its number and the applicant's mobile number or
    the last six characters of the applicant's ID number / credit code. Failed lookups are counted per
    `client` (its address): past the limit, no lookup is made.

    :raises CaseNotFound: any mismatch, with the same message whatever did not match.
    :raises TooManyAttempts: `client` failed too often lately.
    """
    if client is None:
        return _track(ctx, case_no, secret)
    ratelimit.check(ctx, ratelimit.TRACK, client)
    try:
        return _track(ctx, case_no, secret)
    except CaseNotFound:
        ratelimit.count_attempt(ctx, ratelimit.TRACK, client)
        raise


def _track(ctx: ServiceContext, case_no: str, secret: str) -> dict[str, Any]:
    not_found = CaseNotFound("未找到匹配的办件 / no matching case")
    case_no, secret = case_no.strip().upper(), secret.strip()
    if not case_no or len(secret) < 6 or len(case_no) > 32:
        raise not_found
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        if case is None or not _secret_matches(case.applicant, secret):
            raise not_found
        tasks_ = list(s.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.created_at)))
        return {"case_no": case.case_no, "item_name": case.item.name, "accepted_at": case.accepted_at,
                "departments": _departments(s, case, tasks_),
                "handler": _handler(s, case, tasks_), "status": case.status, "result": _result(case)}


def _secret_matches(applicant: User, secret: str) -> bool:
    candidates = [normalize_mobile(applicant.phone)] if applicant.phone else []
    if applicant.id_number and len(applicant.id_number) >= 6:
        candidates.append(normalize_id(applicant.id_number)[-6:])
    given = normalize_id(secret) if len(normalize_id(secret)) == 6 else normalize_mobile(secret)
    matched = False
    for candidate in candidates:  # no early exit: the time taken says nothing about which matched
        matched |= hmac.compare_digest(candidate.encode(), given.encode())
    return matched


def _departments(s: Session, case: Case, open_tasks: list[HumanTask]) -> list[str]:
    codes = [t.department for t in open_tasks if t.department]
    if not codes:
        return [case.item.department.name]
    names = dict(s.execute(select(Department.code, Department.name).where(Department.code.in_(codes))).all())
    return list(dict.fromkeys(names.get(c, c) for c in codes))


def _handler(s: Session, case: Case, open_tasks: list[HumanTask]) -> dict[str, str] | None:
    """The staff member holding the case now, or else the last one who acted on it."""
    assignee_ids = [t.assignee_id for t in open_tasks if t.assignee_id]
    user = None
    if assignee_ids:
        user = s.scalar(select(User).where(User.id.in_(assignee_ids), User.role != "applicant").limit(1))
    if user is None:
        user = s.scalar(select(User).join(CaseEvent, CaseEvent.actor_id == User.id)
                        .where(CaseEvent.case_id == case.id, User.role != "applicant")
                        .order_by(CaseEvent.id.desc()).limit(1))
    return {"name": user.full_name or user.username, "staff_no": user.staff_no or ""} if user else None


def _result(case: Case) -> str | None:
    if case.status == "refused":
        return "refused" if case.decided_at is not None else "not_accepted"
    return RESULTS.get(case.status)


# -- window intake -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WalkIn:
    kind: str
    id_number: str
    name: str
    phone: str
    contact_name: str = ""  # a company's contact person


def window_intake(ctx: ServiceContext, clerk: Principal, walk_in: WalkIn, item_code: str, data: dict[str, Any],
                  uploads: Sequence[Upload], store: FileStore) -> dict[str, Any]:
    """A clerk records a walk-in application: the applicant's account is found or opened by identity,
    the case is created on their behalf, and the scanned materials are attached to it. Everything is
    checked before anything is recorded.

    :raises Forbidden: not a clerk. :raises ItemNotFound:
    :raises InvalidInput: a new applicant without a name.
    :raises InvalidForm: form errors, "_material.<i>" errors (refused or missing scans) and
        "_applicant.<field>" errors (identity).
    """
    if not clerk.has("clerk", "admin"):
        raise Forbidden("只有窗口人员可以代为申请 / only window clerks may apply on behalf of someone")
    with ctx.uow() as uow:
        item = _item(uow.session, item_code)
        materials, form_key = _materials(item), item.form_key
    errors = _form_errors(ctx, form_key, data)
    errors.update(_missing(materials, {u.material for u in uploads}))
    for detail in walk_in_errors(ctx, walk_in.kind, walk_in.id_number, walk_in.name, walk_in.phone,
                                 walk_in.contact_name):
        errors.setdefault(f"{APPLICANT}.{detail['field']}", []).append(detail["message"])
    stored, file_errors = _store(uploads, materials, store)
    errors.update(file_errors)
    if errors:
        raise InvalidForm(errors)
    username = find_or_create_walk_in(ctx, clerk, kind=walk_in.kind, id_number=walk_in.id_number,
                                      name=walk_in.name, phone=walk_in.phone, contact_name=walk_in.contact_name)
    def attach_scans(s: Session, case: Case) -> None:  # same transaction as the case
        for upload, file in stored:
            attach(s, file, material=upload.material, filename=upload.filename, uploaded_by=clerk.id,
                   now=ctx.clock.now(), case_id=case.id)

    return cases.create_case(ctx, clerk, item_code, data, applicant=username, records=attach_scans)
