"""Who does what: the user-task steps of the latest version of each deployed process that offer work to
a group: named literally in `camunda:candidateGroups`, reached by an expression such as
`${department}.approver` for the items that use the process, or through the lane the step sits in."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.engine.routing import ProcessRoutes, TaskRoute, read_routes
from app.engine.xmlsafe import UnsafeXml
from app.models import Group, Item, ProcessDefinition
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from .groups_admin import members
from .organisation import GroupRow, load, require_admin

_VAR = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")

# The values the case variables that route work take, for an item and the group asked about. They are
# set by the services, not by designers: `department` per parallel-approval instance (the item's
# handling departments), `extension_group` = `<department>.head` (timelimits.clock_actions), and
# `window_group` = the recording window clerk's own `*.clerk` group (casework.cases), any clerk group.
CASE_VARIABLES: dict[str, Callable[[Item, str], list[str]]] = {
    "department": lambda item, group: item.handling_departments,
    "extension_group": lambda item, group: [f"{d}.head" for d in item.handling_departments],
    "window_group": lambda item, group: [group] if group.endswith(".clerk") else [],
}


@dataclass(frozen=True)
class Assignment:
    process_key: str
    process_name: str
    version: int
    task_id: str
    task_name: str
    via: str  # "candidateGroups" (named), "expression" or "lane"
    expression: str  # what the model says, e.g. "${department}.approver"
    items: tuple[tuple[str, str], ...]  # (code, name) of the items through which the step reaches the group


@dataclass(frozen=True)
class GroupAssignments:
    group: GroupRow
    steps: tuple[Assignment, ...]
    unreadable: tuple[str, ...]  # process keys whose stored BPMN could not be read


def group_assignments(ctx: ServiceContext, principal: Principal, group_id: int) -> GroupAssignments:
    """:raises Forbidden: not an admin. :raises OrganisationNotFound: no such group."""
    require_admin(principal)
    with ctx.uow() as uow:
        s = uow.session
        group: Group = load(s, Group, group_id, "用户组 / group")
        row = GroupRow.of(group, members(s, group.id))
        latest, unreadable = _latest_routes(s)
        items = _items_by_process(s, latest)
        steps = [a for key, (d, routes) in sorted(latest.items())
                 for task in routes.tasks for a in _match(d, routes, task, group.name, items.get(key, []))]
    return GroupAssignments(row, tuple(steps), tuple(unreadable))


def _latest_routes(s: Session) -> tuple[dict[str, tuple[ProcessDefinition, ProcessRoutes]], list[str]]:
    newest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v")).group_by(
        ProcessDefinition.key).subquery()
    definitions = s.scalars(select(ProcessDefinition).join(
        newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.v)))
    out: dict[str, tuple[ProcessDefinition, ProcessRoutes]] = {}
    unreadable: list[str] = []
    for d in definitions:
        routes = _routes(d.id, d.content_hash, lambda d=d: d.bpmn_xml).get(d.key)  # type: ignore[misc]
        if routes is None:
            unreadable.append(d.key)
        else:
            out[d.key] = (d, routes)
    return out, unreadable


@functools.lru_cache(maxsize=256)
def _cached(definition_id: int, content_hash: str, xml: str) -> dict[str, ProcessRoutes] | None:
    del definition_id, content_hash  # part of the key only: a version's content never changes
    try:
        return read_routes(xml)
    except UnsafeXml:
        return None


def _routes(definition_id: int, content_hash: str, xml: Callable[[], str]) -> dict[str, ProcessRoutes]:
    return _cached(definition_id, content_hash, xml()) or {}


def _items_by_process(s: Session, latest: dict[str, tuple[ProcessDefinition, ProcessRoutes]]) -> dict[str, list[Item]]:
    """Items per process key, counting the items of every process that calls it (issuance serves the
    items of the processes that call it)."""
    own: dict[str, list[Item]] = {}
    for item in s.scalars(select(Item).options(selectinload(Item.department)).order_by(Item.code)):
        own.setdefault(item.process_key, []).append(item)
    callers: dict[str, set[str]] = {}
    for key, (_, routes) in latest.items():
        for called in routes.calls:
            callers.setdefault(called, set()).add(key)
    return {key: _with_callers(key, own, callers) for key in latest}


def _with_callers(key: str, own: dict[str, list[Item]], callers: dict[str, set[str]]) -> list[Item]:
    seen, todo, items = {key}, [key], list[Item]()
    while todo:
        current = todo.pop()
        items.extend(i for i in own.get(current, []) if i not in items)
        for caller in sorted(callers.get(current, ())):
            if caller not in seen:
                seen.add(caller)
                todo.append(caller)
    return items


def _match(d: ProcessDefinition, routes: ProcessRoutes, task: TaskRoute, group: str,
           items: list[Item]) -> Iterable[Assignment]:
    def found(via: str, expression: str, through: list[Item]) -> Assignment:
        return Assignment(d.key, routes.name or d.name, d.version, task.task_id, task.task_name, via, expression,
                          tuple((i.code, i.name) for i in through))

    parts = [p.strip() for p in (task.candidate_groups or "").split(",") if p.strip()]
    for part in parts:
        if "${" not in part:
            if part == group:
                yield found("candidateGroups", part, items)
            continue
        through = [i for i in items if group in _expand(part, i, group)]
        if through:
            yield found("expression", part, through)
    if not (parts or task.candidate_users or task.assignee) and task.lane == group:
        yield found("lane", task.lane, items)


def _expand(template: str, item: Item, group: str) -> set[str]:
    """Every value the template takes for this item; empty if it uses a variable we cannot know."""
    names = list(dict.fromkeys(_VAR.findall(template)))
    if any(n not in CASE_VARIABLES for n in names):
        return set()
    choices = [CASE_VARIABLES[n](item, group) for n in names]
    out = set()
    for combo in itertools.product(*choices):
        values = dict(zip(names, combo, strict=True))
        out.add(_VAR.sub(lambda m, values=values: values[m.group(1)], template))  # type: ignore[misc]
    return out
