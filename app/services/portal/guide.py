"""The service guide (DB4201/T 571 §5.1.1.2): the catalogue, one item's guide, its process steps."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.errors import ItemNotFound, NotFound
from app.models import (
    TYPE_CODES,
    Department,
    Item,
    ProcessDefinition,
)
from app.services.admin import item_files
from app.services.casework.items import item_view
from app.services.casework.processes import latest_definition
from app.services.context import ServiceContext


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
        guide["materials"] = guide_materials(item)
        guide["result_sample_file"] = (item.guide or {}).get("result_sample_file") or None
        guide["type_name"] = TYPE_CODES.get(item.type_code, item.type_code)
        guide["steps"] = process_steps(_process_xml(s, item))
        names = dict(s.execute(select(Department.code, Department.name)
                               .where(Department.code.in_(item.departments or []))).all())
        guide["department_names"] = [names.get(c, c) for c in item.departments or []]
        return guide


def guide_materials(item: Item) -> list[dict[str, Any]]:
    """The published materials with their template and sample files (references, or None)."""
    return [{"index": i, "name": str(m.get("name")), "required": bool(m.get("required")),
             "description": str(m.get("description") or ""), "template": _ref(m.get("template")),
             "sample": _ref(m.get("sample")), "licence_type": str(m.get("licence_type") or "") or None}
            for i, m in enumerate(item.materials or []) if isinstance(m, dict) and m.get("name")]


def guide_file(ctx: ServiceContext, code: str, sha256: str) -> tuple[dict[str, Any], Path]:
    """A template or sample file the published revision of an active item offers (public, like the
    guide); drafts' files and withdrawn items' files are not.

    :raises NotFound:
    """
    with ctx.uow() as uow:
        item = uow.session.scalar(select(Item).where(Item.code == code, Item.active.is_(True)))
        published = {"materials": item.materials, "result_sample_file": (item.guide or {}).get("result_sample_file")
                      } if item is not None else {}
    ref = next((r for r in item_files.refs(published) if r["sha256"] == sha256), None)
    path = item_files.store_for(ctx).path(sha256) if ref is not None else None
    if ref is None or path is None or not path.is_file():
        raise NotFound("文件不存在 / file not found")
    return ref, path


def _ref(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value.get("sha256") else None


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
