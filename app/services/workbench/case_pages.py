"""What staff need to work a case: the task page and the case page (summary, materials, process data,
history with names and staff numbers, comments) and the case's BPMN diagram with the steps done and
the steps open."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, undefer

from app.engine.runtime import EngineFailure
from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.errors import CaseNotFound, Forbidden, InvalidInput, TaskAlreadyCompleted, TaskNotFound
from app.forms import FormDefinition
from app.models import (
    Case,
    CaseEvent,
    Comment,
    Department,
    Group,
    HumanTask,
    Incident,
    ProcessDefinition,
    TaskCandidate,
    User,
    case_terms,
)
from app.services.casework import process_forms
from app.services.casework.cases import UNREADABLE, process_data, readable_workflow
from app.services.casework.reused import reused_on_case
from app.services.casework.views import case_summary, event_view, task_view
from app.services.context import ServiceContext
from app.services.documents.files import FileView, case_files
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal
from app.services.timelimits import clocks

MAX_COMMENT = 2000


class TaskCompleted(TaskAlreadyCompleted):
    """The task is done; `case_no` says where to look instead (only for users who may see the case)."""

    def __init__(self, message: str, case_no: str) -> None:
        super().__init__(message)
        self.case_no = case_no


@dataclass
class TaskPage:
    task: dict[str, Any]
    case: dict[str, Any]
    files: list[FileView]
    context: dict[str, Any]  # the task's process data: form options (valuesKey), prefill values
    history: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    is_candidate: bool
    may_work: bool
    assignee_name: str | None
    assignee_staff_no: str | None
    offered_to: list[dict[str, Any]] = field(default_factory=list)  # candidate groups, readable
    department_name: str | None = None


@dataclass
class CasePage:
    case: dict[str, Any]
    tasks: list[dict[str, Any]]
    files: list[FileView]
    data: dict[str, Any]
    history: list[dict[str, Any]]
    steps: list[dict[str, Any]]  # completed steps: who (name, staff number) and when
    comments: list[dict[str, Any]]
    incidents: list[dict[str, Any]]


@dataclass(frozen=True)
class Diagram:
    xml: str
    done: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # element id -> its name, for the marked ones


# -- pages -------------------------------------------------------------------------------------------

def task_page(ctx: ServiceContext, principal: Principal, task_id: str) -> TaskPage:
    """Everything the task page shows, if `principal` may see the task (a candidate, its assignee, or
    staff of a department the case touches).

    :raises TaskNotFound: unknown, or not visible (no hint which).
    :raises TaskCompleted: already completed (carries the case number).
    """
    with ctx.uow() as uow:
        s = uow.session
        task = s.get(HumanTask, task_id)
        if task is None:
            _raise_missing(s, principal, task_id)
        assert task is not None
        case = s.get(Case, task.case_id)
        assert case is not None
        candidate = _is_candidate(s, principal, task)
        if not (candidate or task.assignee_id == principal.id or (principal.is_staff and can_see_case(s, principal, case))):
            raise TaskNotFound(f"任务不存在 / task '{task_id}' not found")
        assignee = s.get(User, task.assignee_id) if task.assignee_id else None
        workflow = _workflow(ctx, s, case)
        context = _task_data(ctx, workflow, task.id)
        return TaskPage(
            task=task_view(task, assignee.username if assignee else None, case),
            case=_summary(s, case), files=case_files(s, case.id), context=context,
            history=_history(s, case, principal), comments=_comments(s, case, principal),
            is_candidate=candidate,
            may_work=task.assignee_id == principal.id or (candidate and task.assignee_id is None),
            assignee_name=(assignee.full_name or assignee.username) if assignee else None,
            assignee_staff_no=assignee.staff_no if assignee else None,
            offered_to=_groups(s, task.candidate_groups or []),
            department_name=s.scalar(select(Department.name).where(Department.code == task.department))
            if task.department else None,
        )


def case_page(ctx: ServiceContext, principal: Principal, case_no: str) -> CasePage:
    """The staff case page: summary, all open tasks, materials, process data, every completed step with
    who and when, comments and incidents.

    :raises CaseNotFound: unknown, or not visible to this user.
    :raises Forbidden: not staff.
    """
    if not principal.is_staff:
        raise Forbidden("仅限工作人员 / staff only")
    with ctx.uow() as uow:
        s = uow.session
        case = _visible_case(s, principal, case_no)
        rows = s.execute(select(HumanTask, User).outerjoin(User, User.id == HumanTask.assignee_id)
                         .where(HumanTask.case_id == case.id).order_by(HumanTask.created_at, HumanTask.id)).all()
        departments = dict(s.execute(select(Department.code, Department.name)).all())
        tasks = [{**task_view(t, u.username if u else None, case),
                  "department_name": departments.get(t.department or ""),
                  "assignee_name": (u.full_name or u.username) if u else None,
                  "assignee_staff_no": u.staff_no if u else None,
                  "offered_to": _groups(s, t.candidate_groups or [])} for t, u in rows]
        history = _history(s, case, principal)
        workflow = _workflow(ctx, s, case)
        incidents = s.scalars(select(Incident).where(Incident.case_id == case.id).order_by(Incident.id))
        return CasePage(
            case=_summary(s, case), tasks=tasks, files=case_files(s, case.id),
            data=process_data(ctx, s, case, workflow),
            history=history, steps=[e for e in history if e["action"] == "completed"],
            comments=_comments(s, case, principal),
            incidents=[{"id": i.id, "at": i.at, "element_id": i.element_id, "message": i.message,
                        "resolved_at": i.resolved_at} for i in incidents],
        )


def _raise_missing(s: Session, principal: Principal, task_id: str) -> None:
    event = s.scalars(select(CaseEvent).where(CaseEvent.task_id == task_id, CaseEvent.action == "completed")
                      .limit(1)).first()
    if event is not None:
        case = s.get(Case, event.case_id)
        if case is not None and (principal.is_staff or case.applicant_id == principal.id) \
                and can_see_case(s, principal, case):
            raise TaskCompleted("任务已完成 / the task is already completed", case.case_no)
    raise TaskNotFound(f"任务不存在 / task '{task_id}' not found")


def _visible_case(s: Session, principal: Principal, case_no: str) -> Case:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or not can_see_case(s, principal, case):
        raise CaseNotFound(f"办件不存在 / case '{case_no}' not found")
    return case


def _is_candidate(s: Session, principal: Principal, task: HumanTask) -> bool:
    return bool(s.scalar(select(exists().where(
        TaskCandidate.task_id == task.id,
        ((TaskCandidate.kind == "group") & TaskCandidate.name.in_(sorted(principal.groups) or [""]))
        | ((TaskCandidate.kind == "user") & (TaskCandidate.name == principal.username))))))


def _groups(s: Session, names: list[str]) -> list[dict[str, Any]]:
    """Candidate groups as people read them: the department's name and the role (or the raw name)."""
    found = {g.name: g for g in s.scalars(select(Group).where(Group.name.in_(names)))} if names else {}
    return [{"name": n, "department_name": found[n].department.name if n in found and found[n].department else None,
             "role": found[n].role if n in found else None} for n in names]


def _workflow(ctx: ServiceContext, s: Session, case: Case) -> Any:
    return readable_workflow(ctx, s, case)


def _task_data(ctx: ServiceContext, workflow: Any, task_id: str) -> dict[str, Any]:
    """What the step's form shows; empty when the state cannot be read (the incident says why)."""
    try:
        return ctx.engine.task_data(workflow, task_id) if workflow is not None else {}
    except (*UNREADABLE, EngineFailure):
        return {}


def _summary(s: Session, case: Case) -> dict[str, Any]:
    item, terms = case.item, case_terms(case)  # limits and materials: the revision the case started with
    view = case_summary(case)
    view.update(case_kind=terms.case_kind, promised_limit=terms.promised_limit, statutory_limit=terms.statutory_limit,
                limit_unit=terms.limit_unit, joint=terms.joint, applicant_phone=case.applicant.phone,
                application=dict(case.application or {}), application_form=item.form_key,
                required_materials=_with_licences(s, case, [m for m in terms.materials if isinstance(m, dict)]),
                promised_due=None, promised_due_provisional=False)
    clock = clocks.decision_deadline(s, case.id)
    if clock is not None:  # the decision clock's deadline: extensions and special procedures included
        view.update(promised_due=clock[0], promised_due_provisional=clock[1])
    return view


def _with_licences(s: Session, case: Case, materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each material with `reused`: the licence from the licence library standing for it (减材料), or None."""
    reused = reused_on_case(s, case.id)
    return [{**m, "reused": reused.get(str(m.get("name")))} for m in materials]


def _history(s: Session, case: Case, principal: Principal) -> list[dict[str, Any]]:
    events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    return [event_view(e, staff=principal.is_staff) for e in events]


# -- comments ----------------------------------------------------------------------------------------

def _comments(s: Session, case: Case, principal: Principal) -> list[dict[str, Any]]:
    query = select(Comment).where(Comment.case_id == case.id).order_by(Comment.id)
    if not principal.is_staff:
        query = query.where(Comment.public.is_(True))
    views: list[dict[str, Any]] = []
    for c in s.scalars(query):
        view = {"id": c.id, "body": c.body, "public": c.public, "task_key": c.task_key, "at": c.created_at,
                "author_role": c.author.role,
                "author_department": c.author.department.name if c.author.department else None}
        if principal.is_staff:  # the applicant sees the role and department, as on the portal, not names
            view.update(author=c.author.username, author_name=c.author.full_name or c.author.username,
                        author_staff_no=c.author.staff_no)
        views.append(view)
    return views


def list_comments(ctx: ServiceContext, principal: Principal, case_no: str) -> list[dict[str, Any]]:
    """Comments on a case: all of them for staff, the public ones (without staff names) for the applicant.

    :raises CaseNotFound:
    """
    with ctx.uow() as uow:
        return _comments(uow.session, _visible_case(uow.session, principal, case_no), principal)


def add_comment(ctx: ServiceContext, principal: Principal, case_no: str, body: str, public: bool = False,
                task_key: str | None = None) -> dict[str, Any]:
    """A staff remark on a case; internal unless `public` (then the applicant sees it too).

    :raises Forbidden: not staff. :raises CaseNotFound: :raises InvalidInput: empty or too long.
    """
    if not principal.is_staff:
        raise Forbidden("仅限工作人员 / staff only")
    text = (body or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidInput("bad comment", [{"field": "body", "message":
                           f"请填写意见（不超过 {MAX_COMMENT} 字） / write a comment of at most {MAX_COMMENT} characters"}])
    with ctx.uow(write=True) as uow:
        s = uow.session
        case = _visible_case(s, principal, case_no)
        comment = Comment(case_id=case.id, task_key=(task_key or None) and task_key[:128], author_id=principal.id,
                          body=text, public=bool(public), created_at=ctx.clock.now())
        s.add(comment)
        s.flush()
        view = {"id": comment.id, "case_no": case.case_no, "public": comment.public}
        uow.commit()
        return view


# -- the diagram -------------------------------------------------------------------------------------

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TASK_TAGS = {"userTask", "task", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
             "businessRuleTask", "callActivity", "subProcess"}


def diagram(ctx: ServiceContext, principal: Principal, case_no: str) -> Diagram:
    """The BPMN XML of the case's pinned definition, the element ids of the steps done (completed
    tasks, passed milestones, the start) and of the steps open now.

    :raises CaseNotFound: unknown, not visible, or without a process definition.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _visible_case(s, principal, case_no)
        definition = s.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.bpmn_xml))
                              .where(ProcessDefinition.id == case.process_definition_id))
        if definition is None:
            raise CaseNotFound(f"办件没有流程图 / case '{case_no}' has no diagram")
        called = {key: _called_nodes(s, int(did)) for key, did in (definition.called or {}).items()}
        events = s.execute(select(CaseEvent.action, CaseEvent.task_key, CaseEvent.message, CaseEvent.data_after)
                           .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
        open_keys = list(s.scalars(select(HumanTask.task_key).where(HumanTask.case_id == case.id)))
        return _mark(definition.bpmn_xml, called, events, open_keys)


def step_forms(ctx: ServiceContext, principal: Principal, case_no: str) -> dict[int, FormDefinition]:
    """{completed-step event id: the step's form}, each as deployed with the process version the case was
    on when the step was done (a migrated case's earlier steps keep their old version's labels), inline
    forms and the steps of called processes included; steps whose form is unknown are left out.

    :raises CaseNotFound: unknown, or not visible to this user.
    """
    with ctx.uow() as uow:
        s = uow.session
        case = _visible_case(s, principal, case_no)
        events = s.execute(select(CaseEvent.id, CaseEvent.action, CaseEvent.task_key, CaseEvent.data_before,
                                  CaseEvent.data_after)
                           .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(("completed", "migrated")))
                           .order_by(CaseEvent.id)).all()
        version = _first_version(case.process_definition_id, events)
        found: dict[int, FormDefinition] = {}
        by_version: dict[int, dict[str, FormDefinition]] = {}
        for event_id, action, task_key, _before, after in events:
            if action == "migrated":
                version = _definition_id(after) or version
            elif task_key and version is not None:
                if version not in by_version:
                    by_version[version] = process_forms.task_forms(ctx, s, version)
                if task_key in by_version[version]:
                    found[event_id] = by_version[version][task_key]
        return found


def _first_version(current: int | None, events: Iterable[Any]) -> int | None:
    """The version the case started on: before its first migration, else the one it is on."""
    moved = next((e for e in events if e[1] == "migrated"), None)
    return (_definition_id(moved[3]) or current) if moved is not None else current


def _definition_id(data: Any) -> int | None:
    value = data.get("process_definition_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def _called_nodes(s: Session, definition_id: int) -> dict[str, _Node]:
    xml = s.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == definition_id))
    try:
        return _nodes(xml or "")
    except UnsafeXml:
        return {}


@dataclass
class _Node:
    id: str
    tag: str
    name: str
    incoming: list[str]
    called: str | None


def _nodes(xml: str) -> dict[str, _Node]:
    root = parse_xml(xml).getroot()
    nodes: dict[str, _Node] = {}
    sources: list[tuple[str, str]] = []  # (source, target) of every sequence flow
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{" + BPMN_NS + "}"):
            continue
        tag = element.tag.split("}", 1)[1]
        ident = element.get("id")
        if not ident:
            continue
        if tag == "sequenceFlow":
            sources.append((str(element.get("sourceRef")), str(element.get("targetRef"))))
            continue
        nodes[ident] = _Node(ident, tag, element.get("name") or "", [], element.get("calledElement"))
    for source, target in sources:
        if target in nodes:
            nodes[target].incoming.append(source)
    return nodes


def _mark(xml: str, called: dict[str, dict[str, _Node]], events: Iterable[Any], open_keys: list[str]) -> Diagram:
    try:
        nodes = _nodes(xml)
    except UnsafeXml:
        return Diagram(xml)
    done: list[str] = [n.id for n in nodes.values() if n.tag == "startEvent"]
    last_task: str | None = None
    for action, task_key, message, data_after in events:
        if action == "completed" and task_key:
            done.extend(_located(task_key, nodes, called))
            last_task = task_key
        elif action == "status" and message:
            status = (data_after or {}).get("status")
            done.extend(_milestones(nodes, message, status, last_task))
    current = [i for key in open_keys for i in _located(key, nodes, called)]
    done = [i for i in dict.fromkeys(done) if i not in current]
    current = list(dict.fromkeys(current))
    return Diagram(xml, done, current, {i: nodes[i].name or i for i in done + current})


def _located(key: str, nodes: dict[str, _Node], called: dict[str, dict[str, _Node]]) -> list[str]:
    """The element ids that stand for a task key: itself, or the call activities whose called
    process contains it."""
    if key in nodes:
        return [key]
    return [n.id for n in nodes.values() if n.tag == "callActivity" and key in called.get(n.called or "", {})]


def _milestones(nodes: dict[str, _Node], message: str, status: str | None, last_task: str | None) -> list[str]:
    """The event a status change passed, found by id or name; among namesakes (two 不予受理 end events),
    the ones that follow the task completed last."""
    if message in nodes:
        return [message]
    named = [n for n in nodes.values() if n.name == message and n.tag.endswith("Event")]
    if len(named) > 1 and last_task:
        after = [n for n in named if last_task in _preceding_tasks(nodes, n)]
        named = after or named
    return [n.id for n in named]


def _preceding_tasks(nodes: dict[str, _Node], node: _Node, depth: int = 8) -> set[str]:
    """Tasks reached walking back along incoming flows through gateways and events."""
    found: set[str] = set()
    frontier, seen = list(node.incoming), set()
    for _ in range(depth):
        following = []
        for ident in frontier:
            if ident in seen or ident not in nodes:
                continue
            seen.add(ident)
            if nodes[ident].tag in TASK_TAGS:
                found.add(ident)
            else:
                following.extend(nodes[ident].incoming)
        frontier = following
    return found
