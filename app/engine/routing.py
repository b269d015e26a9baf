"""Who a BPMN file offers its user tasks to, read from the XML as designers wrote it (no workflow is run):
for each user task its `camunda:` routing attributes and its lane, and which processes each process
calls. The organisation pages resolve `${...}` expressions against the items that use a process."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .parser import BPMN_NS, CAMUNDA_NS, NSMAP
from .xmlsafe import parse_xml


@dataclass(frozen=True)
class TaskRoute:
    process_id: str
    task_id: str
    task_name: str
    candidate_groups: str | None  # as written, e.g. "market.clerk" or "${department}.approver"
    candidate_users: str | None
    assignee: str | None
    lane: str | None  # the name of the lane holding the task (or the sub-process around it)


@dataclass(frozen=True)
class ProcessRoutes:
    process_id: str
    name: str
    tasks: tuple[TaskRoute, ...]
    calls: tuple[str, ...]  # calledElement of every call activity, in document order


def read_routes(bpmn_xml: bytes | str) -> dict[str, ProcessRoutes]:
    """Every process of the file by id, with its user tasks' routing.

    :raises UnsafeXml: the XML cannot be read safely.
    """
    root = parse_xml(bpmn_xml).getroot()
    out: dict[str, ProcessRoutes] = {}
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        pid = process.get("id") or ""
        lanes = _lanes(process)
        tasks = tuple(_route(pid, task, lanes) for task in process.iter(f"{{{BPMN_NS}}}userTask"))
        calls = tuple(c.get("calledElement") or "" for c in process.iter(f"{{{BPMN_NS}}}callActivity")
                      if c.get("calledElement"))
        out[pid] = ProcessRoutes(pid, process.get("name") or pid, tasks, calls)
    return out


def _lanes(process: etree._Element) -> dict[str, str]:
    """Flow node id -> lane name (the innermost lane wins: child lane sets are read last)."""
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NSMAP):
        name = (lane.get("name") or "").strip()
        for ref in lane.iterfind("./bpmn:flowNodeRef", NSMAP):
            if name and ref.text:
                lanes[ref.text.strip()] = name
    return lanes


def _route(process_id: str, task: etree._Element, lanes: dict[str, str]) -> TaskRoute:
    task_id = task.get("id") or ""
    return TaskRoute(process_id, task_id, (task.get("name") or task_id).strip(),
                     _attr(task, "candidateGroups"), _attr(task, "candidateUsers"), _attr(task, "assignee"),
                     _lane_of(task, lanes))


def _lane_of(task: etree._Element, lanes: dict[str, str]) -> str | None:
    """A task inside a sub-process sits in the lane of the sub-process: lanes list top-level nodes."""
    node: etree._Element | None = task
    while node is not None and node.tag != f"{{{BPMN_NS}}}process":
        lane = lanes.get(node.get("id") or "")
        if lane:
            return lane
        node = node.getparent()
    return None


def _attr(task: etree._Element, name: str) -> str | None:
    value = (task.get(f"{{{CAMUNDA_NS}}}{name}") or "").strip()
    return value or None
