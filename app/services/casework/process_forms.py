"""The forms a process-definition version is deployed with.

At deploy: every `camunda:formKey` is taken from the files uploaded with the BPMN, else from the server's
`forms/` folder, and every task's inline `camunda:formData` is converted to a form-js form stored under
`inline:<task id>`; the texts are stored with the version. At run time a case reads its own version's
forms (and those of the called processes its version was pinned to), never the current folder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.parser import NSMAP, camunda_extensions
from app.engine.validate import Problem
from app.engine.xmlsafe import UnsafeXml, parse_xml
from app.forms import (
    FormDefinition,
    FormDefinitionError,
    form_from_camunda_fields,
    normalize_form_key,
    parse_form,
)
from app.forms.registry import MAX_FORM_FILE_BYTES
from app.models import ProcessDefinition
from app.models.process import ProcessForm
from app.services.context import ServiceContext

# human_tasks.form_key stays the formKey (other modules read it as a forms/ file name); a task without
# one finds its inline form under this prefix and its task key.
INLINE_PREFIX = "inline:"
MAX_FORM_FILES = 200

ErrorDetail = dict[str, Any]


def inline_key(task_id: str) -> str:
    """The stored key of a task's inline camunda:formData form."""
    return f"{INLINE_PREFIX}{task_id}"


def storage_key(form_key: str) -> str:
    """The key a task's form is stored under: `inline:<task id>` as it is, a formKey as its file name.

    :raises FormDefinitionError: a formKey that is not a safe file name.
    """
    return form_key if form_key.startswith(INLINE_PREFIX) else normalize_form_key(form_key)


def uploaded(forms: Mapping[str, bytes] | None) -> tuple[dict[str, str], list[ErrorDetail]]:
    """The uploaded form files as {file name a formKey names: JSON text}, and a problem for each file that
    is not a readable form-js form (naming the file, under `field: file`). Files no formKey names are
    checked too but not stored; `inline:<task>` entries are skipped (the BPMN's formData is the source)."""
    texts: dict[str, str] = {}
    problems: list[ErrorDetail] = []
    if forms and len(forms) > MAX_FORM_FILES:
        return {}, [{"field": "file", "message": f"at most {MAX_FORM_FILES} form files"}]
    for raw_name, raw in (forms or {}).items():
        if raw_name.startswith(INLINE_PREFIX):
            continue  # a version's inline form as read back (version_files): made again from the BPMN
        name = raw_name.replace("\\", "/").rsplit("/", 1)[-1]  # a formKey names a file, not a path
        try:
            key = normalize_form_key(name)
            if key in texts:
                raise FormDefinitionError("two form files have this name", form_key=key)
            texts[key] = _text(raw, key)
            parse_form(texts[key], key=key)
        except FormDefinitionError as exc:
            problems.append({"field": "file", "file": name, "message": str(exc)})
    return texts, problems


def _text(raw: bytes, key: str) -> str:
    if len(raw) > MAX_FORM_FILE_BYTES:
        raise FormDefinitionError(f"larger than {MAX_FORM_FILE_BYTES} bytes", form_key=key)
    try:
        return raw.decode("utf-8-sig")  # tolerate a BOM from Windows editors
    except UnicodeDecodeError as exc:
        raise FormDefinitionError(f"not UTF-8 text: {exc}", form_key=key) from None


def field_keys(ctx: ServiceContext, given: Mapping[str, str], form_key: str) -> set[str] | None:
    """The top-level field keys of a formKey's form (uploaded first, else in the folder), or None if
    there is no such readable form."""
    try:
        key = normalize_form_key(form_key)
        form = parse_form(given[key], key=key) if key in given else ctx.forms.get(key)
    except FormDefinitionError:
        return None
    return {k.split(".", 1)[0] for k in form.field_keys()}


def gather(ctx: ServiceContext, content: bytes, given: Mapping[str, str]) -> tuple[dict[str, str], list[Problem]]:
    """The forms to store with a linted BPMN file, {stored key: form-js JSON text}, and a problem (naming
    the task) for each form that cannot be stored."""
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for task_id, form_key in sorted(_form_keys(content).items()):
        try:
            key = normalize_form_key(form_key)
            texts[key] = given[key] if key in given else ctx.forms.read_text(key)
        except FormDefinitionError as exc:
            problems.append(Problem(task_id, f"form '{form_key}': {exc.reason}"))
    for task_id, fields in sorted(inline_fields(content).items()):
        try:
            form = form_from_camunda_fields(fields, form_id=f"inline-{task_id}")
            parse_form(form, key=inline_key(task_id))
        except FormDefinitionError as exc:
            problems.append(Problem(task_id, f"inline form fields (camunda:formData): {exc}"))
            continue
        texts[inline_key(task_id)] = json.dumps(form, ensure_ascii=False, sort_keys=True)
    return texts, problems


def digest(texts: Mapping[str, str]) -> str:
    """What the version hash adds for the forms: their keys and contents."""
    listed = sorted((key, hashlib.sha256(text.encode("utf-8")).hexdigest()) for key, text in texts.items())
    return json.dumps(listed)


def store(s: Session, definition_id: int, texts: Mapping[str, str]) -> None:
    for key, text in sorted(texts.items()):
        s.add(ProcessForm(definition_id=definition_id, form_key=key, content=text,
                          content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()))


def stored_texts(ctx: ServiceContext, s: Session, definition: ProcessDefinition) -> dict[str, str]:
    """{form key: JSON text} of a version; a version deployed before forms were stored with it lists its
    formKeys as read from the folder now (what its cases use)."""
    rows = s.execute(select(ProcessForm.form_key, ProcessForm.content)
                     .where(ProcessForm.definition_id == definition.id)).all()
    texts: dict[str, str] = {key: text for key, text in rows}
    for form_key in definition.forms or []:
        try:
            key = storage_key(form_key)
            if key not in texts and not key.startswith(INLINE_PREFIX):
                texts[key] = ctx.forms.read_text(key)
        except FormDefinitionError:
            continue
    return dict(sorted(texts.items()))


def form_of(ctx: ServiceContext, s: Session, definition_id: int, form_key: str) -> FormDefinition:
    """The form a task of a case on this version names: stored with the version or with a called process
    it was pinned to; the folder only for versions deployed before forms were stored with them.

    :raises FormDefinitionError: no such form, or one that no longer parses.
    """
    key = storage_key(form_key)
    form = _stored(ctx, s, definition_id, key)
    if form is not None:
        return form
    if key.startswith(INLINE_PREFIX):
        raise FormDefinitionError("not deployed with this process version", form_key=key)
    return ctx.forms.get(key)


def inline_form(ctx: ServiceContext, s: Session, definition_id: int, task_key: str) -> FormDefinition | None:
    """The inline camunda:formData form of a task without a formKey, None if it has none (a version
    deployed before forms were stored with it has none either: its inline steps take no data, as then).

    :raises FormDefinitionError: the stored form no longer parses.
    """
    return _stored(ctx, s, definition_id, inline_key(task_key))


def _stored(ctx: ServiceContext, s: Session, definition_id: int, key: str) -> FormDefinition | None:
    def load() -> str | None:
        ids = _with_called(s, definition_id)
        rows: dict[int, str] = {i: text for i, text in s.execute(
            select(ProcessForm.definition_id, ProcessForm.content)
            .where(ProcessForm.definition_id.in_(ids), ProcessForm.form_key == key))}
        return next((rows[i] for i in ids if i in rows), None)  # its own first, then the called ones

    return ctx.forms.stored(definition_id, key, load)


def _with_called(s: Session, definition_id: int) -> list[int]:
    """The definition and, transitively, the versions its call activities were pinned to."""
    ordered: list[int] = []
    pending = [definition_id]
    while pending:
        current = pending.pop(0)
        if current in ordered:
            continue
        ordered.append(current)
        called = s.scalar(select(ProcessDefinition.called).where(ProcessDefinition.id == current)) or {}
        pending.extend(int(v) for v in called.values())
    return ordered


def check(ctx: ServiceContext, content: bytes, filename: str) -> list[ErrorDetail]:
    """Problems of one form-js file, as a deploy would find them: [{"field" or "component", "message"}]."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload.form"
    try:
        form = parse_form(_text(content, name), key=name)
    except FormDefinitionError as exc:
        if exc.component:
            return [{"component": exc.component, "message": exc.reason}]
        return [{"field": "file", "message": exc.reason}]
    clash = sorted({k.split(".", 1)[0] for k in form.field_keys()} & ctx.engine.reserved_names)
    # Task data with these names would hide the helper from every script of the case.
    return [{"field": key, "message": "名称与脚本函数重名 / reserved for script helpers"} for key in clash]


def form_keys(content: bytes) -> set[str]:
    """The file names the formKeys of a BPMN file name (to pick the form files that go with it)."""
    keys: set[str] = set()
    for form_key in _form_keys(content).values():
        try:
            keys.add(normalize_form_key(form_key))
        except FormDefinitionError:
            continue  # the deploy check says why
    return keys


def _user_tasks(content: bytes) -> list[Any]:
    try:
        root = parse_xml(content).getroot()
    except UnsafeXml:
        return []
    return list(root.xpath("//bpmn:userTask", namespaces=NSMAP))


def _form_keys(content: bytes) -> dict[str, str]:
    """{task id: formKey} of the user tasks that name a form file."""
    found: dict[str, str] = {}
    for task in _user_tasks(content):
        key = camunda_extensions(task).get("formKey")
        if key and task.get("id"):
            found[str(task.get("id"))] = key
    return found


def inline_fields(content: bytes) -> dict[str, list[dict[str, Any]]]:
    """{task id: inline camunda:formData fields} of the user tasks without a formKey (a formKey wins, as
    in Camunda)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for task in _user_tasks(content):
        ext = camunda_extensions(task)
        if ext.get("formData") and not ext.get("formKey") and task.get("id"):
            found[str(task.get("id"))] = ext["formData"]
    return found


def task_forms(ctx: ServiceContext, s: Session, definition_id: int) -> dict[str, FormDefinition]:
    """{user task id: its form} for the steps of a version and of the processes it calls at their pinned
    versions, each read from the version the task belongs to (its formKey's form, else its inline
    fields). A form that cannot be read is left out: a page then shows that step's raw values. A task
    id found in both a caller and a called process keeps the caller's form."""
    found: dict[str, FormDefinition] = {}
    for current in reversed(_with_called(s, definition_id)):  # the version itself last, so its tasks win
        xml = s.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == current)) or ""
        found.update(_version_task_forms(ctx, s, current, xml.encode("utf-8")))
    return found


def _version_task_forms(ctx: ServiceContext, s: Session, definition_id: int, content: bytes
                        ) -> dict[str, FormDefinition]:
    found: dict[str, FormDefinition] = {}
    for task_id, form_key in _form_keys(content).items():
        try:
            found[task_id] = form_of(ctx, s, definition_id, form_key)
        except FormDefinitionError:
            continue
    for task_id in inline_fields(content):
        try:
            form = inline_form(ctx, s, definition_id, task_id)
        except FormDefinitionError:
            continue
        if form is not None:
            found[task_id] = form
    return found
