"""The rules an item revision is checked against on every save and again at publishing (the process,
the groups or the other items may have changed in between). Each broken rule names its field."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.errors import ProcessNotFound
from app.forms import FormDefinitionError
from app.models import Group, Item, ProcessDefinition
from app.services.admin import item_files
from app.services.casework.items import Errors, basic_errors
from app.services.casework.process_forms import form_of
from app.services.casework.processes import latest_definition
from app.services.context import ServiceContext

# `${department}.approver`: a group per co-approving department, chosen when the case runs.
GROUP_PATTERN = re.compile(r"^\$\{\s*([A-Za-z_]\w*)\s*\}\.([A-Za-z_][\w-]*)$")


def check(ctx: ServiceContext, s: Session, snapshot: dict[str, Any], code: str) -> tuple[dict[str, Any], Errors]:
    """The snapshot with its file references re-read from the stored bytes, and every broken rule."""
    errors = basic_errors(ctx, s, snapshot)
    errors += _prefix(s, snapshot["case_prefix"], code)
    errors += _thresholds(snapshot)
    if not any(e["field"] == "process_key" for e in errors):
        errors += routing(ctx, s, snapshot)
    snapshot, file_errors = _files(ctx, snapshot)
    return snapshot, errors + file_errors


def _prefix(s: Session, prefix: str, code: str) -> Errors:
    other = s.scalar(select(Item.code).where(Item.case_prefix == prefix, Item.code != code).limit(1))
    if other is None:
        return []
    return [{"field": "case_prefix", "message": f"受理编号前缀已被事项 {other} 使用 / prefix already used by {other}"}]


def _thresholds(snapshot: dict[str, Any]) -> Errors:
    days = snapshot.get("yellow_days")
    if days is not None and snapshot["promised_limit"] and days >= snapshot["promised_limit"]:
        return [{"field": "yellow_days", "message": "预警天数应小于承诺时限 / must be less than the promised limit"}]
    return []


def routing(ctx: ServiceContext, s: Session, snapshot: dict[str, Any]) -> Errors:
    """Every form the latest version of the process (and the versions it calls) names can be read, and
    every group it routes to exists: literal groups, and `${var}.role` for each co-approving department."""
    try:
        definition = latest_definition(s, snapshot["process_key"])
    except ProcessNotFound:
        return [{"field": "process_key", "message": "流程未部署 / process not deployed"}]
    groups = set(s.scalars(select(Group.name)))
    errors: Errors = []
    for definition_id, xml in _versions(s, definition.id):
        for task in _user_tasks(xml):
            errors += _task_form(ctx, s, definition_id, task)
            errors += _task_groups(task, groups, snapshot)
    return list({e["message"]: e for e in errors}.values())


def _task_form(ctx: ServiceContext, s: Session, definition_id: int, task: Any) -> Errors:
    form_key = _attribute(task, "formKey")
    if not form_key:
        return []
    try:
        form_of(ctx, s, definition_id, form_key)
    except FormDefinitionError:
        return [{"field": "process_key", "message": f"流程步骤“{task.get('name') or task.get('id')}”的表单 "
                 f"{form_key} 无法读取 / the form of a step cannot be read"}]
    return []


def _task_groups(task: Any, groups: set[str], snapshot: dict[str, Any]) -> Errors:
    step = task.get("name") or task.get("id")
    errors: Errors = []
    for entry in (g.strip() for g in (_attribute(task, "candidateGroups") or "").split(",") if g.strip()):
        pattern = GROUP_PATTERN.match(entry)
        if pattern is not None:
            role = pattern.group(2)
            if not snapshot["departments"]:
                errors.append({"field": "departments", "message": f"流程步骤“{step}”按协办部门分派（{entry}），"
                               "但未选择协办部门 / the process routes to co-approving departments: choose them"})
            errors += [{"field": "departments", "message": f"部门 {d} 没有用户组 {d}.{role}（流程步骤“{step}”）"
                        f" / no group {d}.{role}"} for d in snapshot["departments"] if f"{d}.{role}" not in groups]
        elif "${" not in entry and entry not in groups:  # a plain variable is only known when the case runs
            errors.append({"field": "process_key", "message": f"流程步骤“{step}”分派给不存在的用户组 {entry}"
                           f" / the process routes to an unknown group {entry}"})
    return errors


def _versions(s: Session, definition_id: int) -> list[tuple[int, str]]:
    """(id, BPMN XML) of the definition and, transitively, the versions its call activities pinned."""
    found: dict[int, str] = {}
    pending = [definition_id]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        d = s.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.bpmn_xml))
                     .where(ProcessDefinition.id == current))
        if d is None:
            continue
        found[current] = d.bpmn_xml
        pending.extend(int(v) for v in (d.called or {}).values())
    return list(found.items())


def _user_tasks(xml: str) -> list[Any]:
    try:
        root = parse_xml(xml.encode("utf-8")).getroot()
    except UnsafeXml:
        return []
    return list(root.xpath("//*[local-name()='userTask']"))


def _attribute(node: Any, name: str) -> str:
    for key, value in node.attrib.items():
        if key.rsplit("}", 1)[-1] == name:
            return str(value).strip()
    return ""


def _files(ctx: ServiceContext, snapshot: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    errors: Errors = []
    materials = []
    for i, material in enumerate(snapshot["materials"]):
        material = dict(material)
        for kind in ("template", "sample"):
            material[kind], problems = item_files.checked(ctx, material.get(kind), f"materials.{i}.{kind}")
            errors += problems
        materials.append(material)
    result, problems = item_files.checked(ctx, snapshot.get("result_sample_file"), "result_sample_file")
    return {**snapshot, "materials": materials, "result_sample_file": result}, errors + problems
