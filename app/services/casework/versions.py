"""The process catalogue of the design pages: every process key with its versions, who deployed them
and when, how many cases run or finished on each and which items use the key; one version's files; and
what the diagram diff in the browser cannot see between two versions (forms, properties, conditions).

Admins and designers only: the files hold every rule of a process, and the counts describe casework.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.engine.parser import NSMAP, camunda_extensions
from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.errors import Forbidden, ProcessNotFound
from app.models import FINAL_STATUSES, Case, Item, ProcessDefinition, User
from app.services.casework import processes
from app.services.context import ServiceContext
from app.services.identity.principal import Principal


@dataclass(frozen=True)
class VersionRow:
    id: int
    version: int
    name: str
    filename: str
    deployed_at: datetime
    deployed_by: str | None
    running: int
    finished: int


@dataclass(frozen=True)
class ItemRef:
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class ProcessEntry:
    key: str
    versions: list[VersionRow]  # newest first
    items: list[ItemRef]

    @property
    def latest(self) -> VersionRow:
        return self.versions[0]

    def version(self, number: int) -> VersionRow | None:
        return next((v for v in self.versions if v.version == number), None)


@dataclass(frozen=True)
class VersionFiles:
    key: str
    version: int
    filename: str
    bpmn: str
    forms: dict[str, str]  # {form key: form-js JSON text}


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    name: str
    changes: list[tuple[str, str, str]]  # (what, in a, in b)


@dataclass(frozen=True)
class VersionDiff:
    forms_added: list[str] = field(default_factory=list)
    forms_removed: list[str] = field(default_factory=list)
    forms_changed: list[str] = field(default_factory=list)
    elements: list[ElementChange] = field(default_factory=list)


def _allowed(principal: Principal) -> None:
    if not principal.has("admin", "designer"):
        raise Forbidden("无权查看流程定义 / not allowed to see process definitions")


def catalogue(ctx: ServiceContext, principal: Principal) -> list[ProcessEntry]:
    """Every deployed process key, by key, with its versions and the items bound to it.

    :raises Forbidden: not an admin or designer.
    """
    _allowed(principal)
    with ctx.uow() as uow:
        return _entries(uow.session, None)


def process(ctx: ServiceContext, principal: Principal, key: str) -> ProcessEntry:
    """One process key with its versions and items.

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: the key was never deployed.
    """
    _allowed(principal)
    with ctx.uow() as uow:
        entries = _entries(uow.session, key)
    if not entries:
        raise ProcessNotFound(f"process '{key}' is not deployed")
    return entries[0]


def _entries(s: Session, key: str | None) -> list[ProcessEntry]:
    final = case((Case.status.in_(FINAL_STATUSES), 1), else_=0)
    counts = (select(Case.process_definition_id.label("pid"), func.count().label("n"), func.sum(final).label("done"))
              .group_by(Case.process_definition_id).subquery())
    query = (select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
                    ProcessDefinition.filename, ProcessDefinition.deployed_at, User.username,
                    func.coalesce(counts.c.n, 0), func.coalesce(counts.c.done, 0))
             .outerjoin(User, User.id == ProcessDefinition.deployed_by_id)
             .outerjoin(counts, counts.c.pid == ProcessDefinition.id)
             .order_by(ProcessDefinition.key, ProcessDefinition.version.desc()))
    items_query = select(Item.process_key, Item.code, Item.name, Item.active).order_by(Item.code)
    if key is not None:
        query = query.where(ProcessDefinition.key == key)
        items_query = items_query.where(Item.process_key == key)
    versions: dict[str, list[VersionRow]] = defaultdict(list)
    for pid, k, number, name, filename, at, by, n, done in s.execute(query):
        versions[k].append(VersionRow(pid, number, name, filename, at, by, int(n) - int(done), int(done)))
    items: dict[str, list[ItemRef]] = defaultdict(list)
    for k, code, name, active in s.execute(items_query):
        items[k].append(ItemRef(code, name, bool(active)))
    return [ProcessEntry(k, rows, items.get(k, [])) for k, rows in versions.items()]


def files(ctx: ServiceContext, principal: Principal, key: str, version: int) -> VersionFiles:
    """The BPMN file and the forms one version was deployed with, exactly as stored.

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such key or version.
    """
    _allowed(principal)
    with ctx.uow() as uow:
        row = uow.session.execute(select(ProcessDefinition.id, ProcessDefinition.filename)
                                  .where(ProcessDefinition.key == key, ProcessDefinition.version == version)).first()
    if row is None:
        raise ProcessNotFound(f"process '{key}' has no version {version}")
    bpmn, forms = processes.version_files(ctx, principal, row.id)
    return VersionFiles(key, version, row.filename or f"{key}.bpmn", bpmn, dict(forms))


def form_keys(ctx: ServiceContext, principal: Principal, entry: ProcessEntry) -> dict[int, list[str]]:
    """{version: the keys of the forms it was deployed with}, for the download links."""
    return {v.version: sorted(files(ctx, principal, entry.key, v.version).forms) for v in entry.versions}


def archive(version_files: VersionFiles) -> bytes:
    """A zip of the version's BPMN file and its forms (a form key is a file name; an inline form of a
    task, `inline:<task>`, is written as `inline-<task>.form`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(version_files.filename, version_files.bpmn.encode("utf-8"))
        for form_key, text in sorted(version_files.forms.items()):
            name = form_key.replace(":", "-", 1) + ("" if form_key.endswith((".form", ".json")) else ".form")
            zf.writestr(f"forms/{name}", text.encode("utf-8"))
    return buffer.getvalue()


def compare(ctx: ServiceContext, principal: Principal, key: str, a: int, b: int) -> VersionDiff:
    """Forms added, removed or changed from version `a` to `b`, and per element the Camunda attributes,
    properties and conditions that changed (the browser's diagram diff compares the rest).

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such key or version.
    """
    old, new = files(ctx, principal, key, a), files(ctx, principal, key, b)
    return VersionDiff(
        forms_added=sorted(new.forms.keys() - old.forms.keys()),
        forms_removed=sorted(old.forms.keys() - new.forms.keys()),
        forms_changed=sorted(k for k in old.forms.keys() & new.forms.keys() if old.forms[k] != new.forms[k]),
        elements=_element_changes(_semantics(old.bpmn), _semantics(new.bpmn)),
    )


def _semantics(bpmn: str) -> dict[str, tuple[str, dict[str, str]]]:
    """{element id: (name, {what: value})} of the settings that decide how a case runs."""
    try:
        root = parse_xml(bpmn.encode("utf-8")).getroot()
    except UnsafeXml:
        return {}
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for node in root.iter(etree.Element):
        element_id = node.get("id")
        if not element_id or not str(node.tag).startswith(f"{{{NSMAP['bpmn']}}}"):
            continue
        found[element_id] = (node.get("name") or "", _settings(node))
    return found


def _settings(node: Any) -> dict[str, str]:
    settings: dict[str, str] = {}
    for what, value in camunda_extensions(node).items():
        if what == "properties":
            settings.update({f"property {k}": v for k, v in value.items()})
        elif what == "formData":
            settings["formData"] = "; ".join(f"{f['id']} ({f['type']})" for f in value)
        else:
            settings[what] = str(value)
    for child in ("conditionExpression", "script"):
        for text in node.xpath(f"./bpmn:{child}/text()", namespaces=NSMAP):
            settings[child] = str(text).strip()
    for timer in node.xpath("./bpmn:timerEventDefinition/*", namespaces=NSMAP):
        settings[f"timer {etree.QName(timer).localname}"] = (timer.text or "").strip()
    return settings


def _element_changes(old: dict[str, tuple[str, dict[str, str]]],
                     new: dict[str, tuple[str, dict[str, str]]]) -> list[ElementChange]:
    changes: list[ElementChange] = []
    for element_id in sorted(old.keys() & new.keys()):
        before, after = old[element_id][1], new[element_id][1]
        changed = [(what, before.get(what, ""), after.get(what, ""))
                   for what in sorted(before.keys() | after.keys()) if before.get(what) != after.get(what)]
        if changed:
            changes.append(ElementChange(element_id, new[element_id][0] or old[element_id][0], changed))
    return changes
