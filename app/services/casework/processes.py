"""Deploying BPMN files as immutable process-definition versions, and loading their specs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from app.engine.specs import BpmnSource, SpecBundle
from app.engine.validate import LintResult, Problem, lint
from app.engine.xmlsafe import UnsafeXml, XmlEncodingError, clean_bpmn, parse_xml
from app.errors import Conflict, Forbidden, InvalidProcess, ProcessNotFound
from app.forms import FormDefinitionError
from app.models import Case, ProcessDefinition, User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal


@dataclass(frozen=True)
class DeployedVersion:
    id: int
    key: str
    version: int
    name: str
    created: bool


@dataclass(frozen=True)
class VersionInfo:
    id: int
    key: str
    version: int
    name: str
    filename: str
    content_hash: str
    deployed_at: datetime
    deployed_by: str | None
    case_count: int


def lint_file(ctx: ServiceContext, content: bytes, filename: str,
              others: Sequence[BpmnSource] = ()) -> LintResult:
    """Check a BPMN file as a deploy would, without deploying it; processes defined in `others` (files
    checked together) count as deployed."""
    try:
        content = clean_bpmn(content)
    except XmlEncodingError as exc:
        return LintResult(problems=[Problem(None, str(exc))])
    others = [BpmnSource(o.filename, _cleaned(o.content)) for o in others]  # so this file is known among them
    with ctx.uow() as uow:
        return _lint(ctx, uow.session, content, filename, others)


def _cleaned(content: bytes) -> bytes:
    try:
        return clean_bpmn(content)
    except XmlEncodingError:
        return content  # its own lint says why


def deploy_order(paths: Sequence[Path]) -> list[Path]:
    """Files ordered so that a file defining a called process comes before the files calling it."""
    defines: dict[Path, set[str]] = {}
    calls: dict[Path, set[str]] = {}
    for path in paths:
        ids, called = _ids_and_calls(path.read_bytes())
        defines[path], calls[path] = ids, called - ids
    ordered: list[Path] = []
    remaining = list(paths)
    while remaining:
        ready = [p for p in remaining if not any(
            calls[p] & defines[q] for q in remaining if q != p)] or remaining[:1]  # a cycle: keep going
        for path in ready:
            ordered.append(path)
            remaining.remove(path)
    return ordered


def deploy(ctx: ServiceContext, principal: Principal | None, content: bytes, filename: str
           ) -> list[DeployedVersion]:
    """Deploy every executable process in a BPMN file; unchanged content keeps its version. The file is
    stored as UTF-8 text without foreign-namespace elements (see `clean_bpmn`), and that is what is
    checked, hashed and run.

    `principal` None means a trusted caller (the CLI).
    :raises Forbidden: not an admin or designer.
    :raises InvalidProcess: the file fails validation (details name the elements) or its encoding
        cannot be read (the detail names the field `file`).
    """
    if principal is not None and not principal.has("admin", "designer"):
        raise Forbidden("只有管理员或流程设计人员可以部署流程 / only admins and designers may deploy")
    if len(content) > ctx.max_bpmn_bytes:
        raise InvalidProcess("file too large", [{"field": "file", "message": f"at most {ctx.max_bpmn_bytes} bytes"}])
    content = _readable(content)
    with ctx.uow(write=True) as uow:
        s = uow.session
        result = _lint(ctx, s, content, filename)
        if not result.ok:
            raise InvalidProcess("BPMN 校验失败 / the BPMN file is not deployable",
                                 [p.as_dict() for p in result.problems])
        content_hash = hashlib.sha256(content).hexdigest()
        called = {key: _latest(s, key).id for key in sorted(result.called)}  # type: ignore[union-attr]
        deployed = [_deploy_one(ctx, s, principal, key, name, content, filename, content_hash, result, called)
                    for key, name in result.processes]
        try:
            uow.commit()
        except IntegrityError as exc:  # another deploy of the same key won the race for the version
            raise Conflict("同一流程正在被并发部署，请重试 / concurrent deploy of the same process, retry") from exc
        return deployed


def _readable(content: bytes) -> bytes:
    try:
        return clean_bpmn(content)
    except XmlEncodingError as exc:
        raise InvalidProcess("无法读取文件编码 / the file's encoding cannot be read",
                             [{"field": "file", "message": str(exc)}]) from exc


def _deploy_one(ctx: ServiceContext, s: Session, principal: Principal | None, key: str, name: str,
                content: bytes, filename: str, content_hash: str, result: LintResult,
                called: dict[str, int]) -> DeployedVersion:
    latest = _latest(s, key)
    if latest is not None and latest.content_hash == content_hash:
        return DeployedVersion(latest.id, key, latest.version, latest.name, created=False)
    definition = ProcessDefinition(
        key=key, version=(latest.version + 1) if latest else 1, name=name, filename=filename,
        content_hash=content_hash, bpmn_xml=content.decode("utf-8"), forms=sorted(result.forms),
        called=called, deployed_by_id=principal.id if principal else None, deployed_at=ctx.clock.now())
    s.add(definition)
    s.flush()
    return DeployedVersion(definition.id, key, definition.version, name, created=True)


def list_versions(ctx: ServiceContext, principal: Principal, key: str) -> list[VersionInfo]:
    """All versions of a process, newest first, with how many cases run on each.

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such key.
    """
    if not principal.has("admin", "designer"):
        raise Forbidden("无权查看流程定义 / not allowed to see process definitions")
    with ctx.uow() as uow:
        counts = (select(Case.process_definition_id, func.count().label("n"))
                  .group_by(Case.process_definition_id).subquery())
        rows = uow.session.execute(
            select(ProcessDefinition, User.username, func.coalesce(counts.c.n, 0))
            .outerjoin(User, User.id == ProcessDefinition.deployed_by_id)
            .outerjoin(counts, counts.c.process_definition_id == ProcessDefinition.id)
            .where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())).all()
        if not rows:
            raise ProcessNotFound(f"process '{key}' is not deployed")
        return [VersionInfo(d.id, d.key, d.version, d.name, d.filename, d.content_hash, d.deployed_at, user, n)
                for d, user, n in rows]


def latest_definition(session: Session, key: str) -> ProcessDefinition:
    """:raises ProcessNotFound: the key has never been deployed."""
    definition = _latest(session, key)
    if definition is None:
        raise ProcessNotFound(f"process '{key}' is not deployed")
    return definition


def bundle_for(ctx: ServiceContext, session: Session, definition_id: int) -> SpecBundle:
    """The parsed spec of a definition (and its pinned called processes), from the cache if possible:
    a hit costs no query at all."""

    def load() -> tuple[str, list[BpmnSource]]:
        key = session.scalar(select(ProcessDefinition.key).where(ProcessDefinition.id == definition_id))
        if key is None:
            raise ProcessNotFound(f"process definition {definition_id} is missing")
        return key, _sources(session, definition_id)

    return ctx.specs.get(f"definition:{definition_id}", load)


def _sources(session: Session, definition_id: int) -> list[BpmnSource]:
    sources: dict[int, BpmnSource] = {}
    pending = [definition_id]
    while pending:  # the definition and, transitively, the versions its call activities were pinned to
        current = pending.pop()
        if current in sources:
            continue
        d = session.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.bpmn_xml))
                           .where(ProcessDefinition.id == current))
        if d is None:
            raise ProcessNotFound(f"process definition {current} is missing")
        sources[current] = BpmnSource(d.filename or f"{d.key}.bpmn", d.bpmn_xml.encode("utf-8"))
        pending.extend(int(v) for v in d.called.values())
    unique = {s.sha256: s for s in sources.values()}
    return list(unique.values())


def _lint(ctx: ServiceContext, s: Session, content: bytes, filename: str,
          others: Sequence[BpmnSource] = ()) -> LintResult:
    known: dict[str, BpmnSource] = {}
    _ids, called_keys = _ids_and_calls(content)
    for other in others:
        if other.content != content:
            for pid in _ids_and_calls(other.content)[0] & called_keys:
                known[pid] = other
    for key in called_keys - known.keys():
        definition = _latest(s, key)
        if definition is None:
            continue
        own, *dependencies = _sources(s, definition.id)
        known[key] = own
        for i, source in enumerate(dependencies):  # what the called process calls in turn
            known[f"{key}#{i}"] = source
    return lint(BpmnSource(filename, content), known, lambda key: form_field_keys(ctx, key),
                ctx.engine.reserved_names, max_loop_instances=ctx.engine.max_loop_instances)


def form_field_keys(ctx: ServiceContext, form_key: str) -> set[str] | None:
    """The top-level field keys of a form, or None if it does not exist or cannot be read."""
    if not ctx.forms.exists(form_key):
        return None
    try:
        return {k.split(".", 1)[0] for k in ctx.forms.get(form_key).field_keys()}
    except FormDefinitionError:
        return None


def _ids_and_calls(content: bytes) -> tuple[set[str], set[str]]:
    """The process ids a file defines and the process ids its call activities name."""
    try:
        root = parse_xml(content).getroot()
    except UnsafeXml:
        return set(), set()
    ids = {str(v) for v in root.xpath("//*[local-name()='process']/@id")}
    calls = {str(v) for v in root.xpath("//*[local-name()='callActivity']/@calledElement") if v}
    return ids, calls


def _latest(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                          .order_by(ProcessDefinition.version.desc()).limit(1))
