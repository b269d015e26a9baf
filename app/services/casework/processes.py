"""Deploying BPMN files as immutable process-definition versions, and loading their specs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from app.engine.specs import BpmnSource, SpecBundle
from app.engine.validate import LintResult, Problem, lint
from app.engine.xmlsafe import UnsafeXml, XmlEncodingError, clean_bpmn, parse_xml
from app.errors import Conflict, Forbidden, InvalidProcess, ProcessNotFound
from app.models import Case, ProcessDefinition, User
from app.services import audit
from app.services.casework import process_forms
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


def lint_file(ctx: ServiceContext, content: bytes, filename: str, others: Sequence[BpmnSource] = (),
              forms: Mapping[str, bytes] | None = None) -> LintResult:
    """Check a BPMN file as a deploy would, without deploying it; processes defined in `others` (files
    checked together) count as deployed, and `forms` (file name -> bytes) go with the file as in `deploy`."""
    try:
        content = clean_bpmn(content)
    except XmlEncodingError as exc:
        return LintResult(problems=[Problem(None, str(exc))])
    others = [BpmnSource(o.filename, _cleaned(o.content)) for o in others]  # so this file is known among them
    given, bad = process_forms.uploaded(forms)
    with ctx.uow() as uow:
        result = _lint(ctx, uow.session, content, filename, others, given)
    result.problems.extend(Problem(None, str(p["message"])) for p in bad)
    if result.ok:
        result.problems.extend(process_forms.gather(ctx, content, given)[1])
    return result


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


def deploy(ctx: ServiceContext, principal: Principal | None, content: bytes, filename: str,
           forms: Mapping[str, bytes] | None = None) -> list[DeployedVersion]:
    """Deploy every executable process in a BPMN file with its forms; unchanged content (the BPMN and
    every form) keeps its version. The file is stored as UTF-8 text without foreign-namespace elements
    (see `clean_bpmn`), and that is what is checked, hashed and run.

    `forms` maps form file names to their bytes; a formKey not among them is taken from the server's
    forms/ folder. Either way the form is stored with the new version, as is every task's inline
    camunda:formData (converted to form-js), so its cases never depend on the folder.
    `principal` None means a trusted caller (the CLI).
    :raises Forbidden: not an admin or designer.
    :raises InvalidProcess: the file fails validation (details name the elements; a missing form names
        the task and the form key), a form file is not a form (the detail names the file), or the
        encoding cannot be read (the detail names the field `file`).
    """
    if principal is not None and not principal.has("admin", "designer"):
        raise Forbidden("只有管理员或流程设计人员可以部署流程 / only admins and designers may deploy")
    if len(content) > ctx.max_bpmn_bytes:
        raise InvalidProcess("file too large", [{"field": "file", "message": f"at most {ctx.max_bpmn_bytes} bytes"}])
    content = _readable(content)
    given, bad = process_forms.uploaded(forms)
    if bad:
        raise InvalidProcess("表单文件无效 / a form file is not a valid form-js form", bad)
    with ctx.uow(write=True) as uow:
        s = uow.session
        result = _lint(ctx, s, content, filename, forms=given)
        texts, problems = process_forms.gather(ctx, content, given) if result.ok else ({}, [])
        result.problems.extend(problems)
        if not result.ok:
            raise InvalidProcess("BPMN 校验失败 / the BPMN file is not deployable",
                                 [p.as_dict() for p in result.problems])
        content_hash = _version_hash(content, texts)
        called = {key: _latest(s, key).id for key in sorted(result.called)}  # type: ignore[union-attr]
        deployed = [_deploy_one(ctx, s, principal, key, name, content, filename, content_hash, texts, called)
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


def _version_hash(content: bytes, forms: Mapping[str, str]) -> str:
    """The BPMN and its forms: a changed form is a new version. A file without forms hashes as before
    forms were stored, so redeploying it is no new version."""
    if not forms:
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha256(content + b"\0forms\0" + process_forms.digest(forms).encode()).hexdigest()


def _deploy_one(ctx: ServiceContext, s: Session, principal: Principal | None, key: str, name: str,
                content: bytes, filename: str, content_hash: str, forms: Mapping[str, str],
                called: dict[str, int]) -> DeployedVersion:
    latest = _latest(s, key)
    if latest is not None and latest.content_hash == content_hash:
        return DeployedVersion(latest.id, key, latest.version, latest.name, created=False)
    now = ctx.clock.now()
    definition = ProcessDefinition(
        key=key, version=(latest.version + 1) if latest else 1, name=name, filename=filename,
        content_hash=content_hash, bpmn_xml=content.decode("utf-8"), forms=sorted(forms),
        called=called, deployed_by_id=principal.id if principal else None, deployed_at=now)
    s.add(definition)
    s.flush()
    process_forms.store(s, definition.id, forms)
    audit.record(s, principal, now, "process.deploy", "process", key,
                 f"部署 {key} v{definition.version}（{filename}）/ deployed {key} version {definition.version}",
                 {"version": latest.version} if latest else None,
                 {"version": definition.version, "definition_id": definition.id, "filename": filename,
                  "content_hash": content_hash, "forms": sorted(forms)})
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


def version_files(ctx: ServiceContext, principal: Principal, definition_id: int) -> tuple[str, dict[str, str]]:
    """A version as deployed: its BPMN XML and {form key: form-js JSON text} (inline camunda:formData
    under `inline:<task id>`).

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such definition.
    """
    if not principal.has("admin", "designer"):
        raise Forbidden("无权查看流程定义 / not allowed to see process definitions")
    with ctx.uow() as uow:
        s = uow.session
        definition = s.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.bpmn_xml))
                              .where(ProcessDefinition.id == definition_id))
        if definition is None:
            raise ProcessNotFound(f"process definition {definition_id} is missing")
        return definition.bpmn_xml, process_forms.stored_texts(ctx, s, definition)


def version_form(ctx: ServiceContext, principal: Principal, key: str, version: int, form_key: str) -> str:
    """One form (JSON text) of a version of a process, as deployed with it.

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such version or form.
    """
    with ctx.uow() as uow:
        definition_id = uow.session.scalar(select(ProcessDefinition.id).where(
            ProcessDefinition.key == key, ProcessDefinition.version == version))
    if definition_id is None:
        raise ProcessNotFound(f"process '{key}' has no version {version}")
    texts = version_files(ctx, principal, definition_id)[1]
    if form_key not in texts:
        raise ProcessNotFound(f"version {version} of '{key}' has no form '{form_key}'")
    return texts[form_key]


def check_form(ctx: ServiceContext, content: bytes, filename: str) -> list[dict[str, Any]]:
    """Problems of one form-js file as a deploy would find them, [{"field" or "component", "message"}];
    empty when it would deploy."""
    return process_forms.check(ctx, content, filename)


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
          others: Sequence[BpmnSource] = (), forms: Mapping[str, str] | None = None) -> LintResult:
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
    given = forms or {}
    return lint(BpmnSource(filename, content), known, lambda key: process_forms.field_keys(ctx, given, key),
                ctx.engine.reserved_names, max_loop_instances=ctx.engine.max_loop_instances)


def form_field_keys(ctx: ServiceContext, form_key: str) -> set[str] | None:
    """The top-level field keys of a form in the forms/ folder, or None if it does not exist or cannot be
    read."""
    return process_forms.field_keys(ctx, {}, form_key)


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
